"""The doctor's probe: runs in a fresh interpreter, in a throwaway copy of the user's project,
and observes the mechanisms behind the pitfalls while the user's own code runs:

    python -m pitfall_lab.doctor.probe OUT.json load [APP]        # load the app as `flask` does
    python -m pitfall_lab.doctor.probe OUT.json script PATH       # `python PATH`, as cron runs it
    python -m pitfall_lab.doctor.probe OUT.json module NAME       # `python -m NAME`
    python -m pitfall_lab.doctor.probe OUT.json imports --budget=S --preload=LIB,... MOD...
                                                # each module in a fresh fork, 2 at a time

Every engine the code creates is redirected to the throwaway database in $PITFALL_LAB_DOCTOR_DB
(the URL it asked for is recorded); SQLAlchemy events record every statement with the line of
the user's code that issued it, and every pooled connection; a fork hook records what was open
at each fork. The report goes to OUT.json, never to stdout, which belongs to the user's code.
"""
from __future__ import annotations

import importlib
import json
import os
import runpy
import selectors
import signal
import sys
import time
import traceback

from pitfall_lab.guard import observe

ROOT = os.path.realpath(os.getcwd())
report: dict = {"engines": [], "statements": [], "instances": [], "forks": [], "error": None}
CROSSED = ""  # OUT.json.crossed: see _crossing
STARTED = time.monotonic()  # the imports probe's budget counts from here
_engines: list = []  # (engine, record), so that pools can be read at any moment


def user_frame(frames=None) -> list | None:
    """The innermost frame of the user's own code (under the project, outside libraries)."""
    found = observe.user_frame(frames, ROOT)
    return list(found) if found else None


def _pool_state() -> list[dict]:
    return [{"url": rec["url"], "connected": rec["connected"], "checked_out": rec["checked_out"]}
            for _, rec in _engines]


def _stamp(dbapi_connection, connection_record):
    connection_record.info.setdefault("pitfall_lab_pid", os.getpid())


def _crossing(record: dict):
    """A checkout, in this process, of a connection another process opened: the connection
    crossed a fork. Forked children leave through os._exit, so each appends a line to a file
    of its own kind next to the report."""
    def listener(dbapi_connection, connection_record, proxy):
        opened_by = connection_record.info.get("pitfall_lab_pid")
        if opened_by not in (None, os.getpid()):
            with open(CROSSED, "a") as handle:
                handle.write(json.dumps({"url": record["url"], "opened_by": opened_by,
                                         "used_by": os.getpid(), "at": user_frame()}) + "\n")
    return listener


def _counter(record: dict, field: str, step: int):
    def listener(*args):
        record[field] = max(0, record[field] + step)
    return listener


