"""Pasted text to evidence: the exceptions, frames, log lines and test results it shows.

``parse(text)`` reads an error as a user pastes it (a traceback, a server or worker log, pytest
or unittest output, a bare error line, or several of these at once) and returns an `Evidence`:

- every exception, in the order printed, grouped in chains (Python's "During handling of the
  above exception ..." and "The above exception was the direct cause ..."), each with its
  qualified type, its whole message (all its lines), the DBAPI error inside SQLAlchemy's
  wrapper, SQLAlchemy's error code and version, and its frames, each frame classified as the
  user's code, a library (named by its path) or the standard library;
- the log lines, whatever wrote them (Python logging, Flask, gunicorn, uWSGI, Celery, rq, the
  Werkzeug dev server, PostgreSQL, syslog/cron, pip and click's ``Error:``), with their
  timestamp, level, pid and process or worker name where the line shows them;
- pytest's and unittest's results: ``E`` lines, the short summary, the section headers;
- every line, with what it is (``kind``) and whether it is an error (``is_error``):
  ``Evidence.errors == []`` says the text shows no error at all.

It is robust to what chats and issue trackers do to a paste: ``>`` quote markers, re-indented
or flush-left lines, CRLF, ANSI colours, docker-compose/journald/Heroku prefixes, frame lines
and fixed sentences broken in two, and a message split across lines (kept whole in
``message``; ``ExceptionInfo.flat`` is it on one line).

Evidence only: no matching, no scenarios. Standard library only (no Flask, no SQLAlchemy), regexes
compiled once: a 200-line traceback parses in about a millisecond.

    python -m pitfall_lab.explain.parse FILE    # the evidence as JSON (- reads stdin)
"""
from __future__ import annotations

import functools
import json
import re
import sys
from dataclasses import asdict, dataclass, field

__all__ = ["Frame", "ExceptionInfo", "LogLine", "TestResult", "Line", "Evidence", "parse",
           "classify_path", "is_error_line", "is_error_message", "main"]

ERROR_LEVELS = frozenset({"ERROR", "CRITICAL", "FATAL", "PANIC", "EMERG", "ALERT", "CRIT"})


# -- the result ----------------------------------------------------------------------------

@dataclass
class Frame:
    """One ``File "...", line N, in f`` entry (or pytest's ``path:N: ...`` location)."""
    file: str
    line: int | None
    function: str = ""  # "" where not shown (a SyntaxError's frame, pytest's long format)
    source: str = ""  # the source line under it, stripped; "" when not shown
    origin: str = "user"  # "user", "library" (an installed package) or "stdlib"
    library: str = ""  # which: "sqlalchemy", "flask.cli", "werkzeug.reloader", "threading", ...

    @property
    def is_user(self) -> bool:
        return self.origin == "user"


@dataclass
class ExceptionInfo:
    """One exception as printed: ``type: message`` and the frames above it."""
    type: str  # qualified as printed: "sqlalchemy.exc.OperationalError", "KeyError"
    message: str = ""  # every line of it, "\n"-joined, trailing blank lines dropped
    frames: list[Frame] = field(default_factory=list)  # outermost first, as printed
    chain: int = 0  # index of its chain in Evidence.chains
    relation: str = ""  # to the exception before it in its chain: "cause" (raise ... from,
    # "The above exception was the direct cause ..."), "context" ("During handling ..."), ""
    found_in: str = "traceback"  # "traceback", "bare" (a line alone), "prose" (inside a
    # sentence), "pytest" (E lines),
    # "pytest-summary" (a FAILED/ERROR line only)
    line_no: int = 0  # 1-based line of the exception line in the pasted text
    dbapi_type: str = ""  # "(psycopg2.OperationalError) ..." -> "psycopg2.OperationalError"
    dbapi_message: str = ""  # the driver's message: after "(type) ", before [SQL: ...]
    sql: str = ""  # the statement inside "[SQL: ...]"
    parameters: str = ""  # inside "[parameters: ...]"
    sqlalchemy_code: str = ""  # "https://sqlalche.me/e/14/3o7r" -> "3o7r"
    sqlalchemy_version: str = ""  # ... -> "14" ("" for the old unversioned links)

    @property
    def name(self) -> str:
        """The unqualified class name: "OperationalError"."""
        return self.type.rpartition(".")[2]

    @property
    def flat(self) -> str:
        """The message on one line, whitespace collapsed (undoes a message split by wrapping)."""
        return " ".join(self.message.split())

    @property
    def first_line(self) -> str:
        return self.message.split("\n", 1)[0]


@dataclass
class LogLine:
    """A line some logger, server or tool wrote, with what its format shows."""
    source: str  # "python", "flask", "gunicorn", "uwsgi", "celery", "rq", "werkzeug", "access",
    # "postgresql", "syslog", "docker", "heroku", "kernel", "threading", "cli", "log"
    message: str  # the line without its prefix
    timestamp: str = ""  # as shown, not interpreted
    level: str = ""  # upper case, WARN -> WARNING; "" when the format shows none
    pid: int | None = None
    process: str = ""  # "ForkPoolWorker-1", "worker 1", "master", "reloader", "Thread-7", ...
    logger: str = ""  # "root", "app", "werkzeug", ...
    status: int | None = None  # an HTTP status in a request log line
    job: str = ""  # a Celery task's or an rq job's name
    job_id: str = ""


@dataclass
class TestResult:
    """A test's outcome as pytest or unittest printed it."""
    __test__ = False  # not a test class, for pytest
    outcome: str  # "FAILED", "ERROR", "PASSED", ... (pytest); "FAIL", "ERROR" (unittest)
    test: str  # node id or "test_x (module.Class.test_x)"
    reason: str = ""  # pytest summary's text after " - "
    line_no: int = 0


