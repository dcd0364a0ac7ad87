"""The doctor's report for people (a table), for programs (JSON, format 1) and for code
scanning (SARIF 2.1.0): the same results, the same check ids."""
from __future__ import annotations

import hashlib
from pathlib import Path

import click

from pitfall_lab.catalogue import scenario
from pitfall_lab.doctor import Report, gate, registry
from pitfall_lab.doctor.registry import Level

FORMAT = 1
COLOUR = {registry.FOUND: "red", registry.NOT_FOUND: "green", registry.NOT_APPLICABLE: None,
          registry.COULD_NOT: "yellow"}
COULD_NOT_LOAD = "could-not-load"  # the SARIF rule of the one result that is no check's
SARIF_LEVEL = {Level.ERROR: "error", Level.WARNING: "warning", Level.INFO: "note"}


def table(report: Report, gated: gate.Gated, show_silenced: bool = False) -> str:
    silenced = {id(r): why for r, why in gated.silenced}
    known = {id(r) for r in gated.known}
    lines = [f"pitfall-lab doctor {report.root}", app_line(report),
             f"database: {report.database} (every engine the app creates is redirected there; "
             "connections opened without SQLAlchemy are not)", environment_line(report),
             network_line(report), copy_line(report), ""]
    for r in report.results:
        if id(r) in silenced and not show_silenced:
            continue
        verdict = ("silenced" if id(r) in silenced else "in baseline" if id(r) in known
                   else r.verdict)
        colour = COLOUR.get(verdict) if verdict == r.verdict else None
        where = f"  {r.location[0]}:{r.location[1]}" if r.location else ""
        lines.append(f"{r.check.code:<5}"
                     f"{click.style(f'{verdict:<15}', fg=colour)} {r.check.id:<34} "
                     f"{r.message}{where}")
        if id(r) in silenced:
            lines.append(f"{'':20} silenced by {silenced[id(r)]}")
        elif r.verdict == registry.FOUND and id(r) not in known:
            lines += [f"{'':20} {e}" for e in r.evidence]
            lines.append(f"{'':20} fix: {r.check.hint}")
    counts = {v: sum(r.verdict == v for r in report.results) for v in COLOUR}
    counts[registry.FOUND] = len(gated.findings)
    summary = ", ".join(f"{n} {v}" for v, n in counts.items() if n or v == registry.FOUND)
    extra = [f"{len(gated.silenced)} silenced" if gated.silenced else "",
             f"{len(gated.known)} in the baseline, {gated.gone} baseline entries gone"
             if gated.known or gated.gone else ""]
    lines += ["", "; ".join([summary] + [e for e in extra if e])]
    if gated.skipped:
        lines.append(f"skipped (--select): {', '.join(gated.skipped)}")
    return "\n".join(lines) + "\n"


def app_line(report: Report) -> str:
    """Which app was loaded, and from where; or why none was, in one line."""
    error = report.load_error
    if error is None:
        return f"app: {report.app} (from {report.app_source})"
    if error["kind"] == "no app":
        return f"app: could not load: {error['line']}"
    where = f" at {error['at'][0]}:{error['at'][1]}" if error["at"] else ""
    return (f"app: could not load {report.app} (from {report.app_source}): "
            f"{error['line']}{where}")


def environment_line(report: Report) -> str:
    """What the user's code gets beyond the exported environment, grouped by why."""
    from pitfall_lab.doctor import overridden

    groups: dict[str, list[str]] = {}
    for key, why in report.environment.items():
        groups.setdefault(why, []).append(key)
    said = "; ".join(f"{', '.join(keys)} ({why})" for why, keys in groups.items())
    over = overridden(report.environment)
    return ("environment: as exported; the doctor sets " + said
            + (f"; of these it overrides the exported {', '.join(over)}" if over else ""))


def network_line(report: Report) -> str:
    """The probes' loopback-only rule, and each connection it refused, at the user's line."""
    from pitfall_lab.doctor import netguard

    said = "; ".join(netguard.said(r) for r in report.refused)
    return ("network: loopback only (the probes refuse every other connection)"
            + (f"; {said}" if said else ""))


def copy_line(report: Report) -> str:
    """What the throwaway copy left out, in one line: each path and why (the bytecode folders
    counted)."""
    said = [f"{path} ({why})" for path, why in report.left_out
            if Path(path).name != "__pycache__"]
    bytecode = sum(Path(path).name == "__pycache__" for path, _ in report.left_out)
    if bytecode:
        said.append(f"{bytecode} __pycache__ folder{'s' * (bytecode > 1)} (a cache)")
    return f"left out of the copy: {', '.join(said) or 'nothing'}"


def list_checks() -> str:
    """Every check, one per scenario: id, level, title, then the hint, or why none covers it."""
    return "\n".join(f"{c.id:<34} {c.level:<8} {c.title}\n{'':34} "
                     + (f"hint: {c.hint}" if c.covered else f"could not check: {c.uncovered}")
                     for c in registry.checks()) + "\n"


