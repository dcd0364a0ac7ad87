"""Scenario metadata: one TOML file per scenario under ``scenarios/``, one schema for all.

A malformed file raises :class:`MetadataError`, whose message is one line naming the
file and the field.
"""
from __future__ import annotations

import enum
import re
import shutil
import string
import sys
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from pitfall_lab.catalogue import locate

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = locate.root()
SCENARIO_DIR = ROOT / "scenarios"
# A source is described in words (what it is, its language, what it reported): a file name
# like 001_5c707df2ac66e183.txt names a write-up the lab's users do not have.
FILE_NAME = re.compile(r"^\S+\.(txt|md|html?)$")
ID_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
SERVERS = {"postgresql", "mariadb", "redis", "uwsgi", "gunicorn"}
# Context cues a pasted error can carry (pitfall_lab.explain.score.context finds each).
CUES = ("uwsgi", "gunicorn", "celery", "rq", "reloader", "unittest", "threads", "cron", "fork",
        "pytest", "import-cycle", "delete", "relative-path")


class Level(str, enum.Enum):
    """How much a doctor finding weighs ([doctor] level): the gate's --fail-level, the table,
    the JSON and SARIF all use these, from the lowest to the highest."""
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def rank(self) -> int:
        return list(Level).index(self)


CHECK_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
UNCOVERED_NAME = "not-covered"


class MetadataError(Exception):
    """A scenario file breaks the schema; ``str()`` is one line: file, field, problem."""


class UnknownScenario(LookupError):
    pass


def installed(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def expand(text: str) -> str:
    """Fill in <sa>: SQLAlchemy stamps its error links with its own version (sqlalche.me/e/20/)."""
    if "<sa>" not in text:
        return text
    sa_version = installed("sqlalchemy") or ""
    return text.replace("<sa>", "".join(sa_version.split(".")[:2]))


def installed_versions() -> dict[str, str | None]:
    return {p: installed(p) for p in ("flask", "flask-sqlalchemy", "sqlalchemy", "werkzeug")}


@dataclass(frozen=True)
class Symptom:
    case: str
    text: str
    when: tuple[Requirement, ...] = ()
    affected: bool = True  # False: on these versions the repro runs without the failure
    # The test parameters it is for, named as the test names them: (("wsgi_server", "uwsgi"),)
    where: tuple[tuple[str, str], ...] = ()
    needs_cue: bool = False  # alone, the text has many causes: explain wants a context cue too
    points_to: str = ""  # the text is another scenario's own symptom: explain names that one
    # The opposite of needs_cue: a short message (a name and a few words) whose one cause is
    # this scenario, so explain names it whatever names the paste carries ('no such column: x').
    sole_cause: bool = False

    def applies(self, **params) -> bool:
        return _applies(self.when, self.where, params)


def _applies(when, where, params) -> bool:
    """On the installed versions, and for the test's parameters (``variant``, ``server``...)
    where ``where`` names them."""
    if any(str(params.get(key)) != value for key, value in where):
        return False
    for req in when:
        found = installed(req.name)
        if found is None or not req.specifier.contains(found, prereleases=True):
            return False
    return True


@dataclass(frozen=True)
class Skip:
    """Tests that cannot run on some versions without changing the lesson; the reason is shown
    in the run and in REPORT.md."""
    reason: str
    when: tuple[Requirement, ...]
    where: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Reported:
    """A text someone else reported for this scenario's cause: not measured by the lab."""
    text: str
    source: str  # a link a user can open, or the source described in words
    needs_cue: bool = False


@dataclass(frozen=True)
class Doctor:
    """[doctor]: the doctor check that covers the scenario (its id is ``<code>-<name>``), or
    ``uncovered``: why none does and what would; then the doctor's verdict is "could not
    check" with that reason, at level info."""
    id: str
    level: Level
    title: str
    hint: str  # the fix in a few words; the doctor adds `pitfall-lab show <id>`
    uncovered: str = ""


@dataclass(frozen=True)
class Alert:
    """[guard] or [plugin]: what a runtime detector says when it catches the pitfall: a
    message with {named} fields that the detector fills in, and the fix."""
    message: str
    fix: str = ""

    @property
    def fields(self) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(self.message) if name}