def instrument(target_url: str) -> None:
    import sqlalchemy
    import sqlalchemy.engine
    import sqlalchemy.engine.create as create_module
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import QueuePool

    real_create_engine = create_module.create_engine
    target = sqlalchemy.engine.make_url(target_url)

    def create_engine(url, *args, **kwargs):
        asked = sqlalchemy.engine.make_url(url)
        record = {"url": asked.render_as_string(hide_password=True).replace(ROOT, "<project>"),
                  "dialect": asked.get_backend_name(), "at": user_frame(),
                  "options": {k: repr(v) for k, v in kwargs.items()
                              if k in ("pool_pre_ping", "pool_recycle", "poolclass", "pool_size",
                                       "max_overflow")},
                  "connected": 0, "checked_out": 0}
        if asked.get_backend_name() != target.get_backend_name():
            kwargs.pop("connect_args", None)  # the asked driver's, not the throwaway's
            if asked.get_backend_name() != "sqlite":  # a server's pool, even on SQLite
                kwargs.setdefault("poolclass", QueuePool)
        engine = real_create_engine(target, *args, **kwargs)
        engine._pitfall_lab = record
        for name, field, step in (("connect", "connected", 1), ("close", "connected", -1),
                                  ("detach", "connected", -1), ("checkout", "checked_out", 1),
                                  ("checkin", "checked_out", -1)):
            event.listen(engine.pool, name, _counter(record, field, step))
        event.listen(engine.pool, "connect", _stamp)
        event.listen(engine.pool, "checkout", _crossing(record))
        _engines.append((engine, record))
        report["engines"].append(record)
        return engine

    create_module.create_engine = sqlalchemy.create_engine = create_engine
    sqlalchemy.engine.create_engine = create_engine

    def _record(conn) -> dict | None:
        engine = getattr(conn, "engine", None)
        return getattr(engine, "_pitfall_lab", None)

    @event.listens_for(Engine, "before_cursor_execute")
    def statement(conn, cursor, sql, params, context, executemany):
        rec = _record(conn)
        first = " ".join(sql.split())[:160]
        report["statements"].append({
            "sql": first, "write": bool(observe.WRITE.match(sql)),
            "ddl": bool(observe.DDL.match(sql)),
            "at": user_frame(), "engine": rec["url"] if rec else None})

    @event.listens_for(Engine, "handle_error")
    def failed(context):
        # A statement the database refused (no such table, on the empty throwaway database):
        # what the user's code did after it, if it caught the error, is not what it would do.
        exc = context.original_exception
        said = traceback.format_exception_only(type(exc), exc)[-1].strip().splitlines()[0]
        report.setdefault("failed", []).append({
            "sql": " ".join((context.statement or "").split())[:160],
            "error": _relative(said), "at": user_frame()})

    try:
        import flask_sqlalchemy
    except ImportError:
        return
    real_init = flask_sqlalchemy.SQLAlchemy.__init__

    def init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        model = getattr(self, "Model", None)
        report["instances"].append({
            "at": user_frame(), "model": id(model),
            "metadata": id(getattr(model, "metadata", None)),
            "registry": id(getattr(model, "registry", None))})

    flask_sqlalchemy.SQLAlchemy.__init__ = init
    os.register_at_fork(before=lambda: report["forks"].append(
        {"at": user_frame(), "pools": _pool_state()}))


def _relative(text: str) -> str:
    """The project's paths as the user names them: relative, never the throwaway copy's."""
    return text.replace(ROOT + os.sep, "").replace(ROOT, ".")


def _carried(exc: BaseException) -> BaseException:
    """The exception a wrapper carries as its cause: werkzeug's ImportStringError (a config
    object named by a string, app.config.from_object("settings.Production")) keeps the
    ImportError it caught in ``.exception`` and is raised ``from None``."""
    while isinstance(getattr(exc, "exception", None), BaseException):
        exc = exc.exception
    return exc


def _error(exc: BaseException) -> dict:
    exc = _carried(exc)
    frames = traceback.extract_tb(exc.__traceback__)
    lines = traceback.format_exception_only(type(exc), exc)
    at = user_frame(frames)
    filename = getattr(exc, "filename", None)  # a SyntaxError's line is not a frame
    if isinstance(exc, SyntaxError) and filename and \
            os.path.realpath(filename).startswith(ROOT + os.sep):
        at = [os.path.relpath(os.path.realpath(filename), ROOT), exc.lineno or 0]
    return {"type": f"{type(exc).__module__}.{type(exc).__qualname__}",
            "line": _relative(lines[-1].strip().splitlines()[0] if lines
                              else type(exc).__name__),
            "text": _relative("".join(lines)),
            "at": at,
            "chain": [user_frame([f]) for f in frames if user_frame([f])]}


# What Flask says when a target names no app (the doctor then tries the next place that names
# one), as opposed to an app whose module raised while it was imported.
_NO_APP = ("Could not import", "Failed to find", "Could not locate", "Detected factory",
           "Detected multiple", "The factory", "A valid Flask application was not obtained")


def load(app_path: str | None) -> None:
    from flask.cli import NoAppException, ScriptInfo

    try:
        info = ScriptInfo(app_import_path=app_path, set_debug_flag=False)
        app = info.load_app()
    except NoAppException as exc:
        said = _relative(str(exc).strip().splitlines()[0])
        if exc.__context__ is not None and not said.startswith(_NO_APP):
            # "While importing 'X', an ImportError was raised": the ImportError is the cause
            report["error"] = _error(exc.__context__)
            return
        report["error"] = {"type": "NoAppException", "line": said, "missing": True,
                           "text": _relative(str(exc)), "at": None, "chain": []}
        return None
    report["app"] = {"name": app.import_name, "debug": bool(app.debug)}
    report["relations"] = relations()
    report["columns"] = typed_columns()
    report["lazy"] = lazy_relationships()
    return app


