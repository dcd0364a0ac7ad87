"""``pitfall-lab doctor``: which of the catalogue's pitfalls a user's own project has, found by
running its code in fresh interpreters (pitfall_lab.doctor.probe) inside a throwaway copy of
the project, against a throwaway database.

May import the catalogue, the harness (processes, throwaway databases) and guard.observe.
"""
from __future__ import annotations

import contextlib
import itertools
import json
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pitfall_lab.harness import procs
from pitfall_lab.doctor import discover, netguard
from pitfall_lab.doctor import project as proj
from pitfall_lab.doctor import registry
from pitfall_lab.doctor.registry import Result

SCRIPT_TIMEOUT = 20.0
LOAD_TIMEOUT = 60.0
# The imports probe's time budget grows with the project: IMPORT_BUDGET[0] seconds, and
# IMPORT_BUDGET[1] more per module (two forks import at once, the libraries already imported).
IMPORT_BUDGET = (30.0, 1.0)


def import_budget(modules: int) -> tuple[float, str]:
    """The imports probe's budget for that many modules, in seconds, and its formula in words."""
    base, per = IMPORT_BUDGET
    why = f"the import probe's time budget: {base:g} s + {per:g} s a module"
    return base + per * modules, why


class BadProject(ValueError):
    """The doctor cannot examine this project; ``str()`` is one line naming what and where."""


@dataclass
class Report:
    root: Path
    app: str | None  # the target loaded (or tried), as `flask --app` takes it; None: none found
    database: str
    results: list[Result]
    app_source: str = ""  # where the target was read: "--app", ".flaskenv:1", "Procfile:1", ...
    load_error: dict | None = None  # the app did not load: see _failure
    environment: dict[str, str] = field(default_factory=dict)  # variable -> what set it, why
    # Connections the probes refused (netguard: loopback only): host, port, the user's line
    # (``at``) and the probes that tried (``during``).
    refused: list[dict] = field(default_factory=list)
    # What the throwaway copy left out: (path relative to the project, why), see
    # project.leave_out.
    left_out: list[tuple[str, str]] = field(default_factory=list)

    @property
    def found(self) -> list[Result]:
        return [r for r in self.results if r.verdict == registry.FOUND]

    @property
    def loaded(self) -> bool:
        return self.load_error is None


@contextlib.contextmanager
def _databases(dburi: str | None, tmp: Path):
    """A factory of throwaway databases, one per probe: SQLite files, or fresh databases on
    the --dburi server."""
    stack = contextlib.ExitStack()
    counter = itertools.count()

    def fresh() -> str:
        if dburi:
            from pitfall_lab.harness import servers
            url = stack.enter_context(servers.fresh_database(dburi))
        else:
            url = f"sqlite:///{tmp / f'doctor-{next(counter)}.db'}"
        fresh.handed.add(_hide(url))  # as the probe records URLs: password hidden
        return url
    fresh.handed = set()
    with stack:
        yield fresh


def _dialect(url: str) -> str:
    return url.split(":", 1)[0].split("+", 1)[0]


# The variables an app that demands one reads its URL from (alysivji/flask-rq-example reads
# DATABASE_URI).
URL_VARIABLES = ("DATABASE_URL", "SQLALCHEMY_DATABASE_URI", "DATABASE_URI")
# DATABASE_URL in the form a host hands it out, for the hosturl probe: loopback, a port nothing
# listens on, and never connected to (the probe redirects every engine to the throwaway one).
HOST_URL = "postgres://doctor:doctor@127.0.0.1:9/host_url"