@dataclass(frozen=True)
class Variant:
    scenario: str
    kind: str  # "repro" or "fix"
    name: str  # "" when the scenario has a single repro or a single fix
    path: Path
    summary: str
    # A fix: the names of the repros it answers, when it answers only some of them ([[fixes]]
    # repros; every repro when empty).
    answers: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.kind}-{self.name}" if self.name else self.kind

    def copy_to(self, parent: Path) -> Path:
        """A private copy of the variant's files to run, so that no run sees another's state."""
        dest = parent / str(self)
        shutil.copytree(self.path, dest, ignore=shutil.ignore_patterns(
            "__pycache__", "instance", "*.db", ".pytest_cache"))
        return dest


@dataclass(frozen=True)
class Scenario:
    id: str
    code: str
    title: str
    sources: tuple[str, ...]
    cause: str  # one line
    root_cause: str
    symptoms: tuple[Symptom, ...]
    repros: tuple[Variant, ...]
    fixes: tuple[Variant, ...]
    catches: tuple[str, ...]
    references: tuple[str, ...]
    servers: tuple[str, ...]
    source: Path
    tell: str = ""  # what tells it apart from look-alikes, and how to check
    cues: tuple[str, ...] = ()
    reported: tuple[Reported, ...] = ()
    skips: tuple[Skip, ...] = ()
    family: str = ""  # an error several scenarios end in ("no such table"): show lists them all
    doctor: Doctor | None = None
    guard: Alert | None = None  # the runtime guard's warning
    plugin: Alert | None = None  # the pytest plugin's --pitfall-lab gate
    confirm: str = ""  # [explain] confirm: how to confirm it, where the doctor cannot
    unless: tuple[Unless, ...] = ()  # [[explain.unless]]: look-alikes that rule it out
    # [explain] trigger: exception classes in its symptoms that set the pitfall off (the first
    # job's IntegrityError) rather than show it: explain never matches them.
    trigger: tuple[str, ...] = ()

    @property
    def variants(self) -> tuple[Variant, ...]:
        return self.repros + self.fixes

    def fix_for(self, repro: Variant) -> Variant:
        """The first fix that answers ``repro``."""
        return next(f for f in self.fixes if not f.answers or repro.name in f.answers)

    def variant(self, name: str) -> Variant:
        for v in self.variants:
            if str(v) == name:
                return v
        known = ", ".join(str(v) for v in self.variants)
        raise UnknownScenario(f"scenario {self.id!r} has no variant {name!r} (known: {known})")

    def declared(self, case: str, **params) -> Symptom:
        """The symptom declared for ``case`` on the installed versions and the test's
        ``params``; where several match, the one that names the most parameters."""
        cases = [s for s in self.symptoms if s.case == case]
        if not cases:
            raise LookupError(f"{self.source.name}: no symptom with case {case!r}")
        matching = [s for s in cases if s.applies(**params)]
        most = max((len(s.where) for s in matching), default=0)
        matching = [s for s in matching if len(s.where) == most]
        if len(matching) != 1:
            on = ", ".join(f"{k} {v}" for k, v in
                           [*installed_versions().items(), *sorted(params.items())])
            raise LookupError(
                f"{self.source.name}: {len(matching)} symptoms for case {case!r} match {on}; "
                "declare exactly one for these versions"
            )
        return matching[0]

    def symptom(self, case: str, **params) -> str:
        """The exact symptom text declared for ``case`` on the installed versions (and the
        test's ``params``, where a symptom depends on them)."""
        return expand(self.declared(case, **params).text)

    def affected(self, case: str, **params) -> bool:
        return self.declared(case, **params).affected

    def unaffected_texts(self, **params) -> set[str]:
        """The texts of every case declared not affected (the repro runs without the failure)
        on the installed versions, for a test with these parameters."""
        return {expand(s.text) for s in self.symptoms if not s.affected and s.applies(**params)}

    def skip_reason(self, **params) -> str | None:
        """Why a test with these parameters does not run on the installed versions, if the
        metadata says it cannot."""
        return next((s.reason for s in self.skips if _applies(s.when, s.where, params)), None)