def _declared(cls, key: str) -> int:
    """The line that declares relationship ``key`` of ``cls``: in its class body, or a backref
    of that name elsewhere in its file; the class's line when neither is found."""
    import inspect
    import re

    lines, start = inspect.getsourcelines(cls)
    for offset, line in enumerate(lines):
        if re.match(rf"\s+{re.escape(key)}\s*[:=]", line):
            return start + offset
    with open(inspect.getsourcefile(cls)) as handle:
        for number, line in enumerate(handle, 1):
            if re.search(rf"backref\s*=\s*(?:[\w.]*backref\(\s*)?['\"]{re.escape(key)}['\"]",
                         line):
                return number
    return start


def _project_mappers():
    """(mapper, the file that declares its class, relative) for the project's own models."""
    import inspect

    import sqlalchemy.orm

    try:
        sqlalchemy.orm.configure_mappers()
    except Exception:  # noqa: BLE001  models that do not configure: the app fails on its own
        return
    for registry in list(sys.modules["sqlalchemy.orm.mapper"]._mapper_registries):
        for mapper in list(registry.mappers):
            try:
                path = _relative(inspect.getsourcefile(mapper.class_))
            except (OSError, TypeError):
                continue
            if not os.path.isabs(path) and not path.startswith(".."):
                yield mapper, path


def typed_columns() -> dict[str, dict[str, str]]:
    """Model -> {attribute: what it takes} for the columns a wrong Python value breaks: a date,
    a time or a datetime (SQLite's types accept no text for them), a foreign key (an id, not
    the model it points to)."""
    import sqlalchemy

    kinds = ((sqlalchemy.DateTime, "datetime"), (sqlalchemy.Date, "date"),
             (sqlalchemy.Time, "time"))
    found: dict[str, dict[str, str]] = {}
    for mapper, _ in _project_mappers():
        for prop in mapper.column_attrs:
            column = prop.columns[0]
            kind = "foreign key" if getattr(column, "foreign_keys", None) else None
            typ = getattr(column.type, "impl", column.type)
            typ = typ if isinstance(typ, sqlalchemy.types.TypeEngine) else column.type
            kind = kind or next((k for t, k in kinds if isinstance(typ, t)), None)
            if kind:
                found.setdefault(mapper.class_.__name__, {})[prop.key] = kind
    return found


def lazy_relationships() -> dict[str, list[str]]:
    """Model -> the relationships its instances load on first access (lazy="select", the
    default, or "dynamic"): what needs a session after the query that loaded the instance."""
    found: dict[str, list[str]] = {}
    for mapper, _ in _project_mappers():
        keys = sorted(r.key for r in mapper.relationships if r.lazy in ("select", True, "dynamic"))
        if keys:
            found[mapper.class_.__name__] = keys
    return found


def relations() -> list[dict]:
    """Every one-to-many relationship of the project's models, and what deleting its parent
    does to the children: the ORM's delete cascade, passive_deletes, and the children's
    foreign keys (their ondelete, whether they may be NULL). Reads the mappers; runs nothing."""
    import inspect

    import sqlalchemy.orm
    from sqlalchemy.orm.interfaces import ONETOMANY

    try:
        sqlalchemy.orm.configure_mappers()
    except Exception:  # noqa: BLE001  models that do not configure: the app fails on its own
        return []
    found = []
    for registry in list(sys.modules["sqlalchemy.orm.mapper"]._mapper_registries):
        for mapper in list(registry.mappers):
            for rel in mapper.relationships:
                if rel.direction is not ONETOMANY or rel.viewonly:
                    continue
                parent_table = mapper.local_table
                fks = [fk for fk in rel.mapper.local_table.foreign_keys
                       if fk.column.table is parent_table]
                try:
                    where = [_relative(inspect.getsourcefile(mapper.class_)),
                             _declared(mapper.class_, rel.key)]
                except (OSError, TypeError):
                    continue  # not the project's code
                if not os.path.isabs(where[0]) and not where[0].startswith(".."):
                    found.append({
                        "name": f"{mapper.class_.__name__}.{rel.key}",
                        "child": rel.mapper.class_.__name__,
                        "delete": bool(rel.cascade.delete), "passive": bool(rel.passive_deletes),
                        "ondelete": [fk.ondelete for fk in fks],
                        "columns": [f"{fk.parent.table.name}.{fk.parent.name}" for fk in fks],
                        "nullable": [bool(fk.parent.nullable) for fk in fks],
                        "at": where})
    return found


