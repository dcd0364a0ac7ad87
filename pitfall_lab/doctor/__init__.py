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
from dataclasses import dataclass
from pathlib import Path

from pitfall_lab.harness import procs
from pitfall_lab.doctor import project as proj
from pitfall_lab.doctor import registry
from pitfall_lab.doctor.registry import Result

SCRIPT_TIMEOUT = 20.0


class BadProject(ValueError):
    """The doctor cannot examine this project; ``str()`` is one line naming what and where."""


@dataclass
class Report:
    root: Path
    app: str | None
    database: str
    results: list[Result]

    @property
    def found(self) -> list[Result]:
        return [r for r in self.results if r.verdict == registry.FOUND]


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


def _probe(copy: Path, db: str, args: list[str], timeout: float = 60,
           url_env: bool = True) -> dict:
    """Run the probe; with ``url_env``, DATABASE_URL (and SQLALCHEMY_DATABASE_URI) name the
    throwaway database too, for apps that read their URL from there."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        path = Path(out.name)
    env = {"PITFALL_LAB_DOCTOR_DB": db}
    if url_env:
        env.update(DATABASE_URL=db, SQLALCHEMY_DATABASE_URI=db)
    try:
        result = procs.python("-m", "pitfall_lab.doctor.probe", str(path), *args, cwd=copy,
                              timeout=timeout, env=env)
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
    a path that is not one, an app that cannot be found, or one that raises while it loads.
    The app is always loaded: that is how the project is found. The other probes run only when
    a selected check needs them (registry.probes_for)."""
    from pitfall_lab.guard import observe

    problem = observe.unsupported()
    if problem:
        raise BadProject(f"could not check: {problem}")
    try:
        project = proj.read(Path(path))
    except proj.NotAProject as exc:
        raise BadProject(f"not a project: {exc}") from None
    app = app or os.environ.get("FLASK_APP")
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
        with _databases(dburi, Path(tmp)) as fresh, ThreadPoolExecutor(2) as pool:
            # Without --dburi, the app's own default URL says which database it uses: the
            # environment names the throwaway one only where the app demands it.
            url_env = bool(dburi)
            load = _probe(copy, fresh(), ["load", *([app] if app else [])], url_env=url_env)
            if not url_env and _wants_url(load):
                url_env = True
                load = _probe(copy, fresh(), ["load", *([app] if app else [])])
            _raise_for(load, app, project.root)
            importing = pool.submit(_probe, copy, fresh(), ["imports", *project.modules],
                                    url_env=url_env) if "imports" in probes else None
            running = {name: pool.submit(_run, copy, fresh(), command, url_env)
                       for name, command in runs.items()}
            imports = importing.result().get("imports", {}) if importing else {}
            scripts = {name: future.result() for name, future in running.items()}
            handed = fresh.handed

    def dialect_of(url: str) -> str:  # the app's own URL, or a throwaway one we gave it
        return _dialect(dburi or "sqlite" if url in handed else url)
    seen = registry.Seen(project, load, imports, scripts, dialect_of)
    results = registry.run(seen, select)
    where = (dburi and _hide(dburi)) or "a temporary SQLite file per probe"
    return Report(project.root, (load.get("app") or {}).get("name"), where, results)


def _wants_url(load: dict) -> bool:
    error = load.get("error") or {}
    text = error.get("text", error.get("line", ""))
    return any(name in text for name in ("DATABASE_URL", "SQLALCHEMY_DATABASE_URI"))


def _run(copy: Path, db: str, command: proj.Command, url_env: bool) -> dict:
    try:
        run = _probe(copy, db, [command.kind, command.target], timeout=SCRIPT_TIMEOUT,
                     url_env=url_env)
    except TimeoutError:
        run = {"timeout": SCRIPT_TIMEOUT, "forks": []}
    run["command"] = (f"python {command.target}" if command.kind == "script"
                      else f"python -m {command.target}")
    return run


def _raise_for(load: dict, app: str | None, root: Path) -> None:
    """One line for an app that cannot be examined; none for one that fails to import because
    of a circular import, which is itself a finding (checks.imports)."""
    from pitfall_lab.doctor.checks.imports import CIRCULAR

    error = load.get("error")
    if not error or CIRCULAR in error.get("text", error["line"]):
        return
    if error["type"] == "NoAppException":
        raise BadProject(f"no app found in {root}"
                         f"{f' (--app {app})' if app else ''}: {error['line']}")
    where = f" ({root / error['at'][0]}:{error['at'][1]})" if error["at"] else ""
    raise BadProject(f"the app raised while loading{where}: {error['line']}")


def _hide(url: str) -> str:
    from pitfall_lab.harness import sql
    return sql.show_url(url)