class _Fields:
    """Reads one TOML table, turning every schema violation into a one-line error."""

    def __init__(self, source: Path, table: dict, where: str = ""):
        self.source, self.table, self.where = source, table, where

    def fail(self, name: str, problem: str):
        first_line = problem.strip().splitlines()[0]  # some library messages draw a caret below
        raise MetadataError(f"{self.source}: {self.where}{name}: {first_line}")

    def str(self, name: str, *, default: str | None = None, pattern: re.Pattern | None = None,
            exact: bool = False) -> str:
        value = self.table.get(name, default)
        if value is None:
            self.fail(name, "missing")
        if not isinstance(value, str) or (not value.strip() and default is None):
            self.fail(name, "must be a non-empty string")
        if pattern and not pattern.match(value):
            self.fail(name, f"{value!r} does not match {pattern.pattern}")
        return value.strip("\n") if exact else value.strip()

    def strs(self, name: str, *, required: bool = True) -> tuple[str, ...]:
        value = self.table.get(name, None if required else [])
        if value is None:
            self.fail(name, "missing")
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.fail(name, "must be a list of non-empty strings")
        if required and not value:
            self.fail(name, "must not be empty")
        return tuple(value)

    def bool(self, name: str, default: bool = False) -> bool:
        value = self.table.get(name, default)
        if not isinstance(value, bool):
            self.fail(name, "must be true or false")
        return value

    def tables(self, name: str) -> list[_Fields]:
        value = self.table.get(name)
        if not isinstance(value, list) or not value or not all(isinstance(t, dict) for t in value):
            self.fail(name, "must be one or more [[" + name + "]] tables")
        return [_Fields(self.source, t, f"{self.where}{name}[{i}].") for i, t in enumerate(value)]

    def only(self, allowed: set[str]):
        extra = sorted(set(self.table) - allowed)
        if extra:
            self.fail(extra[0], "unknown field")


def _variants(sid: str, kind: str, fields: list[_Fields],
              repros: tuple[Variant, ...] = ()) -> tuple[Variant, ...]:
    many = len(fields) > 1
    out: list[Variant] = []
    for f in fields:
        f.only({"name", "summary"} | ({"repros"} if kind == "fix" else set()))
        name = f.str("name", default="", pattern=re.compile(r"^([a-z][a-z0-9_]*)?$"))
        if many and not name:
            f.fail("name", f"required when a scenario has several {kind}es")
        path = ROOT / ("repros" if kind == "repro" else "fixes") / sid / name
        if not path.is_dir():
            f.fail("name", f"no directory {path.relative_to(ROOT)}")
        answers = f.strs("repros", required=False) if kind == "fix" else ()
        unknown = set(answers) - {r.name for r in repros}
        if unknown:
            f.fail("repros", f"no repro named {sorted(unknown)[0]!r}")
        out.append(Variant(sid, kind, name, path, f.str("summary"), answers))
    if len({v.name for v in out}) != len(out):
        fields[0].fail("name", f"duplicate {kind} names")
    if kind == "fix":
        for r in repros:
            if not any(not v.answers or r.name in v.answers for v in out):
                fields[0].fail("repros", f"no fix answers the repro {r.name!r}")
    return tuple(out)


def _where(f: _Fields) -> tuple[tuple[str, str], ...]:
    where = f.table.get("where", {})
    if not isinstance(where, dict) or not all(isinstance(v, str) and v for v in where.values()):
        f.fail("where", "must be a table of test parameter names to strings")
    return tuple(sorted(where.items()))


def _when(f: _Fields, required: bool = False) -> tuple[Requirement, ...]:
    when = []
    for spec in f.strs("when", required=required):
        try:
            when.append(Requirement(spec))
        except InvalidRequirement as exc:
            f.fail("when", f"{spec!r} is not a requirement specifier ({exc})")
    return tuple(when)


