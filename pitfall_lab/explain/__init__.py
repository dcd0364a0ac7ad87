"""From the error a user sees to the scenario that causes it.

The catalogue's symptom texts (measured by the lab, per version set) and the texts others
reported for the same causes are the signatures; both come from the scenario metadata. A pasted
error, traceback or log is normalised line by line (paths, line numbers, addresses, pids, ports,
names, quotes, SQLAlchemy's error links) and every signature line is compared with it:

- an error line (an exception with its message, or any long line) matches when its message is
  found in a line of the input, give or take a few characters (rapidfuzz);
- a generic error line, whose message says little once names are taken out ("database is
  locked", "No module named 'api'"), matches only where the text also shows one of the
  scenario's context cues, or where it carries the very names the signature does;
- a short observation line ("200 []", "ada") matches only when an input line is exactly it.

A signature counts when one of its error lines matches, or when all of its lines do. Scenarios
are ranked by the best match, then by the context cues the text carries (uWSGI or gunicorn
frames, rq, the reloader, unittest, threads), then by how much of the signature matched. Equal
ranks are a tie, and said so. No signature that counts is "no match": never a guess.

Imports neither Flask nor SQLAlchemy: it answers in a fraction of a second. May import the
catalogue, nothing else of the lab.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz

from pitfall_lab.catalogue import scenario
from pitfall_lab.catalogue.text import shorten

MATCH = 88  # rapidfuzz score (0-100) at which an error line counts as the same message
EXACT = 97  # ... at which a short observation line counts

# Context cues: what a traceback or log shows about where it ran.
CUES = {
    "uwsgi": re.compile(r"uwsgi|uWSGI", re.I),
    "gunicorn": re.compile(r"gunicorn", re.I),
    "celery": re.compile(r"celery|ForkPoolWorker", re.I),
    "rq": re.compile(r"\brq[/.:](worker|job|queue)\b|\bWork-horse\b|\bwork horse\b|"
                     r"\brq worker\b"),
    "reloader": re.compile(r"Restarting with (stat|watchdog|inotify)|werkzeug/_reloader\.py|"
                           r"Debugger is active"),
    "unittest": re.compile(r"unittest/case\.py|^Ran \d+ tests? in|^(FAIL|ERROR): test\w* \(",
                           re.M),
    "threads": re.compile(r"threading\.py|Thread-\d+|ThreadPoolExecutor|concurrent/futures"),
    "cron": re.compile(r"\bcron\b|crontab|CRON\[", re.I),
    "fork": re.compile(r"os\.fork\(|multiprocessing/|register_at_fork|preload", re.I),
    "pytest": re.compile(r"^(E   |_+ .* _+$)|/_pytest/|conftest\.py|::test\w*(\[.*\])? "
                         r"(PASSED|FAILED|ERROR)", re.M),
}

_ERROR_LINE = re.compile(r"\b[A-Za-z_][\w.]*(Error|Exception|Exit|Warning|Violation|Shutdown)\b"
                         r"|\bError:|\berror\b", re.I)
_PREFIXES = re.compile(
    r"^(?:E\s{2,}|\s*\|\s*|>\s+|(?:worker \d+|[AB]|failed|finished|after the \w+|Test\w+\.test\w*|"
    r"\w+\.\w+: failure|failure)\s*:\s*)+", re.I)
_LOG_PREFIX = re.compile(  # "[2024-05-01 10:00:00,123] ERROR in app: ", "2024-05-01 10:00:00,455
    # ERROR [ckan.views.api] ", "[2024-05-01 10:00:00,123: ERROR/ForkPoolWorker-1] " (Celery)
    r"^\s*(?:\[\d{4}-\d\d-\d\d[T ][\d:.,]+:\s*[A-Z]+/[^\]]*\]\s*"
    r"|\[?\d{4}-\d\d-\d\d[T ][\d:.,]+\s*(?:[+-]\d\d:?\d\d|Z|UTC)?\]?\s*"
    r"(?:\[[^\]]*\]\s*)*(?:[\w.\-]+\[[\w.\-]+\]:\s*)?"
    r"(?:(?:DEBUG|INFO|WARNING|ERROR|CRITICAL)(?:\s+in\s+[\w.]+:)?\s+)?(?:\[[^\]]*\]\s*)?)?")
_NORMALISE = [
    (re.compile(r"\(Background on this error at: [^)]*\)"), ""),
    (re.compile(r"(Original exception was:).*", re.I), r"\1 <exception>"),  # the app's own
    (re.compile(r"https?://sqlalche\.me/\S+"), ""),
    (re.compile(r'File "[^"]*"'), "File <path>"),
    (re.compile(r"(?<![\w<])(?:/[\w.\-]+)+/?|<workdir>(?:/[\w.\-]+)*|[A-Z]:\\[\S]+"), "<path>"),
    (re.compile(r"\bline \d+"), "line <n>"),
    (re.compile(r"0x[0-9a-fA-F]+|0x…"), "0x<addr>"),
    (re.compile(r"\b(pid|port|process|PID)[ =:]+\d+"), r"\1 <n>"),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b|\blocalhost:\d+"), "<host>"),
    (re.compile(r"\b(no such (?:table|column)|constraint failed|relation|table)(:?\s+)\"?[\w.]+\"?"),
     r"\1\2<name>"),
    (re.compile(r"<(\w+) at 0x<addr>>"), "<object>"),
    (re.compile(r"'[\w.<>]*'|\"[\w.<>]*\"|`[\w.<>]*`"), "<q>"),  # quoted names: 'User', "account"
    (re.compile(r"[`'\"]"), ""),
    (re.compile(r"\s+"), " "),
]
_DRIVER = re.compile(r"^(?:[\w.]+(?:Error|Exception|Violation|Shutdown): )*(?:\([\w.]+\) )*",
                     re.I)


def normalise(line: str) -> str:
    line = _PREFIXES.sub("", _LOG_PREFIX.sub("", line))
    for pattern, replacement in _NORMALISE:
        line = pattern.sub(replacement, line)
    return line.strip().lower()


def core(normalised: str) -> str:
    """An error line's message without the exception classes and the driver's "(pkg.Error)"."""
    return _DRIVER.sub("", normalised).strip()


_PLACEHOLDER = re.compile(r"<(q|name|path|n|host|object|addr)>|[^a-z]")


def kind_of(normalised: str) -> str:
    """"error", "generic" (an error line whose message has under 20 letters once names are
    out) or "observation" (a short line that names no error)."""
    if not (_ERROR_LINE.search(normalised) or len(normalised) >= 30):
        return "observation"
    return "error" if len(_PLACEHOLDER.sub("", core(normalised))) >= 20 else "generic"


@dataclass(frozen=True)
class Signature:
    scenario: str
    kind: str  # "measured" (a symptom the lab declares) or "reported" (by someone else)
    label: str  # the symptom's case, or the report's source
    text: str
    version_sets: tuple[str, ...] = ()
    lines: tuple[tuple[str, str, str], ...] = ()  # (normalised, kind, the line as declared)
    needs_cue: bool = False


@dataclass
class Match:
    scenario: scenario.Scenario
    score: int
    matched_lines: int
    cues: list[str]
    evidence: list[Signature] = field(default_factory=list)
    tie: list[str] = field(default_factory=list)

    @property
    def rank_key(self) -> tuple:
        return (self.score, len(self.cues), self.matched_lines,
                any(e.kind == "measured" for e in self.evidence))


def version_sets(root: Path) -> dict[str, dict[str, str]]:
    """constraints/<set>.txt: the pins of each version set, the one place that names them."""
    sets = {}
    for path in sorted((root / "constraints").glob("*.txt")):
        pins = dict(re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", path.read_text(), re.M))
        sets[path.stem] = {name.lower(): v for name, v in pins.items()}
    return sets


def _on_sets(symptom: scenario.Symptom, sets: dict[str, dict[str, str]]) -> tuple[str, ...]:
    return tuple(name for name, pins in sets.items()
                 if all(req.name.lower() in pins and req.specifier.contains(
                     pins[req.name.lower()], prereleases=True) for req in symptom.when))


def _lines(text: str) -> tuple[tuple[str, str, str], ...]:
    seen: dict[str, tuple[str, str, str]] = {}
    for raw in text.splitlines():
        line = normalise(raw)
        if line:
            seen.setdefault(line, (line, kind_of(line), _verbatim(raw)))
    return tuple(seen.values())


def _verbatim(raw: str) -> str:
    """The line with only its prefixes stripped, names kept: where normalising took names out
    of a generic line, the same names in the input are evidence."""
    return _PREFIXES.sub("", _LOG_PREFIX.sub("", raw)).strip().lower()


def signatures(scenarios: dict[str, scenario.Scenario]) -> list[Signature]:
    sets = version_sets(scenario.ROOT)
    out = []
    for s in scenarios.values():
        for sym in s.symptoms:
            if sym.affected and not sym.points_to:
                text = scenario.expand(sym.text)
                out.append(Signature(s.id, "measured", sym.case, text, _on_sets(sym, sets),
                                     _lines(text), sym.needs_cue))
        for report in s.reported:
            out.append(Signature(s.id, "reported", report.source, report.text, (),
                                 _lines(report.text), report.needs_cue))
    return out


def _line_score(line: str, kind: str, verbatim: str, given: list[tuple[str, str, str]],
                cued: bool) -> float:
    """How well one signature line is found in the input's (normalised, core, verbatim) lines."""
    if kind == "observation":
        return max((fuzz.ratio(line, g) for g, _, _ in given), default=0)
    if kind == "generic":
        if not cued:
            named = verbatim != line  # normalising took names out: the same names are evidence
            return 100.0 if named and any(verbatim in v for _, _, v in given) else 0.0
        # With a cue: the whole line, exception class included, since the message says little.
        return max((fuzz.partial_ratio(line, g) if len(g) >= len(line) else fuzz.ratio(line, g)
                    for g, _, _ in given), default=0)
    want = core(line)
    best = 0.0
    for _, g_core, _ in given:
        if len(g_core) >= len(want):  # the message inside a longer line
            best = max(best, fuzz.partial_ratio(want, g_core))
        elif len(g_core) >= 0.75 * len(want):  # a slightly different message
            best = max(best, fuzz.ratio(want, g_core))
        elif len(g_core) >= 40:  # a message cut short: its beginning
            best = max(best, fuzz.ratio(want[:len(g_core)], g_core))
    return best