def _probe(copy: Path, db: str, args: list[str], timeout: float = 60,
           url_env: bool = True, base: dict[str, str] | None = None,
           over: dict[str, str] | None = None) -> dict:
    """Run the probe in the user's environment (what is exported, with ``base``: what .env and
    .flaskenv add); with ``url_env``, DATABASE_URL (and SQLALCHEMY_DATABASE_URI) name the
    throwaway database too, for apps that read their URL from there; ``over`` last."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        path = Path(out.name)
    env = {**(base or {}), "PITFALL_LAB_DOCTOR_DB": db}
    if url_env:
        env.update(dict.fromkeys(URL_VARIABLES, db))
    env.update(over or {})
    try:
        result = procs.python("-m", "pitfall_lab.doctor.probe", str(path), *args, cwd=copy,
                              timeout=timeout, env=env, inherit=True)
        if not path.stat().st_size:
            return {"error": {"type": "crash", "line": (procs.exception_lines(result.stderr)
                                                         or ["the interpreter died"])[-1],
                              "at": None, "chain": []}, "engines": [], "statements": [],
                    "instances": [], "forks": []}
        data = json.loads(path.read_text())
        crossed = path.with_name(path.name + ".crossed")
        data["crossed"] = [json.loads(line) for line in crossed.read_text().splitlines()] \
            if crossed.exists() else []
        return data
    finally:
        path.unlink(missing_ok=True)
        path.with_name(path.name + ".crossed").unlink(missing_ok=True)


def examine(path: str | Path, app: str | None = None, dburi: str | None = None,
            select: set[str] | None = None) -> Report:
    """Run the checks (those in ``select``, if given) on the project at ``path``; BadProject for
    a path that is not one. The app is found as `flask` and the deployment find it
    (discover.candidates: the first place that names an app that is there) and loaded once;
    when none is found, or it raises while loading, the checks that need it say why (the
    cause: the last exception, at the user's line) and the others run. The other probes run
    only when a selected check needs them (registry.probes_for)."""
    from pitfall_lab.guard import observe

    problem = observe.unsupported() or (dburi and _unreachable(dburi))
    if problem:
        raise BadProject(f"could not check: {problem}")
    try:
        project = proj.read(Path(path))
    except proj.NotAProject as exc:
        raise BadProject(f"not a project: {exc}") from None
    files = discover.dotenv(project.root, dict(os.environ))
    base = {key: value for key, (value, _) in files.items()}
    absent: list[discover.Candidate] = []
    candidates = discover.candidates(project, app, dict(os.environ), files, absent)
    probes = registry.probes_for(select)
    runs = {c.target: c for c in project.commands} if "scripts" in probes else {}
    as_modules = {c.target for c in project.commands if c.kind == "module"}
    for script in project.scripts if "scripts" in probes else ():
        module = script.removesuffix(".py").replace("/", ".")
        if script not in runs and module not in as_modules \
                and not proj.starts_a_server(project, script):
            runs[script] = proj.Command(script, "script", script)
    with tempfile.TemporaryDirectory(prefix="pitfall-lab-doctor-") as tmp:
        copy = project.copy_to(Path(tmp) / "project")
        refusals = Path(tmp) / "refused.jsonl"  # every probe appends the connections it refused
        base = {**base, "PITFALL_LAB_DOCTOR_REFUSED": str(refusals)}
        with _databases(dburi, Path(tmp)) as fresh, ThreadPoolExecutor(2) as pool:
            # Without --dburi, the app's own default URL says which database it uses: the
            # environment names the throwaway one only where the app demands it.
            url_env = bool(dburi)
            load, used, tried = None, None, []
            for candidate in candidates:
                load = _load(copy, fresh(), candidate.target, url_env, base)
                if not url_env and _wants_url(load):
                    url_env = True
                    load = _load(copy, fresh(), candidate.target, True, base)
                used = candidate
                if not (load.get("error") or {}).get("missing"):
                    break
                tried.append(f"{candidate}: {load['error']['line']}")
            tried += [f"{c}: not a module of the project" for c in absent]
            failure = _failure(load, used, tried, project, app)
            importing = pool.submit(_imports, copy, fresh(), project, url_env, base) \
                if "imports" in probes else None
            running = {name: pool.submit(_run, copy, fresh(), command, url_env, base)
                       for name, command in runs.items()}
            hosting = pool.submit(_hosted, copy, fresh(), used.target, base) \
                if "hosturl" in probes and used and not failure and _names_url(project) \
                else None
            migrating = pool.submit(_migrated, copy, fresh(), used.target, url_env, base) \
                if "migrations" in probes and used and not failure \
                and proj.migrations_folder(project) else None
            imports, budget = importing.result() if importing else ({}, None)
            hosted = hosting.result() if hosting else None
            migrated = migrating.result() if migrating else None
            scripts = {name: future.result() for name, future in running.items()}
            handed = fresh.handed
        refused = netguard.read(str(refusals))
        load, imports, scripts, failure, refused, hosted, migrated = _stable(
            (load, imports, scripts, failure, refused, hosted, migrated), handed, copy,
            Path(tmp))

    def dialect_of(url: str) -> str:  # the app's own URL, or a throwaway one we gave it
        return _dialect(dburi or ("sqlite" if THROWAWAY in url else url))
    if failure:
        load = {"engines": [], "statements": [], "instances": [], "forks": [],
                "error": failure}
    seen = registry.Seen(project, load, imports, scripts, dialect_of, budget, hosted, migrated)
    missing = {"load": f"the app did not load ({failure['cause']})"} if failure else None
    results = registry.run(seen, select, missing)
    where = (dburi and _hide(dburi)) or "a temporary SQLite file per probe"
    return Report(project.root, used.target if used else None, where, results,
                  used.source if used else "", failure,
                  _environment(files, url_env), refused, project.left_out)


def _unreachable(dburi: str) -> str | None:
    """Why the --dburi server cannot give the probes their databases, in one line, or None."""
    import sqlalchemy as sa

    try:
        sa.engine.make_url(dburi)
    except sa.exc.ArgumentError:
        return f"--dburi {dburi!r}: not a SQLAlchemy URL (dialect+driver://user:password@host/db)"
    try:
        engine = sa.create_engine(dburi, poolclass=sa.pool.NullPool)
        with engine.connect():
            pass
    except (sa.exc.SQLAlchemyError, ImportError) as exc:
        cause = getattr(exc, "orig", None) or exc
        first = ([line.strip() for line in str(cause).splitlines() if line.strip()]
                 or [type(cause).__name__])[0]
        return f"--dburi {_hide(dburi)}: cannot connect: {first}"
    return None


THROWAWAY = "<the doctor's throwaway database>"


def _stable(data, handed: set[str], copy: Path, tmp: Path):
    """What the probes saw, with the doctor's own places named the same way on every run: a
    throwaway database's URL as ``<scheme>://<the doctor's throwaway database>``, a path in
    the copy relative to the project, and any other of its temporary files by their name."""
    if isinstance(data, str):
        for url in sorted(handed, key=len, reverse=True):
            data = data.replace(url, f"{url.split(':', 1)[0]}://{THROWAWAY}")
        return data.replace(f"{copy}{os.sep}", "").replace(str(copy), ".").replace(
            f"{tmp}{os.sep}", "").replace(str(tmp), "<the doctor's temporary folder>")
    if isinstance(data, (list, tuple)):
        return type(data)(_stable(item, handed, copy, tmp) for item in data)
    if isinstance(data, dict):
        return {key: _stable(value, handed, copy, tmp) for key, value in data.items()}
    return data


def _load(copy: Path, db: str, target: str, url_env: bool, base: dict[str, str]) -> dict:
    try:
        return _probe(copy, db, ["load", target], timeout=LOAD_TIMEOUT, url_env=url_env,
                      base=base)
    except TimeoutError:  # the app's own import never ends (a server, a wait): a cause
        return {"error": {"type": "timeout", "at": None, "chain": [],
                          "line": f"loading the app did not end in {LOAD_TIMEOUT:g} s"},
                "engines": [], "statements": [], "instances": [], "forks": []}


def _names_url(project: proj.Project) -> bool:
    """The project's code or configuration names DATABASE_URL (any case: a settings class's
    database_url field reads it too)."""
    return any("database_url" in text.lower()
               for text in [*project.sources.values(), *project.configs.values()])


def _hosted(copy: Path, db: str, target: str, base: dict[str, str]) -> dict:
    """The app loaded with DATABASE_URL as a host hands it out, and its engines made: which URL
    each engine then asks for (the others still name the throwaway database)."""
    try:
        return _probe(copy, db, ["hosturl", target], timeout=LOAD_TIMEOUT, url_env=True,
                      base=base, over={"DATABASE_URL": HOST_URL})
    except TimeoutError:
        return {"error": {"type": "timeout", "at": None, "chain": [],
                          "line": f"loading the app did not end in {LOAD_TIMEOUT:g} s"},
                "engines": []}


def _migrated(copy: Path, db: str, target: str, url_env: bool, base: dict[str, str]) -> dict:
    """The project's migrations run on a throwaway database, and what they left out."""
    try:
        return _probe(copy, db, ["migrations", target], timeout=LOAD_TIMEOUT * 2,
                      url_env=url_env, base=base)
    except TimeoutError:
        return {"error": {"type": "timeout", "at": None, "chain": [],
                          "line": f"the migrations did not end in {LOAD_TIMEOUT * 2:g} s"}}