def _symptom(f: _Fields) -> Symptom:
    f.only({"case", "text", "when", "affected", "where", "needs_cue", "points_to", "sole_cause"})
    affected = f.bool("affected", default=True)
    points_to = f.str("points_to", default="", pattern=re.compile(r"^([a-z][a-z0-9_]*)?$"))
    if points_to and not (SCENARIO_DIR / f"{points_to}.toml").is_file():
        f.fail("points_to", f"no scenario {points_to!r}")
    if f.bool("sole_cause") and f.bool("needs_cue"):
        f.fail("sole_cause", "a text with one cause needs no context: not with needs_cue")
    return Symptom(f.str("case"), f.str("text", exact=True), _when(f), affected, _where(f),
                   f.bool("needs_cue"), points_to, f.bool("sole_cause"))


def _skip(f: _Fields) -> Skip:
    f.only({"reason", "when", "where"})
    return Skip(f.str("reason"), _when(f, required=True), _where(f))


def _one_line(f: _Fields, name: str, **kw) -> str:
    value = f.str(name, **kw)
    if "\n" in value:
        f.fail(name, "must be one line")
    return value


def _table(f: _Fields, name: str) -> _Fields | None:
    if name not in f.table:
        return None
    if not isinstance(f.table[name], dict):
        f.fail(name, f"must be a [{name}] table")
    return _Fields(f.source, f.table[name], f"{f.where}{name}.")


def _doctor(f: _Fields, code: str) -> Doctor | None:
    d = _table(f, "doctor")
    if d is None:
        return None
    d.only({"name", "level", "title", "hint", "uncovered"})
    if "uncovered" in d.table:
        check = sorted({"name", "level", "title", "hint"} & set(d.table))
        if check:
            d.fail(check[0], "a check (name, level, title, hint) or uncovered, not both")
        return Doctor(f"{code}-{UNCOVERED_NAME}", Level.INFO, "", "",
                      _one_line(d, "uncovered"))
    if "name" not in d.table:
        d.fail("name", "missing (or say why no check covers it: uncovered = \"...\")")
    name = d.str("name", pattern=CHECK_NAME)
    if name == UNCOVERED_NAME:
        d.fail("name", f"{name!r} is the name of a scenario no check covers")
    level = d.str("level")
    if level not in {v.value for v in Level}:
        d.fail("level", f"{level!r} is not one of {', '.join(v.value for v in Level)}")
    return Doctor(f"{code}-{name}", Level(level), _one_line(d, "title"), _one_line(d, "hint"))


def _alert(f: _Fields, name: str) -> Alert | None:
    a = _table(f, name)
    if a is None:
        return None
    a.only({"message", "fix"})
    message = _one_line(a, "message")
    try:
        fields = list(string.Formatter().parse(message))
    except ValueError as exc:
        a.fail("message", f"not a format string ({exc})")
    if any(field == "" or (field and not field.isidentifier()) for _, field, _, _ in fields):
        a.fail("message", "name every {field}: {pid}, not {} or {0}")
    return Alert(message, _one_line(a, "fix", default=""))


@dataclass(frozen=True)
class Unless:
    """[[explain.unless]]: text that, found in a pasted error, rules the scenario out, and why
    (the look-alike cause that text shows)."""
    pattern: re.Pattern
    because: str


def _explain(f: _Fields) -> tuple[str, tuple[Unless, ...], tuple[str, ...]]:
    e = _table(f, "explain")
    if e is None:
        return "", (), ()
    e.only({"confirm", "unless", "trigger"})
    trigger = e.strs("trigger", required=False)
    for name in trigger:
        if not name.isidentifier():
            e.fail("trigger", f"{name!r} is not an exception class name")
    unless = []
    if "unless" in e.table:
        for u in e.tables("unless"):
            u.only({"pattern", "because"})
            try:
                pattern = re.compile(u.str("pattern"), re.M)
            except re.error as exc:
                u.fail("pattern", f"not a regular expression ({exc})")
            unless.append(Unless(pattern, _one_line(u, "because")))
    return (_one_line(e, "confirm") if "confirm" in e.table else ""), tuple(unless), trigger


_loaded: dict[tuple, Scenario] = {}


