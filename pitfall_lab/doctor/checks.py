"""The doctor's checks: one registry, one result type. Each check has a stable id (the scenario
code and a name), a level, a one-line title and a hint that names the fix; it turns what the
probes observed (pitfall_lab.doctor.probe) and what the project states (project.py) into a
verdict per scenario: found, not found, not applicable, or could not check (with the reason).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from pitfall_lab.doctor import project as proj

FOUND, NOT_FOUND, NOT_APPLICABLE, COULD_NOT = ("found", "not found", "not applicable",
                                               "could not check")
SERVER_DIALECTS = {"postgresql", "mysql", "mariadb"}


@dataclass(frozen=True)
class Check:
    id: str
    scenario: str  # the scenario's id: pitfall-lab show <scenario>
    level: str  # error, warning or info
    title: str
    hint: str


@dataclass
class Result:
    check: Check
    verdict: str
    message: str
    evidence: list[str] = field(default_factory=list)
    location: tuple[str, int] | None = None  # (path relative to the project, line)


CHECKS = [
    Check("S01-reloader-import-write", "reloader_double_insert", "error",
          "Database writes at import, under the debug reloader",
          "Seed in a `flask` command or behind WERKZEUG_RUN_MAIN; pitfall-lab show "
          "reloader_double_insert"),
    Check("S02-circular-import", "circular_import", "error",
          "A module cannot be imported: a circular import",
          "Move db = SQLAlchemy() into a module of its own; pitfall-lab show circular_import"),
    Check("S03-script-import", "script_relative_import", "error",
          "A script run by path cannot import the project",
          "Run it as `python -m package.script` or a `flask` command; pitfall-lab show "
          "script_relative_import"),
    Check("S04-outside-app-context", "outside_app_context", "error",
          "A script uses the database outside an app context",
          "Wrap the work in `with app.app_context():`; pitfall-lab show outside_app_context"),
    Check("S05-shared-base", "shared_base", "error",
          "Two SQLAlchemy instances share one declarative base",
          "Give each SQLAlchemy instance its own base; pitfall-lab show shared_base"),
    Check("S07-connection-before-fork", "prefork_shared_connection", "error",
          "A connection is open when a preloading server forks",
          "lazy-apps / no preload, or dispose the engine after the fork; pitfall-lab show "
          "prefork_shared_connection"),
    Check("S07b-sqlite-connection-before-fork", "fork_sqlite", "error",
          "A SQLite connection is open at a fork",
          "Close the session and dispose the engine before forking; pitfall-lab show "
          "fork_sqlite"),
    Check("S09-import-time-write", "startup_side_effect", "warning",
          "Database writes or DDL when the app loads: once per worker",
          "Move start-up work to a one-off command run at deploy; pitfall-lab show "
          "startup_side_effect"),
    Check("S10-orm-job-argument", "orm_object_job_arg", "error",
          "An rq job receives an ORM instance",
          "Pass the id and load the row in the job; pitfall-lab show orm_object_job_arg"),
    Check("S11-worker-one-app-context", "poisoned_session_jobs", "error",
          "The rq worker runs every job in one app context",
          "An app context per job (a Worker subclass); pitfall-lab show poisoned_session_jobs"),
    Check("S12-no-pre-ping", "stale_connection", "warning",
          "A server database engine without pool_pre_ping",
          "SQLALCHEMY_ENGINE_OPTIONS = {'pool_pre_ping': True, 'pool_recycle': 280}; "
          "pitfall-lab show stale_connection"),
]
BY_ID = {c.id: c for c in CHECKS}
# Scenarios no check covers yet, and why: the doctor says so rather than guess.
UNCOVERED = {
    "no_such_table": "it shows only when the project's test suite runs (two apps, drop_all)",
    "threads_share_session": "it shows only under concurrent requests; pitfall_lab's runtime "
                             "checks do not cover it yet",
    "drop_all_hang": "it shows only when the project's test suite runs against PostgreSQL",
    "job_killed_midway": "whether a job is idempotent shows only when it is killed and retried",
}


def _at(frame) -> tuple[str, int] | None:
    return (frame[0], frame[1]) if frame else None


def _where(loc) -> str:
    return f"{loc[0]}:{loc[1]}" if loc else "(no line of the project's code)"


def import_time(load: dict, project: proj.Project) -> list[Result]:
    """S01 and S09, from the statements run while the app loaded."""
    writes = [s for s in load["statements"] if s["write"]]
    ddl = [s for s in load["statements"] if s["ddl"]]
    first = (writes or ddl or [None])[0]
    loc = _at(first["at"]) if first else None
    evidence = [f"{_where(_at(s['at']))}: {s['sql']}" for s in (writes + ddl)[:5]]
    s09 = BY_ID["S09-import-time-write"]
    out = [Result(s09, FOUND, f"{len(writes)} write(s) and {len(ddl)} DDL statement(s) while "
                              "the app loads", evidence, loc)
           if first else Result(s09, NOT_FOUND, "no write or DDL while the app loads")]
    s01 = BY_ID["S01-reloader-import-write"]
    reloader = proj.reloader_runs(project)
    if writes and reloader:
        out.append(Result(s01, FOUND, f"{len(writes)} write(s) at import, and the reloader "
                                      f"imports the app twice ({reloader})", evidence,
                          _at(writes[0]["at"])))
    elif writes:
        out.append(Result(s01, NOT_FOUND, "writes at import, but nothing runs the debug "
                                          "reloader (see S09)"))
    else:
        out.append(Result(s01, NOT_FOUND, "no write at import"))
    return out


def before_fork(load: dict, scripts: dict[str, dict], project: proj.Project,
                dialect_of) -> list[Result]:
    """S07 and S07b: a connection open when a process forks (a script's os.fork seen by the
    probe's fork hook), or after the app loaded under a preloading server with no post-fork
    dispose hook for that server."""
    s07, s07b = BY_ID["S07-connection-before-fork"], BY_ID["S07b-sqlite-connection-before-fork"]
    found: dict[str, Result] = {}
    for name, run in scripts.items():
        # A connection in use at the fork stays in use in the child (its session holds it);
        # a pooled one crosses only if a child checks it out (the probe sees that checkout).
        for fork in run.get("forks", []):
            for pool in [p for p in fork["pools"] if p["checked_out"]]:
                check = s07b if dialect_of(pool["url"]) == "sqlite" else s07
                found.setdefault(check.id, Result(
                    check, FOUND, f"{name} forks with {pool['checked_out']} connection(s) in "
                                  "use", [f"engine {pool['url']}"], _at(fork["at"])))
        for cross in run.get("crossed", []):
            check = s07b if dialect_of(cross["url"]) == "sqlite" else s07
            found.setdefault(check.id, Result(
                check, FOUND, f"{name}: process {cross['used_by']} uses a connection that "
                              f"process {cross['opened_by']} opened before forking it",
                [f"engine {cross['url']}"], _at(cross["at"])))
    servers = proj.preloading_servers(project)
    hooks = proj.fork_hooks(project)

    def protected(server: str) -> bool:  # os.register_at_fork runs under uWSGI only with
        if server == "gunicorn":         # py-call-osafterfork: uWSGI forks in C
            return "gunicorn" in hooks
        return "uwsgi" in hooks or ("register_at_fork" in hooks and "uwsgi-osafterfork" in servers)

    unprotected = [s for s in ("uwsgi", "gunicorn") if s in servers and not protected(s)]
    open_at_load = [e for e in load["engines"] if e["connected"] or e["checked_out"]]
    for engine in open_at_load:
        check = s07b if dialect_of(engine["url"]) == "sqlite" else s07
        if unprotected:
            found.setdefault(check.id, Result(
                check, FOUND, f"a connection is open after the app loads, and "
                              f"{' and '.join(unprotected)} "
                              f"{'preload' if len(unprotected) > 1 else 'preloads'} it "
                              f"({', '.join(servers[s] for s in unprotected)})",
                [f"engine {engine['url']} created at {_where(_at(engine['at']))}"]
                + [f"post-fork dispose for {k} in {v}" for k, v in hooks.items()],
                _at(engine["at"])))
    out = list(found.values())
    for check in (s07, s07b):
        if check.id in found:
            continue
        sqlite = check is s07b
        open_here = [e for e in open_at_load if (dialect_of(e["url"]) == "sqlite") == sqlite]
        if open_here and servers:
            why = (f"a connection is open after the app loads; every preloading server "
                   f"disposes it after the fork ({', '.join(f'{k}: {v}' for k, v in hooks.items())})")
        elif open_here:
            why = "a connection is open after the app loads, but no server config preloads it"
        else:
            why = "no connection open after the app loads or at a fork"
        out.append(Result(check, NOT_FOUND, why))
    return out


_QUERY = re.compile(r"\b[A-Z]\w*\.query\b")


def shared_base(load: dict, project: proj.Project) -> list[Result]:
    """Two instances sharing a base is the mechanism; Model.query is what goes through the
    wrong one. Without a Model.query in the source, the shared base is said, not flagged."""
    check = BY_ID["S05-shared-base"]
    instances = load["instances"]
    queries = [f"{rel}:{n}" for rel, text in project.sources.items()
               for n, line in enumerate(text.splitlines(), 1) if _QUERY.search(line)]
    for key in ("model", "metadata", "registry"):
        seen: dict[int, dict] = {}
        for inst in instances:
            other = seen.setdefault(inst[key], inst)
            if other is not inst and inst[key] != id(None):
                pair = f"{_where(_at(other['at']))} and {_where(_at(inst['at']))}"
                if not queries:
                    return [Result(check, NOT_FOUND, f"two SQLAlchemy instances share one "
                                                     f"{key} ({pair}), but no Model.query uses it")]
                return [Result(check, FOUND, f"two SQLAlchemy instances share one {key}, and "
                                             f"Model.query picks one of their sessions",
                               [pair, f"Model.query at {', '.join(queries[:3])}"],
                               _at(inst["at"]))]
    return [Result(check, NOT_FOUND, f"{len(instances)} SQLAlchemy instance(s), each with its "
                                     "own base")]


def circular(imports: dict[str, dict | None]) -> list[Result]:
    check = BY_ID["S02-circular-import"]
    for module, error in imports.items():
        if error and "partially initialized module" in error["line"]:
            cycle = [f"{f[0]}:{f[1]}" for f in error["chain"]]
            return [Result(check, FOUND, f"importing {module}: {error['line']}", cycle,
                           _at(error["at"]))]
    failed = {m: e for m, e in imports.items() if e}
    if failed:
        module, error = next(iter(failed.items()))
        return [Result(check, NOT_FOUND, f"{len(imports)} module(s) imported; {len(failed)} "
                                         f"failed for another reason ({module}: "
                                         f"{error['line']})")]
    return [Result(check, NOT_FOUND, f"{len(imports)} module(s) import on their own")]


_RELATIVE = re.compile(r"attempted relative import|No module named '([\w.]+)'")
_CONTEXT = re.compile(r"Working outside of application context|No application found|"
                      r"not registered with this 'SQLAlchemy' instance|"
                      r"application not registered on db instance|"
                      r"KeyError: 'SQLALCHEMY_TRACK_MODIFICATIONS'")


def scripts(runs: dict[str, dict], project: proj.Project) -> list[Result]:
    s03, s04 = BY_ID["S03-script-import"], BY_ID["S04-outside-app-context"]
    own = {m.split(".")[0] for m in project.modules}
    found: dict[str, Result] = {}
    unchecked = []
    for name, run in runs.items():
        error = run.get("error")
        if run.get("timeout"):
            unchecked.append(f"{name}: still running after {run['timeout']}s")
            continue
        if not error:
            continue
        missing = _RELATIVE.search(error["line"])
        if missing and (missing.group(1) is None or missing.group(1).split(".")[0] in own):
            found.setdefault(s03.id, Result(s03, FOUND, f"{name}: {error['line']}",
                                            [f"run as cron runs it: {run['command']}"],
                                            _at(error["at"])))
        elif _CONTEXT.search(error["line"]):
            found.setdefault(s04.id, Result(s04, FOUND, f"{name}: {error['line']}",
                                            [f"run as cron runs it: {run['command']}"],
                                            _at(error["at"])))
    out = list(found.values())
    for check in (s03, s04):
        if check.id in found:
            continue
        if not runs:
            out.append(Result(check, NOT_APPLICABLE, "no script, crontab or Procfile line"))
        elif unchecked and len(unchecked) == len(runs):
            out.append(Result(check, COULD_NOT, "; ".join(unchecked)))
        else:
            out.append(Result(check, NOT_FOUND, f"{len(runs)} script(s) run as cron runs them"
                              + (f"; {'; '.join(unchecked)}" if unchecked else "")))
    return out


def pre_ping(load: dict, dialect_of) -> list[Result]:
    check = BY_ID["S12-no-pre-ping"]
    servers = [e for e in load["engines"] if dialect_of(e["url"]) in SERVER_DIALECTS]
    if not servers:
        return [Result(check, NOT_APPLICABLE, "no PostgreSQL or MySQL engine (--dburi says "
                                              "which server the app uses)")]
    for engine in servers:
        options = engine["options"]
        mysql = dialect_of(engine["url"]) in ("mysql", "mariadb")
        if options.get("pool_pre_ping") != "True" and not (mysql and "pool_recycle" in options):
            return [Result(check, FOUND, f"engine {engine['url']} has no pool_pre_ping"
                                         + (" and no pool_recycle" if mysql else ""),
                           ["measured by the lab: after the server ends a pooled connection, "
                            "the next request fails with OperationalError 'server closed the "
                            "connection unexpectedly' (psycopg2) or 'Lost connection to MySQL "
                            "server during query' (pymysql)"], _at(engine["at"]))]
    return [Result(check, NOT_FOUND, "every server engine pings its connections")]


def rq(project: proj.Project) -> list[Result]:
    s10, s11 = BY_ID["S10-orm-job-argument"], BY_ID["S11-worker-one-app-context"]
    if not proj.uses_rq(project):
        return [Result(c, NOT_APPLICABLE, "the project does not use rq") for c in (s10, s11)]
    out = [Result(s10, COULD_NOT, "which arguments jobs get shows only when they are enqueued: "
                                  "run your tests with `pytest --pitfall-lab`")]
    where = proj.worker_under_one_context(project)
    if where:
        path, line = where.rsplit(":", 1)
        out.append(Result(s11, FOUND, "worker.work() runs inside one app context", [where],
                          (path, int(line))))
    else:
        out.append(Result(s11, NOT_FOUND, "no worker runs inside an app context"))
    return out