def _failure(load: dict | None, used, tried: list[str], project, app: str | None) -> dict | None:
    """Why the app did not load, or None: ``kind`` "no app" (nothing that names one names an
    app that is there: ``line`` says what was tried, and an --app value to try) or "raised"
    (``line``: the last exception of the chain, type and message; ``at``: the user's line,
    relative to the project); ``cause`` is both in a few words."""
    error = (load or {}).get("error")
    if load is not None and not error:
        return None
    if load is None or error.get("missing"):
        if app:
            line = f"no app found (--app {app}): {error['line']}"
        elif tried:
            line = f"no app found; tried {'; '.join(tried)}"
        else:
            line = ("no app found: nothing names one (FLASK_APP, .env, .flaskenv, a Procfile, "
                    "gunicorn or uWSGI config, Dockerfile, docker-compose, wsgi.py, app.py) and "
                    "no module makes a Flask app")
        hint = discover.suggestion(project)
        return {"kind": "no app", "line": f"{line}; try --app {hint}", "at": None,
                "cause": f"no app found; try --app {hint}"}
    at = tuple(error["at"]) if error.get("at") else None
    where = f", {at[0]}:{at[1]}" if at else ""
    return {"kind": "raised", "line": error["line"], "at": at, "target": used.target,
            "text": error.get("text", ""), "cause": f"{error['line']}{where}"}