@dataclass
class Line:
    number: int  # 1-based, in the pasted text (a line joined from a broken one: its first)
    text: str  # cleaned: no ANSI, no quote markers, no transport prefix; indentation kept
    kind: str  # "blank", "text", "traceback", "frame", "source", "exception", "message",
    # "chain", "log", "pytest-e", "pytest-location", "pytest-section", "pytest-summary",
    # "test-result"
    is_error: bool = False
    log: LogLine | None = None


@dataclass
class Evidence:
    lines: list[Line]
    exceptions: list[ExceptionInfo]  # in the order printed, every chain's
    logs: list[LogLine]
    tests: list[TestResult]
    test_sections: list[str]  # pytest's "_____ test_name _____" headers, in order
    stray_frames: list[Frame] = field(default_factory=list)  # frames with no exception line

    @property
    def errors(self) -> list[Line]:
        """The lines that are errors: [] when the text shows none."""
        return [line for line in self.lines if line.is_error]

    @property
    def chains(self) -> list[list[ExceptionInfo]]:
        out: dict[int, list[ExceptionInfo]] = {}
        for exc in self.exceptions:
            out.setdefault(exc.chain, []).append(exc)
        return list(out.values())

    @property
    def last(self) -> ExceptionInfo | None:
        """The last exception printed (in a chain, the one that ended it)."""
        return self.exceptions[-1] if self.exceptions else None

    @property
    def frames(self) -> list[Frame]:
        return [f for exc in self.exceptions for f in exc.frames] + self.stray_frames

    @property
    def libraries(self) -> list[str]:
        """Every library the frames pass through, in order of first appearance."""
        return list(dict.fromkeys(f.library for f in self.frames if f.library))

    def to_dict(self) -> dict:
        data = asdict(self)
        data["errors"] = [line.number for line in self.errors]
        data["libraries"] = self.libraries
        return data


# -- patterns --------------------------------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Z0-9]"
                   r"|\x1b")
_QUOTE = re.compile(r"^[ \t]*> ?")
# A line an issue tracker or a chat wrapped: `...`, _..._, *...*, **...**, "...", '...'; and a
# stray backtick left at either end of a multi-line inline-code paste.
_WRAPPED = re.compile(r"""^(?P<indent>[ \t]*)(?P<mark>\*\*|__|[*_"'])(?P<body>\S.*?\S)(?P=mark)[.,]?\s*$""")
_TICKS = re.compile(r"^([ \t]*)`{1,2}(?!`)|(?<!`)`{1,2}\s*$")
_DOCKER = re.compile(r"^(?P<svc>[A-Za-z][\w.-]*?)(?:[-_]\d+)?[ \t]+\| ?(?P<body>.*)$")
_SYSLOG = re.compile(r"^(?P<ts>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (?P<host>[\w.-]+) "
                     r"(?P<prog>[\w.\-/@]+?)(?:\[(?P<pid>\d+)\])?: ?(?P<body>.*)$")
_HEROKU = re.compile(r"^(?P<ts>\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:?\d\d)) (?:app|heroku)"
                     r"\[(?P<dyno>[\w.-]+)\]: ?(?P<body>.*)$")
_PROG_PID = re.compile(r"^(?P<prog>CRON|cron|crond|systemd|kernel|anacron)\[(?P<pid>\d+)\]: "
                       r"?(?P<body>.*)$")

_TB_HEADER = "Traceback (most recent call last):"
_CAUSE = "The above exception was the direct cause of the following exception:"
_CONTEXT = "During handling of the above exception, another exception occurred:"
_SENTENCES = (_TB_HEADER, _CAUSE, _CONTEXT)
_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)(?:, in(?: (?P<func>\S.*?))?)?\s*$')
_FRAME_START = re.compile(r'^\s*File "')
_CARET = re.compile(r"^\s*[\^~+\-]{1,}\s*$|^\s*\[Previous line repeated \d+ more times?\]\s*$"
                    r"|^\s*\.\.\.\s*$")
# Any "name: message" the traceback ends with; after frames, whatever its name.
_EXC_ANY = re.compile(r"^(?P<type>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?::[ \t]?(?P<msg>.*))?$")
# A line alone that is an exception: qualified (module.Class) or a name that says it.
_EXC_STRICT = re.compile(
    r"^(?P<type>(?:[a-z_][\w]*\.)+[A-Z]\w*"
    r"|[A-Z]\w*(?:Error|Exception|Warning|Interrupt|Exit|Iteration|Violation|NotFound|Timeout"
    r"|Shutdown|Impossible)|Exception|KeyboardInterrupt|SystemExit|StopIteration)"
    r"(?::[ \t]?(?P<msg>.*)|[ \t]*)$")

# An exception quoted inside a sentence: a qualified name or one that says it is an error,
# then ": " and a message.
_EMBEDDED = re.compile(r"(?:^|(?<=[\s'\"`(\[]))(?P<type>(?:[a-z_]\w*\.)*[A-Z]\w*(?:Error|Exception))"
                       r": (?P<msg>\S.*)$")
