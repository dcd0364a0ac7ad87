"""Connections open when a process forks: a script's os.fork (seen by the probe's fork hook),
or the app loaded by a preloading server with no post-fork dispose hook for that server."""
from __future__ import annotations

from pitfall_lab.doctor import project as proj
from pitfall_lab.doctor.checks._common import (FOUND, NOT_FOUND, Check, Result, Seen, at,
                                               register, where)


@register(needs={"load", "scripts", "source"}, server="S07", sqlite="S07b")
def before_fork(seen: Seen, server: Check, sqlite: Check) -> list[Result]:
    load, project, dialect_of = seen.load, seen.project, seen.dialect_of

    def check_for(url: str) -> Check:
        return sqlite if dialect_of(url) == "sqlite" else server

    found: dict[str, Result] = {}
    for name, run in seen.scripts.items():
        # A connection in use at the fork stays in use in the child (its session holds it);
        # a pooled one crosses only if a child checks it out (the probe sees that checkout).
        for fork in run.get("forks", []):
            for pool in [p for p in fork["pools"] if p["checked_out"]]:
                check = check_for(pool["url"])
                found.setdefault(check.id, Result(
                    check, FOUND, f"{name} forks with {pool['checked_out']} connection(s) in "
                                  "use", [f"engine {pool['url']}"], at(fork["at"])))
        for cross in run.get("crossed", []):
            check = check_for(cross["url"])
            found.setdefault(check.id, Result(
                check, FOUND, f"{name}: process {cross['used_by']} uses a connection that "
                              f"process {cross['opened_by']} opened before forking it",
                [f"engine {cross['url']}"], at(cross["at"])))
    servers = proj.preloading_servers(project)
    hooks = proj.fork_hooks(project)

    def protected(name: str) -> bool:  # os.register_at_fork runs under uWSGI only with
        if name == "gunicorn":           # py-call-osafterfork: uWSGI forks in C
            return "gunicorn" in hooks
        return "uwsgi" in hooks or ("register_at_fork" in hooks and "uwsgi-osafterfork" in servers)

    unprotected = [s for s in ("uwsgi", "gunicorn") if s in servers and not protected(s)]
    open_at_load = [e for e in load["engines"] if e["connected"] or e["checked_out"]]
    for engine in open_at_load:
        check = check_for(engine["url"])
        if unprotected:
            found.setdefault(check.id, Result(
                check, FOUND, f"a connection is open after the app loads, and "
                              f"{' and '.join(unprotected)} "
                              f"{'preload' if len(unprotected) > 1 else 'preloads'} it "
                              f"({', '.join(servers[s] for s in unprotected)})",
                [f"engine {engine['url']} created at {where(at(engine['at']))}"]
                + [f"post-fork dispose for {k} in {v}" for k, v in hooks.items()],
                at(engine["at"])))
    out = list(found.values())
    for check in (server, sqlite):
        if check.id in found:
            continue
        open_here = [e for e in open_at_load if check_for(e["url"]) is check]
        if open_here and servers:
            why = (f"a connection is open after the app loads; every preloading server "
                   f"disposes it after the fork ({', '.join(f'{k}: {v}' for k, v in hooks.items())})")
        elif open_here:
            why = "a connection is open after the app loads, but no server config preloads it"
        else:
            why = "no connection open after the app loads or at a fork"
        out.append(Result(check, NOT_FOUND, why))
    return out