@functools.lru_cache(maxsize=1)
def _catalogue() -> tuple[dict[str, scenario.Scenario], list[Signature]]:
    """The installed catalogue and its signatures, derived once per process (the plugin asks
    for every failing test)."""
    scenarios = scenario.load_all()
    return scenarios, signatures(scenarios)


def hint(text: str) -> str | None:
    """One line for a failing test's report (the pytest plugin), or None when nothing matches."""
    matches = explain(text, top=1)
    if not matches:
        return None
    return "\n".join(f"looks like {m.scenario.code} {m.scenario.id}: {m.scenario.cause} "
                     f"See `pitfall-lab show {m.scenario.id}`." for m in matches)


def explain(text: str, scenarios: dict[str, scenario.Scenario] | None = None,
            top: int = 3) -> list[Match]:
    """The scenarios whose signatures match ``text``, best first (at most ``top`` ranks; ties
    share a rank); an empty list when none does."""
    scenarios, sigs = _catalogue() if scenarios is None else (scenarios, signatures(scenarios))
    given = []
    for raw in text.splitlines():
        line = normalise(raw)
        if line:
            given.append((line, core(line), _verbatim(raw)))
    cues = [name for name, pattern in CUES.items() if pattern.search(text)]
    found: dict[str, Match] = {}
    for sig in sigs:
        s = scenarios[sig.scenario]
        cued = any(c in s.cues for c in cues)
        if sig.needs_cue and not cued:
            continue
        scores = [(_line_score(line, kind, verbatim, given, cued), kind)
                  for line, kind, verbatim in sig.lines]
        hit = [sc >= (EXACT if kind == "observation" else MATCH) for sc, kind in scores]
        error_hits = [sc for (sc, kind), h in zip(scores, hit) if h and kind != "observation"]
        whole = all(hit)  # observation lines alone: every one of them, exactly
        if not (error_hits or whole):
            continue
        score = round(max(error_hits) if error_hits else min(sc for sc, _ in scores))
        matched = sum(hit)
        match = found.get(s.id)
        if match is None:
            match = found[s.id] = Match(s, score, matched, [c for c in cues if c in s.cues])
        elif (score, matched) > (match.score, match.matched_lines):
            match.score, match.matched_lines = score, matched
        match.evidence.append(sig)
    ranked = sorted(found.values(), key=lambda m: m.rank_key, reverse=True)
    for m in ranked:
        m.tie = [o.scenario.code for o in ranked if o is not m and o.rank_key == m.rank_key]
    out, ranks = [], 0
    for i, m in enumerate(ranked):
        if i == 0 or m.rank_key != ranked[i - 1].rank_key:
            ranks += 1
        if ranks > top:
            break
        out.append(m)
    return out