_DBAPI = re.compile(r"^\((?P<type>[A-Za-z_][\w.]*)\) ?(?P<msg>.*)", re.S)
# SQLAlchemy's note before the DBAPI error when an autoflush raised it (on its line, or the next).
_AUTOFLUSH = re.compile(r"^\(raised as a result of Query-invoked autoflush;[^)]*\)\s*")
_SA_LINK = re.compile(r"https?://sqlalche\.me/e/(?:(?P<version>\d+)/)?(?P<code>[a-z0-9]+)")
_SA_TAIL = re.compile(r"^\s*(?:\[SQL: |\[parameters: |\[SQL parameters: |\(Background on this "
                      r"error at: )")
_SQL = re.compile(r"\[SQL: (?P<sql>.*?)\](?=\s*(?:\n|$))", re.S)
_PARAMS = re.compile(r"\[(?:SQL )?parameters: (?P<p>.*?)\](?=\s*(?:\n|$))", re.S)

_TS = r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:\s?(?:Z|UTC|GMT|[+-]\d\d:?\d\d))?"
_LEVEL_WORDS = r"DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL|EXCEPTION|NOTICE|LOG|PANIC|DETAIL" \
               r"|STATEMENT|HINT|CONTEXT|TRACE"
_GUNICORN = re.compile(rf"^\[(?P<ts>{_TS})\] \[(?P<pid>\d+)\] \[(?P<level>[A-Z]+)\] (?P<msg>.*)$")
_CELERY = re.compile(rf"^\[(?P<ts>{_TS}): (?P<level>[A-Z]+)/(?P<proc>[\w.\-]+)\] (?P<msg>.*)$")
_CELERY_TASK = re.compile(r"\bTask (?P<name>[\w.]+)\[(?P<id>[^\]]+)\]")
_FLASK = re.compile(rf"^\[?(?P<ts>{_TS})\]? (?P<level>[A-Z]+) in (?P<logger>[\w.]+): (?P<msg>.*)$")
_PYLOG = re.compile(r"^(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL):(?P<logger>[^:\s]+):"
                    r"(?P<msg>.*)$")
_BRACKETED = re.compile(r"^(?P<level>DEBUG|INFO|WARNI(?:NG)?|WARN|ERROR|CRITI(?:CAL)?)\s+\[(?P<logger>"
                        r"[\w.]+)\] (?P<msg>.*)$")
_TSLOG = re.compile(rf"^\[?(?P<ts>{_TS})\]?[ \t]*(?P<rest>.*)$")
_LEVEL = re.compile(rf"(?:^|[\s\[|:/-])(?P<level>{_LEVEL_WORDS})(?=$|[\s\]|:/-])")
_PID = re.compile(r"^\[(?P<pid>\d+)\]|\bpid[:= ]+(?P<pid2>\d+)|\[(?:pid )?(?P<pid3>\d+)\]")
_LOGGER = re.compile(r"^\[(?P<a>[A-Za-z_][\w.]*)\]\s|^(?P<b>[A-Za-z_][\w.]*) - |^(?P<c>[a-z_][\w.]*"
                     r"(?:\.[\w]+)+):? ")
_LOGGER_BEFORE = re.compile(r"[\s\-\[]*(?P<logger>[A-Za-z_][\w.]*)[\s\-\]]*")
_RQ = re.compile(r"^(?P<ts>\d\d:\d\d:\d\d) (?:(?P<queue>[\w][\w.\-]*): |\[Job (?P<jid>[\w\-]+)\]: "
                 r"|(?=Moving job|Worker |\*\*\* Listening|Cleaning registr|Subscribing|Work-horse"
                 r"|Job OK|Result|Sent heartbeat|Killed horse|Warm shut|Cold shut|Stopping|Unsubscr"
                 r"|Scheduler))(?P<msg>.*)$")
_PG_WAIT = re.compile(r"still waiting for \w*Lock|deadlock detected")
_RQ_JOB = re.compile(r"^(?P<name>[\w.]+)\(.*\) \((?P<id>[\w\-.]+)\)$")
_RQ_ERROR = re.compile(r"exception raised while executing|Job failed|Work-horse terminated "
                       r"unexpectedly|work horse .* (?:killed|terminated)|Moving job to "
                       r"FailedJobRegistry|Job \S+ timed out|JobTimeoutException", re.I)
_UWSGI_BANNER = re.compile(r"^\*\*\* (?P<msg>.+?) \*\*\*\s*$")
_UWSGI_SPAWN = re.compile(r"^(?:spawned|Respawned) uWSGI (?P<proc>master|worker \d+|http \d+|mule \d+)"
                          r"(?: process)? \((?:new )?pid: (?P<pid>\d+)")
_UWSGI_REQ = re.compile(r"^\[pid: (?P<pid>\d+)\|app: -?\d+\|req: [^\]]*\] (?P<msg>.*)$")
_UWSGI_OTHER = re.compile(r"uWSGI|uwsgi|^DAMN ! worker|^worker \d+ buried|^WSGI app \d+ \(mountpoint"
                          r"|^\*\*\* HARAKIRI|^Python main interpreter initialized|^python threads "
                          r"support|^your (?:server socket|processes|memory page|mercy)"
                          r"|^mapped \d+ bytes|^\*\*\* Operational MODE|^thunder lock|^detected "
                          r"(?:number of CPU|max file)")
_UWSGI_ERROR = re.compile(r"DAMN ! worker|HARAKIRI|Segmentation Fault|got signal \d+|screams|"
                          r"\bdied\b|MEMORY REPORT.*error|error", re.I)
_UWSGI_WORKER = re.compile(r"\bworker (?P<n>\d+)\b.*?\(pid: (?P<pid>\d+)")
_HTTP_STATUS = re.compile(r"\(HTTP/[\d.]+ (?P<status>\d{3})\)")
_WERKZEUG = re.compile(r"^\s*\* (?P<msg>(?:Restarting with|Running on|Debugger|Serving Flask app|"
                       r"Debug mode|Detected change|Environment|Tip:|Ignoring a call|Serving on)"
                       r".*)$")