def engines(app) -> None:
    """Make the engines of every Flask-SQLAlchemy instance on the app: version 3 made them in
    init_app; version 2 makes them on first use, which this is."""
    state = app.extensions.get("sqlalchemy")
    db = getattr(state, "db", state)  # 2.x registers a state that holds the instance
    if db is None:
        return
    with app.app_context():
        if hasattr(db, "engines"):
            db.engines  # noqa: B018  3.x: made already
        else:
            db.get_engine(app)


WORKERS = 2  # forks importing at once: the machine's two cores


def _ours(module) -> bool:
    """A module of the project (its file, or a namespace package's folder, under ROOT)."""
    places = [getattr(module, "__file__", None) or ""] + list(getattr(module, "__path__", []) or [])
    return any(p and os.path.realpath(p).startswith(ROOT + os.sep) for p in places)


def preload(names: list[str]) -> None:
    """The project's third-party imports, done once in the fork server. One that brings in a
    module of the project is undone (every module it added leaves sys.modules), so that each
    fork starts with none of the project imported; one that fails is left to the module that
    imports it, in its own fork."""
    for name in names:
        before = set(sys.modules)
        try:
            importlib.import_module(name)
        except BaseException:  # noqa: BLE001  a library may raise anything; the fork says so
            pass
        added = set(sys.modules) - before
        if any(_ours(sys.modules[m]) for m in added if m in sys.modules):
            for m in added:
                sys.modules.pop(m, None)
    for m in [m for m, module in list(sys.modules.items()) if _ours(module)]:
        del sys.modules[m]  # a .pth or sitecustomize of the project's: the forks start without


def _import_in_fork(name: str, path: str) -> int:
    """Fork; the child imports ``name`` and writes the outcome (None, or the error) to
    ``path``."""
    pid = os.fork()
    if pid:
        return pid
    try:
        try:
            __import__(name)
            result = None
        except BaseException as exc:  # the user's module may raise anything
            result = _error(exc)
        with open(path, "w") as handle:
            json.dump(result, handle)
    finally:
        os._exit(0)


def imports(modules: list[str], budget: float) -> None:
    """The fork server: each module imported in a fork of this interpreter (the libraries
    warm, none of the project's modules imported), ``WORKERS`` at a time, until ``budget``
    seconds have passed; then the forks still importing are killed, and
    ``report["imports_budget"]`` says how many of how many modules were imported."""
    deadline = STARTED + budget  # the libraries' imports count
    results: dict = {}
    pending = list(enumerate(modules))
    running: dict = {}  # pidfd (or pid) -> (pid, name, path)
    selector = selectors.DefaultSelector() if _pidfds() else None
    while pending or running:
        while pending and len(running) < WORKERS:
            number, name = pending.pop(0)
            path = f"{CROSSED[:-len('.crossed')]}.import-{number}"
            pid = _import_in_fork(name, path)
            key = os.pidfd_open(pid) if selector else pid
            if selector:
                selector.register(key, selectors.EVENT_READ)
            running[key] = (pid, name, path)
        if selector:
            left = deadline - time.monotonic()
            ended = [k.fd for k, _ in selector.select(max(left, 0))] if left > 0 else []
        else:  # no pidfd: a wait that SIGALRM interrupts at the deadline
            pid = _wait_until(deadline)
            if pid is not None and pid not in running:  # a process a library started
                continue
            ended = [pid] if pid is not None else []
        if not ended:
            for key, (pid, _, path) in running.items():
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                if selector:
                    selector.unregister(key)
                    os.close(key)
                _remove(path)
            report["imports_budget"] = {"done": len(results), "of": len(modules),
                                        "seconds": budget}
            break
        for key in ended:
            pid, name, path = running.pop(key)
            if selector:
                os.waitpid(pid, 0)
                selector.unregister(key)
                os.close(key)
            results[name] = _outcome(path)
    report["imports"] = {name: results[name] for name in modules if name in results}


class _Deadline(Exception):
    pass