FORMAT = 1  # of the --json output


# For an error several scenarios end in: the plain cause, which is no pitfall and which most
# people who meet the error have, to rule out before the lab's.
FIRST_CHECK = {
    "no such table": "the tables were never created in the database this code opens: "
                     "db.create_all() or the migrations not run against that same URL, or a "
                     "config that points this process at another file (print engine.url)",
}


def families(text: str) -> list[dict]:
    """The errors the text names that several scenarios end in ('no such table'), each with
    its scenarios: where nothing matches, the honest answer is the list of causes."""
    scenarios, _ = _catalogue()
    lowered = text.lower()
    names = sorted({s.family for s in scenarios.values() if s.family and s.family in lowered})
    return [{"error": name, "first_check": FIRST_CHECK.get(name, ""), "scenarios": [
        {"code": s.code, "scenario": s.id, "cause": s.cause, "tell": s.tell}
        for s in scenario.family(scenarios, name)]} for name in names]


def as_json(matches: list[Match], text: str) -> dict:
    """The ranked list as data: ``pitfall-lab explain --json`` prints exactly this."""
    out, rank = [], 0
    for i, m in enumerate(matches):
        if i == 0 or m.rank_key != matches[i - 1].rank_key:
            rank += 1
        s = m.scenario
        out.append({
            "rank": rank, "scenario": s.id, "code": s.code, "title": s.title, "score": m.score,
            "tie": m.tie, "cues": m.cues,
            "evidence": [{"kind": e.kind, "text": e.text,
                          **({"case": e.label, "version_sets": list(e.version_sets)}
                             if e.kind == "measured" else {"source": e.label})}
                         for e in m.evidence],
            "cause": s.cause, "fix": [f.summary for f in s.fixes], "tell": s.tell,
            "show": f"pitfall-lab show {s.id}", "confirm": confirm(s.id),
        })
    return {"format": FORMAT, "input_lines": len(text.splitlines()),
            "cues": [name for name, pattern in CUES.items() if pattern.search(text)],
            "matches": out, "families": [] if out else families(text)}