_ACCESS = re.compile(r'^(?P<addr>\S*)\s*- (?:\S+ )?\[(?P<ts>[^\]]+)\] "(?P<req>[^"]*)" '
                     r'(?P<status>\d{3})\b')
_DEV_WARNING = re.compile(r"^WARNING: This is a development server")
_PG = re.compile(rf"^(?P<ts>{_TS})\s*(?:\[(?P<pid>\d+)\]\s*)?(?:[\w@\-]+\s+)?(?P<level>LOG|ERROR|"
                 r"FATAL|PANIC|WARNING|NOTICE|DETAIL|STATEMENT|HINT|CONTEXT|INFO|DEBUG\d?):\s+"
                 r"(?P<msg>.*)$")
_THREAD = re.compile(r"^Exception (?:in thread (?P<thread>.+?)|ignored in: .*?)(?::)?\s*$")
_CLI_ERROR = re.compile(r"^(?P<level>ERROR|Error|error|FATAL|fatal|CRITICAL|Fatal error|Critical|FAILED):"
                        r"\s+(?P<msg>\S.*)$")
_OOM = re.compile(r"^(?:\[\s*[\d.]+\]\s*)?(?:Out of memory: |Memory cgroup out of memory: )?Kill(?:ed)?"
                  r" process (?P<pid>\d+)")

_PYTEST_E = re.compile(r"^E(?:(?: {2,}|\t)(?P<text>.*))?$")
_PYTEST_SECTION = re.compile(r"^_{3,} (?P<name>.+?) _{3,}$")
_PYTEST_BANNER = re.compile(r"^={3,} ?(?P<text>.*?) ?={3,}$")
_PYTEST_COUNTS = re.compile(r"(?P<n>\d+) (?P<what>failed|errors?|passed|skipped|xfailed|xpassed"
                            r"|warnings?|deselected|rerun)")
_PYTEST_SUMMARY = re.compile(r"^(?P<outcome>FAILED|ERROR|PASSED|SKIPPED|XFAIL|XPASS) "
                             r"(?P<test>\S*(?:::\S+|\.py)(?:\[[^\]]*\])?)(?: - (?P<reason>.*))?$")
_PYTEST_PROGRESS = re.compile(r"^(?P<test>\S+::\S+?(?:\[[^\]]*\])?) (?P<outcome>PASSED|FAILED|ERROR"
                              r"|SKIPPED|XFAIL|XPASS)\b")
_PYTEST_LOCATION = re.compile(r"^(?P<file>[^\s:]+\.py):(?P<line>\d+):(?: in (?P<func>\S+)|"
                              r" (?P<type>[A-Za-z_][\w.]*))?\s*$")
_UNITTEST_HEADER = re.compile(r"^(?P<outcome>ERROR|FAIL): (?P<test>\w+ \(.*\))\s*$")
_UNITTEST_RESULT = re.compile(r"^FAILED \((?:failures|errors)=\d+")
_RULE = re.compile(r"^\s*(?:-{10,}|={10,}|_ _ _(?: _)*)\s*$")
_FENCE = re.compile(r"^(?:```|~~~)")  # a Markdown code fence around the paste
_PROMPT = re.compile(r"^(?:\$|#|>>>|λ|\(\S+\) [$λ]|\S+@\S+:\S*\$|[A-Z]:\\\S*>) ")
_INDENT = re.compile(r"^[ \t]*")


# -- classifying a frame's file ----------------------------------------------------------------

_SITE = re.compile(r"(?:^|/)(?:site|dist)-packages/(?:[^/]+\.egg/)?(?P<pkg>[A-Za-z_][\w]*)")
_STDLIB = re.compile(r"(?:^|/)(?:lib|Lib)/(?:python\d(?:\.\d+)?/|(?=[^/]+(?:\.py|/)))"
                     r"(?P<mod>[A-Za-z_]\w*)(?:\.py)?(?:/|$)")
_PYHOME = re.compile(r"(?:/|^)(?:python\d(?:\.\d+)?|Python\d+|Python\.framework)/", re.I)
_FROZEN = re.compile(r"^<frozen (?P<mod>[\w]+)")
_SCRIPT = re.compile(r"/(?:bin|Scripts)/(?P<name>gunicorn|flask|celery|rq|rqworker|uwsgi|pytest|"
                     r"py\.test|alembic|pip\d?(?:\.\d+)?|waitress-serve|hypercorn|uvicorn)"
                     r"(?:\.exe)?$")
_ALIASES = {"_pytest": "pytest", "py": "pytest", "flask_sqlalchemy": "flask_sqlalchemy",
            "MySQLdb": "MySQLdb", "pymysql": "pymysql", "rqworker": "rq", "py.test": "pytest"}


@functools.lru_cache(maxsize=4096)
def classify_path(path: str) -> tuple[str, str]:
    """(origin, library) of a frame's file: ("library", "sqlalchemy"), ("stdlib", "threading"),
    ("user", ""). Library names are top-level import names, with "flask.cli" for the Flask CLI
    and shell and "werkzeug.reloader" for the reloader."""
    p = path.replace("\\", "/")
    m = _SITE.search(p)
    if m:
        pkg = _ALIASES.get(m["pkg"], m["pkg"])
        rest = p[m.end():]
        if pkg == "werkzeug" and rest.startswith("/_reloader.py"):
            pkg = "werkzeug.reloader"
        elif pkg == "flask" and rest.startswith("/cli.py"):
            pkg = "flask.cli"
        return "library", pkg
    m = _FROZEN.match(p)
    if m:
        return "stdlib", m["mod"].split(".")[0]
    m = _SCRIPT.search(p)
    if m:
        return "library", _ALIASES.get(m["name"], re.sub(r"\d.*$", "", m["name"]))
    m = _STDLIB.search(p)
    if m and (_PYHOME.search(p) or p.startswith(("/usr/lib/", "/usr/local/lib/"))):
        return "stdlib", m["mod"]
    return "user", ""