def as_json(report: Report, gated: gate.Gated | None = None) -> dict:
    silenced = {id(r): why for r, why in (gated.silenced if gated else [])}
    known = {id(r) for r in (gated.known if gated else [])}
    error = report.load_error
    return {"format": FORMAT, "project": str(report.root), "app": report.app,
            "app_source": report.app_source, "loaded": report.loaded,
            "load_error": {"kind": error["kind"], "message": error["line"],
                           "location": ({"path": error["at"][0], "line": error["at"][1]}
                                        if error["at"] else None)} if error else None,
            "environment": report.environment,
            "left_out": [{"path": path, "why": why} for path, why in report.left_out],
            "refused": [{"host": r["host"], "port": r["port"], "during": r["during"],
                         "location": {"path": r["at"][0], "line": r["at"][1]} if r["at"]
                         else None} for r in report.refused],
            "database": report.database,
            "summary": {"found": len(gated.findings) if gated else len(report.found),
                        "silenced": len(silenced), "in_baseline": len(known),
                        "baseline_gone": gated.gone if gated else 0,
                        "skipped": gated.skipped if gated else [],
                        "fail_level": (gated.fail_level if gated else Level.ERROR).value},
            "results": [{"id": r.check.id, "scenario": r.check.scenario,
                         "code": r.check.code, "verdict": r.verdict,
                         "silenced": silenced.get(id(r)), "in_baseline": id(r) in known,
                         "level": r.check.level.value, "message": r.message,
                         "hint": r.check.hint,
                         "evidence": r.evidence,
                         "location": ({"path": r.location[0], "line": r.location[1]}
                                      if r.location else None)}
                        for r in report.results]}


def sarif(report: Report, gated: gate.Gated | None = None) -> dict:
    """SARIF 2.1.0: one rule per check (every scenario's, those no check covers included), one
    result per finding that is not silenced, each with a location in the project (relative
    path, start line) and a fingerprint that ignores line numbers; with a baseline, each says
    whether it is new."""
    scenarios = scenario.load_all()
    every = registry.checks()
    rules = [{"id": c.id, "name": c.id.split("-", 1)[1].replace("-", " "),
              "shortDescription": {"text": c.title},
              "fullDescription": {"text": f"{scenarios[c.scenario].cause} "
                                          + (c.hint if c.covered else
                                             f"The doctor does not check it: {c.uncovered}.")},
              "helpUri": scenarios[c.scenario].references[0],
              "defaultConfiguration": {"level": SARIF_LEVEL[c.level]}}
             for c in every]
    index = {c.id: n for n, c in enumerate(every)}
    results = []
    shown = gated.findings + gated.known if gated else report.found
    known = {id(r) for r in (gated.known if gated else [])}
    for r in sorted(shown, key=lambda r: (r.check.id, r.location or ("", 0))):
        path, line = r.location or (_first_source(report), 1)
        results.append({
            "ruleId": r.check.id, "ruleIndex": index[r.check.id],
            "level": SARIF_LEVEL[r.check.level],
            "message": {"text": f"{r.message}. {r.check.hint}"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": path},
                                                "region": {"startLine": line}}}],
            "partialFingerprints": {"pitfallLab/v1": gate.fingerprint(report, r)},
            **({"baselineState": "unchanged" if id(r) in known else "new"}
               if gated and (gated.known or gated.gone) else {}),
        })
    error = report.load_error
    if error:
        path, line = error["at"] or (_first_source(report), 1)
        rules.append({"id": COULD_NOT_LOAD, "name": "could not load",
                      "shortDescription": {"text": "The app could not be loaded"},
                      "fullDescription": {"text": "The doctor could not load the app, so the "
                                                  "checks that need it could not run."},
                      "helpUri": "https://flask.palletsprojects.com/en/stable/cli/"
                                 "#application-discovery",
                      "defaultConfiguration": {"level": "warning"}})
        results.append({
            "ruleId": COULD_NOT_LOAD, "ruleIndex": len(rules) - 1, "level": "warning",
            "message": {"text": f"could not load the app: {error['line']}"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": path},
                                                "region": {"startLine": line}}}],
            "partialFingerprints": {"pitfallLab/v1": hashlib.sha256(
                f"{COULD_NOT_LOAD}\0{path}\0{error['line']}".encode()).hexdigest()}})
    return {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
            "runs": [{"tool": {"driver": {"name": "pitfall-lab doctor", "rules": rules,
                                          "informationUri": "https://docs.sqlalchemy.org/en/20/"
                                                            "core/pooling.html"}},
                      "results": results}]}


def _first_source(report: Report) -> str:
    """The project's first Python file, as the doctor reads the project: never one in a
    virtualenv, a cache or a hidden folder (.venv sorts first)."""
    from pitfall_lab.doctor import project as proj

    return next((str(rel) for rel, _ in proj._walk(report.root) if rel.suffix == ".py"),
                "")

