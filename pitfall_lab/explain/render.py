"""An answer as text, or as the JSON that ``pitfall-lab explain --json`` prints.

The JSON (``format`` 2) is one object:

- ``format``: 2; ``answer``: ``"match"`` (a scenario is named first), ``"undecided"`` (the
  error is one catalogue scenarios end in, but the text does not show the context that tells
  which, or whether it is one of them at all), ``"no-known-pitfall"`` (an error the catalogue
  does not explain) or ``"not-an-error"`` (no exception, error log line or failed test);
- ``input_lines``; ``context``: the cues found, each ``{"cue", "where"}``;
- ``error``: the last exception (or error line) read, ``{"type", "message", "dbapi_type",
  "sqlalchemy_code", "sqlalchemy_link"}``, or null;
- ``matches``: the named scenarios, best first, each ``{"rank", "scenario", "code", "title",
  "score", "parts": {"message", "type", "code", "context"}, "tie", "evidence": [{"source",
  "text", "case"|"reported_by", "version_sets"}], "cause", "fix", "tell", "show", "confirm"}``;
- ``undecided``: the scenarios the error could be, ranked, each ``{"rank", "scenario",
  "code", "title", "score", "wants", "cause", "tell", "show"}``; ``wants`` is the context that
  would name it;
- ``first_check``: for an error several scenarios end in ("no such table"), the plain cause to
  rule out first; "" otherwise;
- ``ruled_out``: scenarios whose error this is, ruled out by what else the text shows, each
  ``{"scenario", "code", "because"}`` (the look-alike cause).

Exit status: 0 for a match, 1 otherwise.
"""
from __future__ import annotations

from pitfall_lab.catalogue.text import shorten

FORMAT = 2
_SA_LINK = "https://sqlalche.me/e/{version}/{code}"


def sqlalchemy_link(code: str, version: str) -> str:
    return _SA_LINK.format(version=version or "20", code=code) if code else ""


def as_json(answer) -> dict:
    last = answer.last_error
    data = {
        "format": FORMAT, "answer": answer.kind, "input_lines": answer.input_lines,
        "context": [{"cue": c, "where": w} for c, w in answer.context.items()],
        "error": None if last is None else {
            "type": last.type, "message": last.message, "dbapi_type": last.dbapi_type,
            "sqlalchemy_code": last.sqlalchemy_code,
            "sqlalchemy_link": sqlalchemy_link(last.sqlalchemy_code, last.sqlalchemy_version)},
        "matches": [], "undecided": [], "first_check": answer.first_check,
        "ruled_out": [{"scenario": c.scenario.id, "code": c.scenario.code,
                       "because": c.ruled_out} for c in answer.ruled_out],
    }
    rank = 0
    for i, c in enumerate(answer.matches):
        if i == 0 or c.rank_key != answer.matches[i - 1].rank_key:
            rank += 1
        s = c.scenario
        data["matches"].append({
            "rank": rank, "scenario": s.id, "code": s.code, "title": s.title, "score": c.score,
            "parts": c.parts, "tie": c.tie, "evidence": _evidence(c),
            "cause": s.cause, "fix": [f.summary for f in s.fixes], "tell": s.tell,
            "show": f"pitfall-lab show {s.id}", "confirm": answer.confirm(s),
        })
    for i, c in enumerate(answer.undecided, start=1):
        s = c.scenario
        data["undecided"].append({
            "rank": i, "scenario": s.id, "code": s.code, "title": s.title, "score": c.score,
            "wants": list(c.wants), "cause": s.cause, "tell": s.tell,
            "show": f"pitfall-lab show {s.id}"})
    return data


def _evidence(c) -> list[dict]:
    seen, out = set(), []
    for h in sorted(c.hits, key=lambda h: (h.pattern.source != "measured", -h.points)):
        p = h.pattern
        if (p.source, p.text) in seen:
            continue
        seen.add((p.source, p.text))
        out.append({"source": p.source, "text": p.text,
                    **({"case": p.label, "version_sets": list(p.version_sets)}
                       if p.source == "measured" else {"reported_by": p.label})})
    return out