# -- reading -------------------------------------------------------------------------------------

def _clean(text: str) -> list[tuple[int, str, LogLine | None]]:
    """The text's lines as (number, cleaned text, transport prefix as a LogLine or None)."""
    text = _ANSI.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    raw = text.split("\n")
    if raw and raw[-1] == "":
        raw.pop()
    # Quote markers: strip a level of "> " while most non-blank lines carry one (pytest's own
    # "> " source marker is on a few lines only).
    for _ in range(3):
        nonblank = [r for r in raw if r.strip()]
        quoted = [r for r in nonblank if _QUOTE.match(r)]
        if not quoted or len(quoted) * 2 < len(nonblank) or (len(quoted) == 1 and len(nonblank) > 1):
            break
        raw = [_QUOTE.sub("", r, count=1) for r in raw]
    # docker compose's "web-1  | " on most lines, one service name
    nonblank = [r for r in raw if r.strip()]
    svc = [m["svc"] for m in map(_DOCKER.match, nonblank) if m]
    docker = svc and len(svc) * 2 >= len(nonblank) and max(map(svc.count, set(svc))) * 2 >= len(svc)
    out = []
    for n, line in enumerate(raw, 1):
        if not _FENCE.match(line.lstrip()):
            line = _TICKS.sub(r"\1", line)
        w = _WRAPPED.match(line)
        if w and _EXC_ANY.match(w["body"].split(" ", 1)[0].rstrip(":")):
            line = w["indent"] + w["body"]
        transport = None
        m = _DOCKER.match(line) if docker else None
        if m:
            line = m["body"]
            transport = LogLine("docker", line, process=m["svc"])
        for pattern, source in ((_SYSLOG, "syslog"), (_HEROKU, "heroku"), (_PROG_PID, "syslog")):
            m = pattern.match(line)
            if m:
                g = m.groupdict()
                line = m["body"]
                transport = LogLine(source, line, timestamp=g.get("ts") or "",
                                    pid=int(g["pid"]) if g.get("pid") else None,
                                    process=g.get("prog") or g.get("dyno") or "")
                break
        out.append((n, line.rstrip(), transport))
    return _join_broken(out)


def _join_broken(lines: list[tuple[int, str, LogLine | None]]):
    """Undo a wrap that broke a frame line or one of Python's fixed sentences in two."""
    out = []
    i = 0
    while i < len(lines):
        n, text, transport = lines[i]
        stripped = text.strip()
        for _ in range(3):  # a long frame line may have been broken more than once
            if i + 1 >= len(lines):
                break
            nxt = lines[i + 1][1].strip()
            if _FRAME_START.match(stripped) and not _FRAME.match(stripped) and nxt:
                quote_open = stripped.count('"') == 1
                stripped = stripped + ("" if quote_open else " ") + nxt
            elif _FRAME.match(stripped) and stripped.endswith((", in", ",")) and nxt:
                stripped = stripped + " " + nxt
            elif (len(stripped) >= 12 and stripped not in _SENTENCES and nxt
                  and any(s.startswith(stripped) and s.startswith(stripped + " " + nxt)
                          for s in _SENTENCES)):
                stripped = stripped + " " + nxt
            else:
                break
            text = _INDENT.match(text).group(0) + stripped
            i += 1
        out.append((n, text, transport))
        i += 1
    return out