def _environment(files: dict[str, tuple[str, str]], url_env: bool) -> dict[str, str]:
    """Every variable the doctor gives the user's code beyond what is exported, and why."""
    out = {key: f"from {where}, as `flask` reads it" for key, (_, where) in sorted(files.items())}
    if url_env:
        out.update(dict.fromkeys(URL_VARIABLES, "the throwaway database, which the app "
                                                "reads its URL from"))
    out["PITFALL_LAB_DOCTOR_DB"] = "the throwaway database, for the probe"
    out.update(procs.CHILD_SETS)
    out["PITFALL_LAB_DOCTOR_REFUSED"] = "where the probes record the connections they refuse"
    return out


def overridden(environment: dict[str, str]) -> list[str]:
    """The variables the doctor sets that the user had exported with another value."""
    from pitfall_lab.harness.procs import child_env

    given = child_env(inherit=True)
    return [k for k in environment if k in os.environ and k != "PATH"
            and given.get(k, os.environ[k]) != os.environ[k]]


def _wants_url(load: dict) -> bool:
    error = load.get("error") or {}
    text = error.get("text", error.get("line", ""))
    return any(name in text for name in URL_VARIABLES)


def _imports(copy: Path, db: str, project: proj.Project, url_env: bool,
             base: dict[str, str]) -> tuple[dict, dict | None]:
    """Each module imported on its own (the probe's fork server), within the time budget:
    (module -> error or None, and None, or what was done when the budget ran out)."""
    seconds, why = import_budget(len(project.modules))
    args = ["imports", f"--budget={seconds:g}",
            f"--preload={','.join(proj.third_party_imports(project))}", *project.modules]
    try:
        # the probe stops its forks at the budget; this limit is for the interpreter itself
        seen = _probe(copy, db, args, timeout=seconds + 30, url_env=url_env, base=base)
    except TimeoutError:
        seen = {"imports": {}, "imports_budget": {"done": 0, "of": len(project.modules),
                                                  "seconds": seconds}}
    budget = seen.get("imports_budget")
    return seen.get("imports", {}), {**budget, "why": why} if budget else None


def _run(copy: Path, db: str, command: proj.Command, url_env: bool,
         base: dict[str, str] | None = None) -> dict:
    try:
        run = _probe(copy, db, [command.kind, command.target], timeout=SCRIPT_TIMEOUT,
                     url_env=url_env, base=base)
    except TimeoutError:
        run = {"timeout": SCRIPT_TIMEOUT, "forks": []}
    run["command"] = (f"python {command.target}" if command.kind == "script"
                      else f"python -m {command.target}")
    return run


def _hide(url: str) -> str:
    from pitfall_lab.harness import sql
    return sql.show_url(url)