def _parts(m: dict) -> str:
    p = m["parts"]
    said = [f"message {p['message']}"]
    if p["type"]:
        said.append(f"type {p['type']}")
    if p["code"]:
        said.append(f"code {p['code']}")
    if p["context"]:
        said.append(f"context {', '.join(p['context'])}")
    return ", ".join(said)


def _error_lines(error: dict | None) -> list[str]:
    if error is None:
        return []
    message = error["message"].split("\n", 1)[0]
    head = f"{error['type']}: {message}" if message else error["type"]
    lines = [f"  error    {shorten(' '.join(head.split()), 110)}"]
    if error["sqlalchemy_code"]:
        lines.append(f"  code     {error['sqlalchemy_code']}: SQLAlchemy's page for it is "
                     f"{error['sqlalchemy_link']}")
    return lines


def as_text(answer) -> str:
    data = as_json(answer)
    kind = data["answer"]
    if kind == "not-an-error":
        return (f"Nothing here reads as an error ({data['input_lines']} line(s) read: no "
                "exception, no error log line, no failed test). Paste the traceback or the "
                "log lines around the failure.\n")
    ruled = [f"  not {r['code']} {r['scenario']}: {r['because']}" for r in data["ruled_out"]]
    if kind == "no-known-pitfall":
        return "\n".join([
            "No known pitfall: the lab's catalogue does not explain this error.",
            *_error_lines(data["error"]), *ruled,
            "  list     pitfall-lab list shows the pitfalls the lab knows", ""])
    lines = []
    if kind == "undecided":
        lines += ["Not decided: this error is one the catalogue's scenarios end in, but the "
                  "text does not show what tells which (no guess).", *_error_lines(data["error"])]
        if data["first_check"]:
            lines.append(f"  first    rule out the plain cause: {data['first_check']}")
        lines.append("Each, and what would name it:")
        for u in data["undecided"]:
            wants = (f"named if the text showed {' or '.join(u['wants'])}" if u["wants"]
                     else "no paste can name it: its check says how to tell")
            lines += [f"  {u['rank']}. {u['code']} {u['scenario']}: {u['cause']}",
                      f"      {wants}",
                      f"      check    {u['tell']}",
                      f"      read     {u['show']}"]
        return "\n".join(lines + ruled) + "\n"
    best = [m for m in data["matches"] if m["rank"] == 1]
    if len(best) > 1:
        lines += [f"Ambiguous: {' and '.join(m['code'] for m in best)} match this text equally "
                  "well. What tells them apart:"]
        lines += [f"  {m['code']}: {m['tell']}" for m in best] + [""]
    for m in data["matches"]:
        tie = f"; tied with {', '.join(m['tie'])}" if m["tie"] else ""
        lines.append(f"{m['rank']}. {m['code']} {m['scenario']}: {m['title']} "
                     f"(score {m['score']}: {_parts(m)}{tie})")
        for e in m["evidence"][:3]:
            where = (f"measured on {', '.join(e['version_sets']) or 'no pinned set'} "
                     f"({e['case']})" if e["source"] == "measured"
                     else f"reported: {e['reported_by']}")
            lines.append(f"   matched  {shorten(e['text'], 110)}")
            lines.append(f"            {where}")
        if m["parts"]["context"]:
            where = {c["cue"]: c["where"] for c in data["context"]}
            lines.append("   context  " + ", ".join(f"{c} ({where[c]})"
                                                     for c in m["parts"]["context"]))
        lines.append(f"   cause    {m['cause']}")
        lines.append(f"   fix      {m['fix'][0]}"
                     + (f" (+{len(m['fix']) - 1} more)" if len(m["fix"]) > 1 else ""))
        if m["tell"]:
            lines.append(f"   check    {m['tell']}")
        lines.append(f"   confirm  {m['confirm']}")
        lines.append(f"   read     {m['show']}")
        lines.append("")
    if data["undecided"]:
        lines.append("Also ends in this error, not named without its context: " + ", ".join(
            f"{u['code']} {u['scenario']} (wants {' or '.join(u['wants'])})"
            for u in data["undecided"]))
        lines.append("")
    return "\n".join(lines)