def _log_line(s: str) -> LogLine | None:
    """The log format a (stripped) line is written in, or None."""
    m = _GUNICORN.match(s)
    if m:
        return LogLine("gunicorn", m["msg"], m["ts"], _level(m["level"]), int(m["pid"]))
    m = _CELERY.match(s)
    if m:
        log = LogLine("celery", m["msg"], m["ts"], _level(m["level"]), process=m["proc"])
        t = _CELERY_TASK.search(m["msg"])
        if t:
            log.job, log.job_id = t["name"], t["id"]
        return log
    m = _FLASK.match(s)
    if m:
        return LogLine("flask", m["msg"], m["ts"], _level(m["level"]), logger=m["logger"])
    m = _PYLOG.match(s)
    if m:
        log = LogLine("python", m["msg"], level=m["level"], logger=m["logger"])
        a = _ACCESS.match(m["msg"])
        if a:
            log.status = int(a["status"])
        return log
    m = _BRACKETED.match(s)
    if m:
        return LogLine("python", m["msg"], level=_level(m["level"]), logger=m["logger"])
    m = _PG.match(s)
    if m:
        return LogLine("postgresql", m["msg"], m["ts"], _level(m["level"]),
                       int(m["pid"]) if m["pid"] else None)
    m = _TSLOG.match(s)
    if m:
        rest = m["rest"]
        head = rest[:80]
        lv = _LEVEL.search(head)
        pid = _PID.search(head)
        log = LogLine("log", rest, m["ts"], _level(lv["level"]) if lv else "",
                      int(pid["pid"] or pid["pid2"] or pid["pid3"]) if pid else None)
        if lv:  # the message: what follows the level (and a logger name in brackets)
            before = _LOGGER_BEFORE.fullmatch(rest[:lv.start("level")])
            if before:  # "2024-... - app.db - WARNING - msg"
                log.logger = before["logger"]
            after = rest[lv.end():].lstrip(" :-|]")
            lg = _LOGGER.match(after)
            if lg and not log.logger:
                log.logger = lg["a"] or lg["b"] or lg["c"] or ""
                after = after[lg.end():].lstrip(" :-")
            log.message = after
        return log
    m = _RQ.match(s)
    if m:
        log = LogLine("rq", m["msg"], m["ts"], logger=m["queue"] or "", job_id=m["jid"] or "")
        j = _RQ_JOB.match(m["msg"])
        if j:
            log.job, log.job_id = j["name"], j["id"]
        return log
    m = _UWSGI_SPAWN.match(s)
    if m:
        return LogLine("uwsgi", s, pid=int(m["pid"]), process=m["proc"])
    m = _UWSGI_REQ.match(s)
    if m:
        st = _HTTP_STATUS.search(s)
        return LogLine("uwsgi", m["msg"], pid=int(m["pid"]),
                       status=int(st["status"]) if st else None)
    m = _UWSGI_BANNER.match(s)
    if m or _UWSGI_OTHER.search(s):
        log = LogLine("uwsgi", m["msg"] if m else s)
        w = _UWSGI_WORKER.search(s)
        if w:
            log.process, log.pid = f"worker {w['n']}", int(w["pid"])
        return log
    m = _WERKZEUG.match(s)
    if m:
        log = LogLine("werkzeug", m["msg"])
        if m["msg"].startswith(("Restarting with", "Detected change")):
            log.process = "reloader"
        return log
    m = _ACCESS.match(s)
    if m:
        dev = re.fullmatch(r"\d\d/\w{3}/\d{4} \d\d:\d\d:\d\d", m["ts"])
        return LogLine("werkzeug" if dev else "access", s, m["ts"], status=int(m["status"]))
    if _DEV_WARNING.match(s):
        return LogLine("werkzeug", s[len("WARNING: "):], level="WARNING")
    m = _THREAD.match(s)
    if m:
        return LogLine("threading", s, level="ERROR", process=m["thread"] or "")
    m = _OOM.match(s)
    if m:
        return LogLine("kernel", s, level="ERROR", pid=int(m["pid"]))
    m = _CLI_ERROR.match(s)
    if m:
        return LogLine("cli", m["msg"], level=_level(m["level"].split()[-1]))
    return None


def _level(word: str) -> str:
    word = word.upper()
    return {"WARN": "WARNING", "WARNI": "WARNING", "EXCEPTION": "ERROR", "CRIT": "CRITICAL",
            "CRITI": "CRITICAL", "FAILED": "ERROR"}.get(word, word)


def _log_is_error(log: LogLine) -> bool:
    if log.level in ERROR_LEVELS:
        return True
    if log.source == "rq":
        return bool(_RQ_ERROR.search(log.message))
    if log.source == "uwsgi":
        return bool(_UWSGI_ERROR.search(log.message)) and log.status is None
    if log.source == "heroku":
        return "at=error" in log.message
    if log.source == "postgresql":  # a lock wait is logged at LOG level, and is the problem
        return bool(_PG_WAIT.search(log.message))
    return False


def is_error_message(message: str) -> bool:
    """Whether a message, its log prefix taken off, is one a worker or server reports as a
    failure (rq's, uWSGI's, PostgreSQL's lock waits): how the catalogue declares such lines."""
    return bool(_RQ_ERROR.search(message) or _PG_WAIT.search(message)
                or re.search(r"DAMN ! worker|HARAKIRI", message))


def _exception_after_frames(s: str) -> re.Match | None:
    """The exception line a traceback ends with: any dotted name, with a message or a class
    name (capitalised), so that a flush-left source line ("yield", "raise") is not one."""
    m = _EXC_ANY.match(s)
    if m and (m["msg"] is not None or m["type"].rpartition(".")[2][:1].isupper()):
        return m
    return None


def _sqlalchemy(exc: ExceptionInfo) -> None:
    """Fill the DBAPI error, the statement and the error code from SQLAlchemy's message."""
    msg = exc.message
    links = list(_SA_LINK.finditer(msg))
    if links:
        exc.sqlalchemy_code, exc.sqlalchemy_version = links[-1]["code"], links[-1]["version"] or ""
    m = _DBAPI.match(_AUTOFLUSH.sub("", msg, count=1))
    if m:
        exc.dbapi_type = m["type"]
        kept = []
        for line in m["msg"].split("\n"):
            if _SA_TAIL.match(line):
                break
            cut = line.find("(Background on this error at: ")
            if cut >= 0:
                kept.append(line[:cut].rstrip())
                break
            kept.append(line)
        exc.dbapi_message = "\n".join(kept).strip("\n").rstrip()
    s = _SQL.search(msg)
    if s:
        exc.sql = s["sql"].strip()
    p = _PARAMS.search(msg)
    if p:
        exc.parameters = p["p"].strip()


