"""The scripts that cron, a Procfile or a __main__ guard runs, run by path or as modules, as
those run them: whether they can import the project, and whether they use the database inside
an app context."""
from __future__ import annotations

import re

from pitfall_lab.doctor.checks._common import (COULD_NOT, FOUND, NOT_APPLICABLE, NOT_FOUND,
                                               Check, Result, Seen, at, register)

_RELATIVE = re.compile(r"attempted relative import|No module named '([\w.]+)'")
_CONTEXT = re.compile(r"Working outside of application context|No application found|"
                      r"not registered with this 'SQLAlchemy' instance|"
                      r"application not registered on db instance|"
                      r"KeyError: 'SQLALCHEMY_TRACK_MODIFICATIONS'")


@register(needs={"scripts", "source"}, importing="S03", context="S04")
def scripts(seen: Seen, importing: Check, context: Check) -> list[Result]:
    runs, project = seen.scripts, seen.project
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
            found.setdefault(importing.id, Result(importing, FOUND, f"{name}: {error['line']}",
                                                  [f"run as cron runs it: {run['command']}"],
                                                  at(error["at"])))
        elif _CONTEXT.search(error["line"]):
            found.setdefault(context.id, Result(context, FOUND, f"{name}: {error['line']}",
                                                [f"run as cron runs it: {run['command']}"],
                                                at(error["at"])))
    out = list(found.values())
    for check in (importing, context):
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
