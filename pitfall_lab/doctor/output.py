"""The doctor's report for people (a table), for programs (JSON, format 1) and for code
scanning (SARIF 2.1.0): the same results, the same check ids."""
from __future__ import annotations

import hashlib

import click

from pitfall_lab import scenario
from pitfall_lab.doctor import Report, checks

FORMAT = 1
COLOUR = {checks.FOUND: "red", checks.NOT_FOUND: "green", checks.NOT_APPLICABLE: None,
          checks.COULD_NOT: "yellow"}


def table(report: Report) -> str:
    codes = {s.id: s.code for s in scenario.load_all().values()}
    lines = [f"pitfall-lab doctor {report.root}",
             f"app: {report.app}; database: {report.database} (every engine the app creates is "
             "redirected there; connections opened without SQLAlchemy are not)", ""]
    for r in report.results:
        verdict = click.style(f"{r.verdict:<15}", fg=COLOUR[r.verdict])
        where = f"  {r.location[0]}:{r.location[1]}" if r.location else ""
        lines.append(f"{codes.get(r.check.scenario, '?'):<5}{verdict} {r.check.id:<34} "
                     f"{r.message}{where}")
        if r.verdict == checks.FOUND:
            lines += [f"{'':20} {e}" for e in r.evidence]
            lines.append(f"{'':20} fix: {r.check.hint}")
    counts = {v: sum(r.verdict == v for r in report.results) for v in COLOUR}
    lines += ["", ", ".join(f"{n} {v}" for v, n in counts.items() if n)]
    return "\n".join(lines) + "\n"


def as_json(report: Report) -> dict:
    codes = {s.id: s.code for s in scenario.load_all().values()}
    return {"format": FORMAT, "project": str(report.root), "app": report.app,
            "database": report.database,
            "results": [{"id": r.check.id, "scenario": r.check.scenario,
                         "code": codes.get(r.check.scenario), "verdict": r.verdict,
                         "level": r.check.level, "message": r.message, "hint": r.check.hint,
                         "evidence": r.evidence,
                         "location": ({"path": r.location[0], "line": r.location[1]}
                                      if r.location else None)}
                        for r in report.results]}


def sarif(report: Report) -> dict:
    """SARIF 2.1.0: one rule per check, one result per finding, each with a location in the
    project (relative path, start line) and a fingerprint that ignores line numbers."""
    scenarios = scenario.load_all()
    rules = [{"id": c.id, "name": c.id.split("-", 1)[1].replace("-", " "),
              "shortDescription": {"text": c.title},
              "fullDescription": {"text": f"{scenarios[c.scenario].cause} {c.hint}"},
              "helpUri": scenarios[c.scenario].references[0],
              "defaultConfiguration": {"level": c.level if c.level != "info" else "note"}}
             for c in checks.CHECKS]
    index = {c.id: n for n, c in enumerate(checks.CHECKS)}
    results = []
    for r in report.found:
        path, line = r.location or (_first_source(report), 1)
        text = _line(report, path, line)
        results.append({
            "ruleId": r.check.id, "ruleIndex": index[r.check.id],
            "level": r.check.level if r.check.level != "info" else "note",
            "message": {"text": f"{r.message}. {r.check.hint}"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": path},
                                                "region": {"startLine": line}}}],
            "partialFingerprints": {"pitfallLab/v1": hashlib.sha256(
                f"{r.check.id}\0{path}\0{text.strip()}".encode()).hexdigest()},
        })
    return {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
            "runs": [{"tool": {"driver": {"name": "pitfall-lab doctor", "rules": rules,
                                          "informationUri": "https://docs.sqlalchemy.org/en/20/"
                                                            "core/pooling.html"}},
                      "results": results}]}


def _first_source(report: Report) -> str:
    return next(str(p.relative_to(report.root)) for p in sorted(report.root.rglob("*.py")))


def _line(report: Report, path: str, line: int) -> str:
    try:
        return (report.root / path).read_text(errors="replace").splitlines()[line - 1]
    except (OSError, IndexError):
        return ""