class _Parser:
    def __init__(self) -> None:
        self.lines: list[Line] = []
        self.exceptions: list[ExceptionInfo] = []
        self.logs: list[LogLine] = []
        self.tests: list[TestResult] = []
        self.sections: list[str] = []
        self.stray: list[Frame] = []
        self.mode = "idle"  # "idle", "frames", "after-frame", "message", "pytest-e",
        # "pytest-location" (idle, just after a pytest location line)
        self.frames: list[Frame] = []  # of the traceback being read
        self.exc: ExceptionInfo | None = None  # whose message is being read
        self.msg: list[str] = []
        self.pending_blank: list[Line] = []
        self.relation = ""  # a chain sentence seen, waiting for the next exception
        self.chain = -1
        self.frame_indent = 0
        self.exc_indent = 0  # of the exception line whose message is being read
        self.pytest_frames: list[Frame] = []

    # state changes
    def start_exception(self, type_: str, msg: str | None, line: Line, found_in: str) -> None:
        frames, self.frames = self.frames, []
        self.finish()
        if not self.relation or self.chain < 0:
            self.chain += 1
        exc = ExceptionInfo(type_, msg or "", frames, self.chain, self.relation, found_in,
                            line.number)
        self.exceptions.append(exc)
        self.exc, self.msg = exc, [msg or ""]
        self.exc_indent = len(line.text) - len(line.text.lstrip())
        self.relation = ""
        line.kind, line.is_error = "exception", True
        self.mode = "message" if found_in != "pytest" else "pytest-e"

    def finish(self) -> None:
        """Close the message being read (or a traceback that had no exception line)."""
        if self.exc is not None:
            self.exc.message = "\n".join(self.msg).rstrip()
            _sqlalchemy(self.exc)
            self.exc = None
        elif self.frames:
            self.stray.extend(self.frames)
            self.frames = []
        self.pending_blank = []
        self.mode = "idle"

    # one line
    def feed(self, number: int, text: str, transport: LogLine | None) -> None:
        s = text.strip()
        line = Line(number, text, "text", log=transport)
        self.lines.append(line)
        if not s:
            line.kind = "blank"
            if self.mode in ("message", "pytest-e"):
                self.pending_blank.append(line)
            return
        indent = len(_INDENT.match(text).group(0))
        e = _PYTEST_E.match(s)

        # lines that say where they are in any state
        if s in (_CAUSE, _CONTEXT):
            self.finish()
            line.kind = "chain"
            self.relation = "cause" if s == _CAUSE else "context"
            return
        if s == _TB_HEADER or s == _TB_HEADER[:-1]:  # no colon: the debugger's page
            self.finish()
            line.kind = "traceback"
            self.mode = "frames"
            self.frames = []
            return
        fm = _FRAME.match(s)
        if fm:
            if self.mode not in ("frames", "after-frame"):
                self.finish()
                self.mode = "frames"
            origin, library = classify_path(fm["file"])
            self.frames.append(Frame(fm["file"], int(fm["line"]), fm["func"] or "", "", origin,
                                     library))
            line.kind = "frame"
            self.frame_indent = indent
            self.mode = "after-frame"
            return

        if self.mode == "after-frame":
            if _CARET.match(s):
                line.kind = "source"
                return
            exc_m = _exception_after_frames(s)
            if indent > self.frame_indent or not exc_m:
                if not self.frames[-1].source:
                    self.frames[-1].source = s
                line.kind = "source"
                self.mode = "frames"
                return
            self.start_exception(exc_m["type"], exc_m["msg"], line, "traceback")
            return
        if self.mode == "frames":
            if _CARET.match(s) or (indent > self.frame_indent and not e):
                line.kind = "source"
                return
            exc_m = _exception_after_frames(s)
            if exc_m and not self.structural(s):
                self.start_exception(exc_m["type"], exc_m["msg"], line, "traceback")
                return
            self.finish()

        if self.mode == "pytest-e":
            if e:
                self.msg.extend(("",) * len(self.pending_blank))
                self.pending_blank = []
                self.msg.append(e["text"] or "")
                line.kind, line.is_error = "pytest-e", True
                return
            exc = self.exc
            self.finish()
            loc = _PYTEST_LOCATION.match(s)
            if loc and exc is not None:
                frame = self.location_frame(loc)
                if not exc.frames or (exc.frames[-1].file, exc.frames[-1].line) != (
                        frame.file, frame.line):
                    exc.frames.append(frame)
                if loc["type"] and (not exc.type or exc.type == "AssertionError"):
                    exc.type = loc["type"] if not exc.type else exc.type
                line.kind = "pytest-location"
                return

        if self.mode == "message":
            if self.msg == [""] and not self.pending_blank and s.startswith(self.exc.type + ":"):
                # the debugger page's title line (the type alone), then "type: message"
                self.msg = [s[len(self.exc.type) + 1:].strip()]
                line.kind, line.is_error = "exception", True
                return
            strict = _EXC_STRICT.match(s)
            # another exception printed right below (errors listed one per line), not the
            # message's next line: "pkg.mod.SomeError: ..." at the message's own indent
            another = strict and strict["msg"] is not None and indent <= self.exc_indent \
                and "." in strict["type"]  # a bare "KeyError: 'x'" is werkzeug's message
            if not self.structural(s) and not (self.pending_blank and strict) and not another \
                    and not e:
                self.msg.extend(("",) * len(self.pending_blank))
                for blank in self.pending_blank:
                    blank.kind = "message"
                self.pending_blank = []
                self.msg.append(s if not text.startswith("\t") else text)
                line.kind, line.is_error = "message", True
                return
            self.finish()

        self.idle(line, s, e, transport)

    def structural(self, s: str) -> bool:
        """A line that cannot continue an exception's message: it starts something else."""
        return bool(_FRAME.match(s) or _log_line(s) or _PYTEST_SECTION.match(s)
                    or _PYTEST_BANNER.match(s) or _PYTEST_SUMMARY.match(s)
                    or _PYTEST_PROGRESS.match(s) or _PYTEST_LOCATION.match(s) or _RULE.match(s)
                    or _UNITTEST_HEADER.match(s) or s.startswith("Ran ") and " test" in s
                    or _PROMPT.match(s) or _FENCE.match(s))

    def location_frame(self, loc: re.Match) -> Frame:
        origin, library = classify_path(loc["file"])
        return Frame(loc["file"], int(loc["line"]), loc["func"] or "", "", origin, library)

    def idle(self, line: Line, s: str, e: re.Match | None, transport: LogLine | None) -> None:
        if e:
            text = e["text"] or ""
            m = _EXC_ANY.match(text.strip())
            if m and (m["msg"] is not None or _EXC_STRICT.match(text.strip())):
                self.start_exception(m["type"], m["msg"], line, "pytest")
            else:
                type_ = "AssertionError" if text.strip().startswith("assert ") else ""
                self.start_exception(type_, text.strip(), line, "pytest")
            self.exc.frames = self.pytest_frames
            self.pytest_frames = []
            line.kind = "pytest-e"
            return
        m = _PYTEST_SECTION.match(s)
        if m:
            self.sections.append(m["name"])
            self.pytest_frames = []
            line.kind = "pytest-section"
            return
        m = _PYTEST_SUMMARY.match(s) or _PYTEST_PROGRESS.match(s)
        if m:
            reason = m.groupdict().get("reason") or ""
            self.tests.append(TestResult(m["outcome"], m["test"], reason, line.number))
            line.kind = "pytest-summary"
            line.is_error = m["outcome"] in ("FAILED", "ERROR")
            return
        m = _PYTEST_BANNER.match(s)
        if m and m["text"]:
            counts = dict((w.rstrip("s"), int(n)) for n, w in _PYTEST_COUNTS.findall(m["text"]))
            line.kind = "pytest-summary" if counts else "text"
            line.is_error = bool(counts.get("failed") or counts.get("error"))
            return
        m = _PYTEST_LOCATION.match(s)
        if m:
            self.pytest_frames.append(self.location_frame(m))
            line.kind = "pytest-location"
            self.mode = "pytest-location"
            return
        if self.mode == "pytest-location":  # --tb=short: the source line under a location
            self.mode = "idle"
            if line.text[:1] in " \t" and self.pytest_frames and not self.pytest_frames[-1].source:
                self.pytest_frames[-1].source = s
                line.kind = "source"
                return
        m = _UNITTEST_HEADER.match(s)
        if m:
            self.tests.append(TestResult(m["outcome"], m["test"], "", line.number))
            line.kind, line.is_error = "test-result", True
            return
        if _UNITTEST_RESULT.match(s):
            line.kind, line.is_error = "test-result", True
            return
        log = _log_line(s)
        if log is not None:
            if transport is not None:  # "web-1 | [2024-...] [7] [ERROR] ...": the inner format
                log.process = log.process or transport.process
                log.pid = log.pid if log.pid is not None else transport.pid
                log.timestamp = log.timestamp or transport.timestamp
            self.logs.append(log)
            line.kind, line.log, line.is_error = "log", log, _log_is_error(log)
            return
        m = _EXC_STRICT.match(s)
        if m and not m["type"].endswith("Warning"):  # a warning printed is not an error
            self.start_exception(m["type"], m["msg"], line, "bare")
            return
        if transport is None and (_RQ_ERROR.search(s) or _PG_WAIT.search(s)):
            line.is_error = True  # rq's or PostgreSQL's failure, its log prefix cut off
            return
        m = _EMBEDDED.search(s) if transport is None else None
        if m:  # "I get 'RuntimeError: Working outside of application context.' when ..."
            self.start_exception(m["type"], m["msg"].strip().rstrip("'\"`").strip(), line,
                                 "prose")
            self.mode = "idle"
            return
        if transport is not None:
            self.logs.append(transport)
            line.kind = "log"
            line.is_error = _log_is_error(transport)

    def result(self) -> Evidence:
        self.finish()
        # A FAILED/ERROR summary line whose exception the text shows nowhere else.
        known = {exc.type for exc in self.exceptions}
        for test in self.tests:
            m = _EXC_STRICT.match(test.reason) or (
                _EXC_ANY.match(test.reason) if ": " in test.reason else None)
            if m and test.outcome in ("FAILED", "ERROR") and m["type"] not in known:
                self.chain += 1
                self.exceptions.append(ExceptionInfo(
                    m["type"], m["msg"] or "", [], self.chain, "", "pytest-summary", test.line_no))
                _sqlalchemy(self.exceptions[-1])
                known.add(m["type"])
        self.exceptions.sort(key=lambda exc: (exc.chain, exc.line_no))
        return Evidence(self.lines, self.exceptions, self.logs, self.tests, self.sections,
                        self.stray)


def parse(text: str) -> Evidence:
    """The evidence in ``text``: see the module's docstring."""
    parser = _Parser()
    for number, line, transport in _clean(text):
        parser.feed(number, line, transport)
    return parser.result()


def is_error_line(line: str) -> bool:
    """Whether one line, read alone, is an error: an exception line, a log line at ERROR or
    above (or a failure rq or uWSGI reports), a pytest ``E`` line or failure, ``Error: ...``."""
    return bool(parse(line).errors)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m pitfall_lab.explain.parse FILE|-", file=sys.stderr)
        return 2
    text = sys.stdin.read() if args[0] == "-" else open(args[0], encoding="utf-8",
                                                        errors="replace").read()
    print(json.dumps(parse(text).to_dict(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