def as_text(matches: list[Match], text: str) -> str:
    """The readable report; says plainly when nothing matched and when the top is a tie."""
    data = as_json(matches, text)
    if not matches and data["families"]:
        lines = []
        for family in data["families"]:
            if family["first_check"]:
                lines.append(f"'{family['error']}': first rule out the plain cause, "
                             f"{family['first_check']}.")
            lines.append(f"'{family['error']}' has {len(family['scenarios'])} causes in the lab, "
                         "and this text alone does not say which (no guess). Each, and how to "
                         "tell it:")
            for s in family["scenarios"]:
                lines += [f"  {s['code']} {s['scenario']}: {s['cause']}",
                          f"      check  {s['tell']}",
                          f"      read   pitfall-lab show {s['scenario']}"]
        return "\n".join(lines) + "\n"
    if not matches:
        return ("No match: this error is not one the catalogue's symptoms explain "
                f"({data['input_lines']} line(s) read). pitfall-lab list shows the pitfalls "
                "it knows.\n")
    lines = []
    best = [m for m in data["matches"] if m["score"] == data["matches"][0]["score"]]
    if len(best) > 1:
        how = ("equally well" if len({m["rank"] for m in best}) == 1 else
               f"as well; ranked by the context the text shows ({', '.join(data['cues'])})")
        lines += [f"Ambiguous: {' and '.join(m['code'] for m in best)} match this text {how}. "
                  "What tells them apart:"]
        lines += [f"  {m['code']}: {m['tell']}" for m in best] + [""]
    for m in data["matches"]:
        tie = f"; tied with {', '.join(m['tie'])}" if m["tie"] else ""
        lines.append(f"{m['rank']}. {m['code']} {m['scenario']}: {m['title']} "
                     f"(score {m['score']}{tie})")
        for e in _distinct(m["evidence"])[:4]:
            where = (f"measured on {', '.join(e['version_sets']) or 'no pinned set'} "
                     f"({e['case']})" if e["kind"] == "measured" else f"reported: {e['source']}")
            first = e["text"].strip().splitlines()[0]
            lines.append(f"   matched  {shorten(first, 110)}")
            lines.append(f"            {where}")
        if m["cues"]:
            lines.append(f"   context  {', '.join(m['cues'])}")
        lines.append(f"   cause    {m['cause']}")
        lines.append(f"   fix      {m['fix'][0]}"
                     + (f" (+{len(m['fix']) - 1} more)" if len(m["fix"]) > 1 else ""))
        if m["tell"]:
            lines.append(f"   check    {m['tell']}")
        lines.append(f"   confirm  {m['confirm']}")
        lines.append(f"   read     {m['show']}")
        lines.append("")
    return "\n".join(lines)


def confirm(sid: str) -> str:
    """How to confirm the pitfall in the user's own code, from its metadata: [explain] confirm
    where it says, else the doctor check that covers it ([doctor])."""
    s = scenario.load_all()[sid]
    if s.confirm:
        return s.confirm
    if s.doctor and not s.doctor.uncovered:
        return f"pitfall-lab doctor PROJECT (check {s.doctor.id})"
    return "no doctor check covers it yet: the check line above says what to look for"


def _distinct(evidence: list[dict]) -> list[dict]:
    seen, out = set(), []
    for e in sorted(evidence, key=lambda e: e["kind"] != "measured"):
        key = (e["kind"], e["text"], e.get("source"))
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out
