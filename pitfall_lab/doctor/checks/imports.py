"""What runs while the app loads (its statements, from the load probe) and whether each module
of the project imports on its own (the imports probe)."""
from __future__ import annotations

from pitfall_lab.doctor import project as proj
from pitfall_lab.doctor.checks._common import (COULD_NOT, FOUND, NOT_FOUND, Check, Result,
                                               Seen, at, register, where)

CIRCULAR = "partially initialized module"


@register(needs={"load", "source"}, reloader="S01", startup="S09")
def import_time(seen: Seen, reloader: Check, startup: Check) -> list[Result]:
    """Writes and DDL while the app loads: once per worker, and twice under the reloader."""
    load, project = seen.load, seen.project
    writes = [s for s in load["statements"] if s["write"]]
    ddl = [s for s in load["statements"] if s["ddl"]]
    first = (writes or ddl or [None])[0]
    loc = at(first["at"]) if first else None
    evidence = [f"{where(at(s['at']))}: {s['sql']}" for s in (writes + ddl)[:5]]
    stopped = stopped_early(load)
    out = [Result(startup, FOUND, f"{len(writes)} write(s) and {len(ddl)} DDL statement(s) "
                                  "while the app loads", evidence, loc)
           if first else Result(startup, NOT_FOUND, stopped or "no write or DDL while the app "
                                                               "loads")]
    reloader_runs = proj.reloader_runs(project)
    if writes and reloader_runs:
        out.append(Result(reloader, FOUND, f"{len(writes)} write(s) at import, and the reloader "
                                           f"imports the app twice ({reloader_runs})", evidence,
                          at(writes[0]["at"])))
    elif writes:
        out.append(Result(reloader, NOT_FOUND, "writes at import, but nothing runs the debug "
                                               f"reloader (see {startup.code})"))
    else:
        out.append(Result(reloader, NOT_FOUND, stopped or "no write at import"))
    return out


def stopped_early(load: dict) -> str | None:
    """The app's own query failed while it loaded (on the empty throwaway database: no such
    table), and the app went on: a write after it, on that path, was never reached."""
    failed = [f for f in load.get("failed", []) if f.get("at")]
    if not failed:
        return None
    first = failed[0]
    return (f"not found, but the app's query failed while loading ({first['error']}, at "
            f"{where(at(first['at']))}): a write after it was never reached")


@register(needs={"imports"}, cycle="S02")
def circular(seen: Seen, cycle: Check) -> list[Result]:
    imports = seen.imports
    if not imports and not seen.imports_budget:  # only namespace folders, or scripts
        return [Result(cycle, COULD_NOT, "no module of the project can be imported on its own "
                                         "(its folders have no __init__.py, or it is scripts "
                                         "only)")]
    for module, error in imports.items():
        if error and CIRCULAR in error["line"]:
            chain = [f"{f[0]}:{f[1]}" for f in error["chain"]]
            return [Result(cycle, FOUND, f"importing {module}: {error['line']}", chain,
                           at(error["at"]))]
    budget = seen.imports_budget
    if budget:
        return [Result(cycle, COULD_NOT, f"{budget['done']} of {budget['of']} modules in "
                                         f"{budget['seconds']:g} s ({budget['why']})")]
    failed = {m: e for m, e in imports.items() if e}
    if failed:
        module, error = next(iter(failed.items()))
        return [Result(cycle, NOT_FOUND, f"{len(imports)} module(s) imported; {len(failed)} "
                                         f"failed for another reason ({module}: "
                                         f"{error['line']})")]
    return [Result(cycle, NOT_FOUND, f"{len(imports)} module(s) import on their own")]
