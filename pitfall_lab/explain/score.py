"""Evidence against signatures: which scenarios a pasted error points to, and why.

A scenario is a candidate when one of its patterns' messages is found in one of the pasted
errors (give or take a few characters; a generic message, with its names or in context, or
with any names where the scenario is its sole cause). Its
score adds up what counted, each part said in the answer:

- ``message``: how closely the message matched, 88-100 scaled to 62-70 points;
- ``type``: the same exception class (or the driver's class that SQLAlchemy's wraps), 10;
- ``code``: the same SQLAlchemy error code, 10;
- ``context``: where the error happened shows what the scenario needs (rq or Celery frames or
  log lines, a prefork server, the reloader, a test runner, threads, cron), 10.

Context decides. A pattern whose message has causes outside the catalogue (``needs_cue``)
makes its scenario *undecided* unless the context is found: an undecided scenario is never
named first; the answer lists it with the context that would decide it. Decided candidates
rank by score, then by measured evidence before reported; equal keys are a tie.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from pitfall_lab.catalogue import scenario
from pitfall_lab.explain import parse, signatures

MATCH = 88  # message similarity (0-100) at which two messages are the same
POINTS = {"type": 10, "code": 10, "context": 10}

# Where an error ran, from the parser's frames and log lines ...
_LIBRARY_CUES = {"rq": "rq", "celery": "celery", "billiard": "celery", "kombu": "celery",
                 "gunicorn": "gunicorn", "uwsgi": "uwsgi", "uwsgidecorators": "uwsgi",
                 "werkzeug.reloader": "reloader", "unittest": "unittest", "pytest": "pytest",
                 "threading": "threads", "concurrent": "threads", "multiprocessing": "fork"}
_LOG_CUES = {"rq": "rq", "celery": "celery", "gunicorn": "gunicorn", "uwsgi": "uwsgi",
             "threading": "threads"}
# ... and from what the text says in words.
_TEXT_CUES = {
    "uwsgi": re.compile(r"\buwsgi\b", re.I),
    "gunicorn": re.compile(r"\bgunicorn\b", re.I),
    "celery": re.compile(r"\bcelery\b|ForkPoolWorker|MainProcess\]", re.I),
    "rq": re.compile(r"\brq[/.:](?:worker|job|queue)\b|\bWork-horse\b|\bwork horse\b|"
                     r"\brq worker\b"),
    "reloader": re.compile(r"Restarting with (?:stat|watchdog|inotify)|Debugger is active"),
    "unittest": re.compile(r"^Ran \d+ tests? in|^(?:FAIL|ERROR): test\w* \(", re.M),
    "threads": re.compile(r"\bThread-\d+|ThreadPoolExecutor"),
    "cron": re.compile(r"\bcron\b|crontab|CRON\[", re.I),
    "fork": re.compile(r"os\.fork\(|register_at_fork|--preload|preload_app", re.I),
    "pytest": re.compile(r"^=+ (?:FAILURES|ERRORS|short test summary info) =+$", re.M),
    # A SQLite path relative to the working folder, with a folder in it (sqlite:///data/app.db,
    # sqlite3's 'unable to open database "data/app.db"').
    "relative-path": re.compile(r"sqlite:///(?!/)[\w.-]+/|unable to open database \"(?!/)[^\"]+/"),
    # A parent deleted: a DELETE, or the ORM's UPDATE that sets a child's foreign key to NULL.
    "delete": re.compile(r"\bDELETE FROM\b|\bsession\.delete\(|"
                         r"UPDATE \S+ SET \w+_id=\S+ WHERE [^\]]*\]\s*\[parameters: [^\]]*?\bNone\b"),
}


def context(evidence: parse.Evidence, text: str) -> dict[str, str]:
    """The cues the text carries, each with where it was seen."""
    found: dict[str, str] = {}
    for frame in evidence.frames:
        cue = _LIBRARY_CUES.get(frame.library) or _LIBRARY_CUES.get(frame.library.split(".")[0])
        if cue and frame.library != "werkzeug":
            found.setdefault(cue, f"in the frames: {frame.library}")
    for log in evidence.logs:
        cue = _LOG_CUES.get(log.source)
        if log.source == "werkzeug" and log.process == "reloader":
            cue = "reloader"
        if log.source == "syslog" and "cron" in log.process.lower():
            cue = "cron"
        if cue:
            found.setdefault(cue, f"in a {log.source} log line")
    for test in evidence.tests:
        found.setdefault("unittest" if test.outcome in ("FAIL",) or " (" in test.test
                         else "pytest", "in the test results")
    for cue, pattern in _TEXT_CUES.items():
        if cue not in found and pattern.search(text):
            found[cue] = "in the text"
    for exc in evidence.exceptions:
        modules = [f.file.replace("\\", "/").rsplit("/", 1)[-1] for f in exc.frames
                   if f.is_user and f.function == "<module>"]
        again = next((m for i, m in enumerate(modules) if m in modules[:i]), None)
        if again:
            found.setdefault("import-cycle", f"in the frames: {again} imported again while it "
                                             "loads")
    return {cue: found[cue] for cue in scenario.CUES if cue in found}


@dataclass(frozen=True)
class Error:
    """One error of the paste, as compared."""
    type: str
    message: str  # normalised
    verbatim: str
    code: str
    line_no: int
    shown: str  # as the answer quotes it


def errors(evidence: parse.Evidence) -> list[Error]:
    out = []
    for exc in evidence.exceptions:
        message = exc.flat
        out.append(Error(exc.name, signatures.normalise(message), signatures.verbatim(message),
                         exc.sqlalchemy_code, exc.line_no,
                         f"{exc.type}: {exc.first_line}" if exc.message else exc.type))
    numbers = {e.line_no for e in out}
    for line in evidence.errors:
        if line.kind in ("exception", "message", "frame", "source", "traceback", "chain") \
                or line.number in numbers:
            continue
        message = line.log.message if line.log else line.text.strip()
        found = signatures.errors_in(message)
        type_ = found[0][0] if found else ""
        if found and found[0][0]:
            message = found[0][1]
        out.append(Error(type_, signatures.normalise(message), signatures.verbatim(message), "",
                         line.number, line.text.strip()))
    return out


_WORD = re.compile(r"[a-z0-9_]{4,}")


def _words_kept(want: str, given: str) -> bool:
    """The message's words are in the paste's, give or take one in ten: a fuzzy match must not
    turn one name into another ('postgres' is not 'posgresql')."""
    words = _WORD.findall(want)  # inside a word counts: a paste loses spaces, not letters
    return sum(w not in given for w in words) <= len(words) // 10


def similarity(want: str, given: str) -> float:
    """How closely the message ``given`` (from the paste) shows the message ``want``."""
    if not want or not given:
        return 0.0
    if len(given) >= len(want):  # the message inside a longer one
        return fuzz.partial_ratio(want, given) if _words_kept(want, given) else 0.0
    if len(given) >= 0.75 * len(want):  # a slightly different wording
        return fuzz.ratio(want, given) if _words_kept(want, given) else 0.0
    if len(given) >= 40:  # a message cut short: its beginning
        return fuzz.ratio(want[:len(given)], given)
    return 0.0


@dataclass
class Hit:
    pattern: signatures.Pattern
    error: Error
    message: float
    type: bool
    code: bool

    @property
    def points(self) -> int:
        return (round(62 + 8 * (self.message - MATCH) / (100 - MATCH))
                + POINTS["type"] * self.type + POINTS["code"] * self.code)


def hit(p: signatures.Pattern, e: Error, cued: bool) -> Hit | None:
    same_type = bool(p.type) and e.type in (p.type, p.dbapi)
    if p.generic:
        if cued or p.sole_cause:  # a short message: the same class and (near) the same words
            sim = fuzz.ratio(p.message, e.message) if (same_type or not p.type) else 0.0
        else:  # or the very names the scenario's message carries
            named = p.verbatim != p.message or p.type in signatures.NAME_ERRORS
            sim = 100.0 if named and p.verbatim in e.verbatim and (same_type or not p.type) \
                else 0.0
    else:
        sim = similarity(p.message, e.message)
    if sim < MATCH:
        return None
    return Hit(p, e, sim, same_type, bool(p.code) and p.code == e.code)


@dataclass
class Candidate:
    scenario: scenario.Scenario
    hits: list[Hit]
    context: dict[str, str]  # the scenario's cues found, and where
    decided: bool
    wants: tuple[str, ...] = ()  # an undecided scenario: the cues that would decide it
    ruled_out: str = ""  # why the text rules it out ([[explain.unless]])
    tie: list[str] = field(default_factory=list)

    @property
    def best(self) -> Hit | None:
        """The hit that counted most; None for a scenario listed only as its family's."""
        return max(self.hits, key=lambda h: (h.points, h.pattern.source == "measured"),
                   default=None)

    @property
    def parts(self) -> dict:
        b = self.best
        if b is None:
            return {"message": 0, "type": "", "code": "", "context": list(self.context)}
        return {"message": round(b.message), "type": b.error.type if b.type else "",
                "code": b.error.code if b.code else "", "context": list(self.context)}

    @property
    def score(self) -> int:
        if self.best is None:
            return 0
        return min(100, self.best.points + POINTS["context"] * bool(self.context))

    @property
    def rank_key(self) -> tuple:
        # Of two with the same evidence, the one whose context is narrower (one worker's
        # prefork pool, before any prefork server) names the cause more exactly.
        return (self.decided and not self.ruled_out, self.score,
                -len(self.scenario.cues) if self.context else 0,
                self.best is not None and self.best.pattern.source == "measured")


def candidates(evidence: parse.Evidence, text: str, patterns: list[signatures.Pattern],
               scenarios: dict[str, scenario.Scenario]) -> list[Candidate]:
    """Every scenario the errors point to, decided ones first, best first."""
    cues = context(evidence, text)
    found = errors(evidence)
    out: dict[str, Candidate] = {}
    for p in patterns:
        s = scenarios[p.scenario]
        mine = {c: where for c, where in cues.items() if c in s.cues}
        hits = [h for e in found if (h := hit(p, e, bool(mine)))]
        if not hits:
            continue
        decided = not p.needs_cue or bool(mine)
        c = out.get(s.id)
        if c is None:
            out[s.id] = Candidate(s, hits, mine, decided,
                                  () if decided else tuple(s.cues))
        else:
            c.hits += hits
            if decided and not c.decided:
                c.decided, c.wants = True, ()
    for c in out.values():
        rule = next((u for u in c.scenario.unless if u.pattern.search(text)), None)
        if rule:
            c.ruled_out = rule.because
    ranked = sorted(out.values(), key=lambda c: c.rank_key, reverse=True)
    for c in ranked:
        c.tie = [o.scenario.code for o in ranked if o is not c and o.rank_key == c.rank_key]
    return ranked
