"""The catalogue's errors as signatures: what explain may match a pasted error against.

Only errors are signatures. A scenario's symptom (measured by the lab, per version set) or a text
someone reported for its cause is read line by line with the parser that reads the user's
paste; the lines that are errors (an exception, an error log line) become patterns. A silent
outcome (a lost update, a wrong count, a status line the repro prints) is no pattern: it is
described in the scenario's answer but never matched, so the lab's own outputs pasted back in
name nothing.

Each pattern keeps what can be compared: the exception's unqualified type, its message
normalised (paths, numbers, addresses and quoted names taken out), SQLAlchemy's error code, and
whether the scenario names it only in a context (``needs_cue``: the message alone has causes
outside the catalogue), or, for a short message, with any names (``sole_cause``: its one cause
is the scenario).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

from pitfall_lab.catalogue import scenario
from pitfall_lab.explain import parse

# The labels the lab's repros print before an error ("worker 1: ", "TestA.test2: failure: ").
_PREFIXES = re.compile(
    r"^(?:E\s{2,}|\s*\|\s*|>\s+|(?:worker \d+|[AB]|failed|finished|after the \w+|Test\w+\.test\w*|"
    r"\w+\.\w+: failure|failure)\s*:\s*)+", re.I)
_NORMALISE = [
    (re.compile(r"[\u2018\u2019\u201a\u2032]"), "'"),  # what a chat or word processor does to quotes
    (re.compile(r"[\u201c\u201d\u201e]"), '"'),
    (re.compile(r"\(Background on this error at: [^)]*\)"), ""),
    (re.compile(r"\(raised as a result of Query-invoked autoflush;[^)]*\)\s*"), ""),
    (re.compile(r"(Original exception was:).*", re.I), r"\1 <exception>"),
    (re.compile(r"(?:\bsee )?https?://\S+", re.I), ""),  # links to docs: SQLAlchemy's, Flask's
    (re.compile(r"\[SQL: .*", re.S), ""),  # the statement and its parameters are the app's own
    (re.compile(r"\s*\bLINE \d+: .*", re.S), ""),  # PostgreSQL quoting it (and its HINT after)
    (re.compile(r'File "[^"]*"'), "File <path>"),
    (re.compile(r"(?<![\w<])(?:/[\w.\-]+)+/?|<workdir>(?:/[\w.\-]+)*|[A-Z]:\\[\S]+"), "<path>"),
    (re.compile(r"\bline \d+"), "line <n>"),
    (re.compile(r"0x[0-9a-fA-F]+|0x…"), "0x<addr>"),
    (re.compile(r"\b(pid|port|process|PID)[ =:]+\d+"), r"\1 <n>"),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b|\blocalhost:\d+"), "<host>"),
    (re.compile(r"\b(no such (?:table|column)|constraint failed|relation|table|column(?: named)?"
                r"|cannot import name|no module named)(:?\s+)[\"']?[\w.]+[\"']?"), r"\1\2<name>"),
    (re.compile(r" of relation <name>"), ""),  # PostgreSQL 12 on names the table; older ones do not
    (re.compile(r"<(\w+) at 0x<addr>>"), "<object>"),
    # Quoted names ('User', "account"), but not the database's own (pg_type_typname_nsp_index).
    (re.compile(r"(?!['\"`](?:pg|sqlite)_)(?:'[\w.<>]*'|\"[\w.<>]*\"|`[\w.<>]*`)"), "<q>"),
    (re.compile(r"[`'\"]"), ""),
    (re.compile(r"\s+"), " "),
]
_DRIVER = re.compile(r"^(?:\([\w.]+\) )+")
_DBAPI = re.compile(r"^\(([\w.]+)\) ")
_PLACEHOLDER = re.compile(r"<(q|name|path|n|host|object|addr)>|[^a-z]")
NAME_ERRORS = frozenset({"AttributeError", "KeyError", "NameError", "TypeError"})
GENERIC = 20  # letters a message needs, names taken out, to say something on its own


def normalise(message: str) -> str:
    """A message with what differs between two apps taken out, lower case."""
    for pattern, replacement in _NORMALISE:
        message = pattern.sub(replacement, message)
    return _DRIVER.sub("", message.strip().lower()).strip()


def is_generic(normalised: str) -> bool:
    """A message that says little once names are out ("database is locked", "no module named
    <q>"): it counts only with the same names, or in the scenario's context."""
    return len(_PLACEHOLDER.sub("", normalised)) < GENERIC


def verbatim(message: str) -> str:
    """The message with names kept, for generic messages: lower case, spaces collapsed."""
    for pattern, replacement in _NORMALISE[:3]:
        message = pattern.sub(replacement, message)
    return " ".join(message.lower().split()).rstrip(".!")  # a sentence's full stop or not


@dataclass(frozen=True)
class Pattern:
    """One error a scenario ends in, as explain compares it."""
    scenario: str
    source: str  # "measured" (a symptom the lab declares) or "reported" (by someone else)
    label: str  # the symptom's case, or the report's source
    text: str  # the line as declared
    type: str  # unqualified exception name; "" for an error line that names none
    message: str  # normalised
    verbatim: str
    code: str  # SQLAlchemy's error code, "" when none
    needs_cue: bool
    version_sets: tuple[str, ...] = ()
    sole_cause: bool = False  # a generic message that names the scenario with any names
    # The driver's exception inside SQLAlchemy's wrapper ("(psycopg2.errors.UndefinedColumn)
    # ..." -> "UndefinedColumn"): a paste that shows the driver's own exception, its wrapper cut
    # off, is the same class.
    dbapi: str = ""

    @property
    def generic(self) -> bool:
        # Python's own errors about a name ('X' object has no attribute 'y') say what they say
        # in the names: the same names, or the scenario's context, are needed.
        return is_generic(self.message) or self.type in NAME_ERRORS


# Where an exception starts inside a repro's output line ("POST /users ada: sqlalchemy.exc...").
_EXCEPTION_START = re.compile(r"(?:^|(?<=[\s:]))(?:[a-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Warning"
                              r"|Violation|Exit):")


def errors_in(text: str) -> list[tuple[str, str, str, str]]:
    """The errors a declared text (or any text) shows: (type, message, code, line)."""
    out = []
    for raw in text.splitlines():
        line = _PREFIXES.sub("", raw).strip()
        if not line:
            continue
        start = _EXCEPTION_START.search(line)
        if start and start.start():
            line = line[start.start():]
        evidence = parse.parse(line)
        if evidence.exceptions:
            exc = evidence.exceptions[-1]
            out.append((exc.name, exc.flat, exc.sqlalchemy_code, line))
        elif evidence.errors:
            log = evidence.errors[0].log
            out.append(("", log.message if log else line, "", line))
        elif parse.is_error_message(line):
            out.append(("", line, "", line))
    return out


def dbapi(message: str) -> str:
    """The unqualified class of the driver's exception a SQLAlchemy message wraps, or ""."""
    found = _DBAPI.match(message.strip())
    return found.group(1).rpartition(".")[2] if found else ""


def version_sets(root: Path) -> dict[str, dict[str, str]]:
    """constraints/<set>.txt: the pins of each version set, the one place that names them."""
    sets = {}
    for path in sorted((root / "constraints").glob("*.txt")):
        pins = dict(re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", path.read_text(), re.M))
        sets[path.stem] = {name.lower(): v for name, v in pins.items()}
    return sets


def known_bad(root: Path) -> set[str]:
    """The sets that are a known-bad pair (their constraints/<set>.in says so): the whole lab
    does not run there, only the scenario written for that pair."""
    return {path.stem for path in (root / "constraints").glob("*.in")
            if "a known-bad combination" in path.read_text().split("\n", 1)[0]}


def _on_sets(symptom: scenario.Symptom, sets: dict[str, dict[str, str]],
             bad: set[str] = frozenset()) -> tuple[str, ...]:
    on = tuple(name for name, pins in sets.items()
               if all(req.name.lower() in pins and req.specifier.contains(
                   pins[req.name.lower()], prereleases=True) for req in symptom.when))
    # A known-bad set measured a symptom only where the symptom is written for it alone.
    regular = tuple(name for name in on if name not in bad)
    return regular or on


def patterns(scenarios: dict[str, scenario.Scenario]) -> list[Pattern]:
    """Every error the catalogue declares or reports, once per scenario and message."""
    sets, bad = version_sets(scenario.ROOT), known_bad(scenario.ROOT)
    out: dict[tuple, Pattern] = {}

    def add(sid, source, label, text, needs_cue, on_sets=(), sole_cause=False):
        for type_, message, code, line in errors_in(scenario.expand(text)):
            if type_ in scenarios[sid].trigger:
                continue
            family = scenarios[sid].family
            # The message of an error several scenarios end in has a plain cause outside the
            # catalogue too: it names the scenario only in the scenario's context.
            shared = bool(family) and family in normalise(message)
            p = Pattern(sid, source, label, line, type_, normalise(message), verbatim(message),
                        code, needs_cue or shared, on_sets, sole_cause and not shared,
                        dbapi(message))
            key = (sid, p.type, p.message, p.needs_cue)
            seen = out.get(key)
            if seen is None or (source == "measured" and seen.source != "measured"):
                out[key] = p
            elif source == seen.source == "measured":  # the same error on more sets
                out[key] = replace(seen, version_sets=tuple(sorted(set(
                    seen.version_sets + on_sets))))

    for s in scenarios.values():
        for sym in s.symptoms:
            if sym.affected and not sym.points_to:
                add(s.id, "measured", sym.case, sym.text, sym.needs_cue,
                    _on_sets(sym, sets, bad), sym.sole_cause)
        for report in s.reported:
            add(s.id, "reported", report.source, report.text, report.needs_cue)
    return list(out.values())