def _wait_until(deadline: float) -> int | None:
    """The pid of a child that ended, or None at the deadline."""
    left = deadline - time.monotonic()
    if left <= 0:
        return None

    def ring(signum, frame):
        raise _Deadline()
    previous = signal.signal(signal.SIGALRM, ring)
    try:
        signal.setitimer(signal.ITIMER_REAL, left)
        return os.wait()[0]
    except _Deadline:
        return None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _pidfds() -> bool:
    """Whether this kernel gives pidfds (Linux 5.3 and later), so that the forks' ends and the
    deadline can be waited for at once."""
    try:
        os.close(os.pidfd_open(os.getpid()))
        return True
    except (AttributeError, OSError):
        return False


def _outcome(path: str):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {"type": "crash", "line": "the interpreter died importing it", "at": None,
                "chain": []}
    finally:
        _remove(path)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


# What each mode runs, as the user would say it (a refused connection names it).
def migrations(app) -> None:
    """Run the project's migrations (flask db upgrade) on the throwaway database, then compare
    what they made with the models (Alembic's compare_metadata): the tables and columns the
    models map and the migrations never create."""
    state = app.extensions.get("migrate")
    if state is None:
        report["migrations"] = {"skipped": "Flask-Migrate is not initialised on the app"}
        return
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from flask_migrate import upgrade

    directory = state.directory
    db = state.db
    with app.app_context():
        before = len(report["statements"])
        upgrade(directory=directory)  # exits 1 (SystemExit) with Alembic's error on stderr
        engine = db.engine if hasattr(db, "engines") else db.get_engine(app)
        with engine.connect() as connection:
            diffs = compare_metadata(MigrationContext.configure(connection), db.metadata)
    missing = []
    for diff in diffs:
        for op in diff if isinstance(diff, list) else [diff]:
            if op[0] == "add_table":
                missing.append(f"table {op[1].name}")
            elif op[0] == "add_column":
                missing.append(f"column {op[2]}.{op[3].name}")
    report["migrations"] = {"directory": directory, "missing": missing,
                            "ran": len(report["statements"]) - before}


DURING = {"load": "loading {}", "hosturl": "loading {} with a host's DATABASE_URL",
          "migrations": "running the migrations of {}",
          "imports": "importing each module on its own",
          "script": "python {}", "module": "python -m {}"}


def main(argv: list[str]) -> int:
    global CROSSED
    out, mode, *rest = argv
    CROSSED = out + ".crossed"
    sys.path.insert(0, ROOT)
    from pitfall_lab.doctor import netguard
    netguard.install(os.environ.get("PITFALL_LAB_DOCTOR_REFUSED", out + ".refused"), user_frame,
                     DURING.get(mode, mode).format(*rest[:1] or ["the app"]))
    try:
        instrument(os.environ["PITFALL_LAB_DOCTOR_DB"])  # before any of the user's code
        if mode == "imports":
            import flask  # noqa: F401  the libraries, warm, before the forks
            options = dict(a[2:].split("=", 1) for a in rest if a.startswith("--"))
            preload([n for n in options.get("preload", "").split(",") if n])
            imports([a for a in rest if not a.startswith("--")],
                    float(options.get("budget", "60")))
            return 0
        if mode == "load":
            load(rest[0] if rest else None)
        elif mode == "hosturl":
            app = load(rest[0] if rest else None)
            if app is not None:
                engines(app)
        elif mode == "migrations":
            app = load(rest[0] if rest else None)
            if app is not None:
                migrations(app)
        elif mode == "script":
            path = os.path.join(ROOT, rest[0])
            # `python PATH` puts the script's folder first, and not the working directory
            sys.path[:] = [os.path.dirname(path)] + [
                p for p in sys.path if p not in ("", ROOT) and os.path.realpath(p) != ROOT]
            sys.argv = [rest[0]]
            runpy.run_path(path, run_name="__main__")
        elif mode == "module":
            sys.argv = [rest[0]]
            runpy.run_module(rest[0], run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        report["exit"] = exc.code if isinstance(exc.code, int) else 1
    except BaseException as exc:  # the user's code may raise anything: that is the evidence
        report["error"] = _error(exc)
    finally:
        report["pools"] = _pool_state()
        with open(out, "w") as handle:
            json.dump(report, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