def load_file(path: Path) -> Scenario:
    """The scenario in ``path``, validated; parsed once per process while the file is unchanged
    (a test session loads the catalogue from many modules)."""
    stat = path.stat()
    key = (path, stat.st_mtime_ns, stat.st_size)
    if key not in _loaded:
        _loaded[key] = _parse(path)
    return _loaded[key]


def _parse(path: Path) -> Scenario:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise MetadataError(f"{path}: not valid TOML ({str(exc).splitlines()[0]})") from None
    f = _Fields(path, data)
    f.only({"id", "code", "title", "sources", "cause", "root_cause", "symptoms", "repros",
            "fixes", "catches", "references", "servers", "tell", "cues", "reported", "skips",
            "family", "doctor", "guard", "plugin", "explain"})
    sid = f.str("id", pattern=ID_NAME)
    if sid != path.stem:
        f.fail("id", f"{sid!r} differs from the file name {path.stem!r}")
    sources = f.strs("sources")
    for source in sources:
        if FILE_NAME.match(source.strip()):
            f.fail("sources", f"{source!r}: describe the source in words (what it is, its "
                              "language, what it reported); links go in references")
    servers = f.strs("servers", required=False)
    for server in servers:
        if server not in SERVERS:
            f.fail("servers", f"{server!r} is not one of {sorted(SERVERS)}")
    cues = f.strs("cues", required=False)
    for cue in cues:
        if cue not in CUES:
            f.fail("cues", f"{cue!r} is not one of {', '.join(CUES)}")
    cause = f.str("cause")
    if "\n" in cause:
        f.fail("cause", "must be one line")
    reported = []
    if "reported" in f.table:
        for r in f.tables("reported"):
            r.only({"text", "source", "needs_cue"})
            reported.append(Reported(r.str("text", exact=True), r.str("source"),
                                     r.bool("needs_cue")))
    explain = _explain(f)
    return Scenario(
        id=sid,
        cause=cause,
        tell=f.str("tell", default=""),
        cues=cues,
        reported=tuple(reported),
        code=f.str("code", pattern=re.compile(r"^S\d\d[a-z]?$")),  # CODE_NAME, upper case
        title=f.str("title"),
        sources=sources,
        root_cause=f.str("root_cause"),
        symptoms=tuple(_symptom(s) for s in f.tables("symptoms")),
        repros=(repros := _variants(sid, "repro", f.tables("repros"))),
        fixes=_variants(sid, "fix", f.tables("fixes"), repros),
        catches=f.strs("catches", required=False),
        references=f.strs("references"),
        servers=servers,
        source=path,
        skips=tuple(_skip(t) for t in f.tables("skips")) if "skips" in f.table else (),
        family=f.str("family", default=""),
        doctor=_doctor(f, f.table["code"]),  # after code=, which checked it
        guard=_alert(f, "guard"),
        plugin=_alert(f, "plugin"),
        confirm=explain[0],
        unless=explain[1],
        trigger=explain[2],
    )


def load_all() -> dict[str, Scenario]:
    scenarios = [load_file(p) for p in sorted(SCENARIO_DIR.glob("*.toml"))]
    return {s.id: s for s in sorted(scenarios, key=lambda s: s.code)}


def family(scenarios: dict[str, Scenario], name: str) -> list[Scenario]:
    """The scenarios that end in the error ``name`` (their ``family``), in catalogue order."""
    return [s for s in scenarios.values() if name and s.family == name]


CODE_NAME = re.compile(r"^[Ss]\d\d[a-z]?$")


def load(name: str) -> Scenario:
    """A scenario by its id (its file's name) or its code, in either case (``Snn``, ``snn``)."""
    if CODE_NAME.match(name):
        found = [s for s in load_all().values() if s.code.lower() == name.lower()]
        if found:
            return found[0]
    path = SCENARIO_DIR / f"{name}.toml"
    if not ID_NAME.match(name) or not path.is_file():
        known = ", ".join(f"{s.code} {s.id}" for s in load_all().values())
        raise UnknownScenario(f"unknown scenario {name!r} (known: {known})")
    return load_file(path)
