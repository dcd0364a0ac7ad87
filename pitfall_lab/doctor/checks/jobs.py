"""rq: what its jobs receive (a model instance plain in the source; the rest only a run shows:
the pytest plugin's gate) and the app context its worker runs them in."""
from __future__ import annotations

from pitfall_lab.doctor import contexts, jobcalls
from pitfall_lab.doctor import project as proj
from pitfall_lab.doctor.checks._common import (COULD_NOT, FOUND, NOT_APPLICABLE, NOT_FOUND,
                                               Check, Result, Seen, register)


@register(needs={"source"}, argument="S10", worker="S11")
def rq(seen: Seen, argument: Check, worker: Check) -> list[Result]:
    project = seen.project
    if not proj.uses_rq(project):
        return [Result(c, NOT_APPLICABLE, "the project does not use rq")
                for c in (argument, worker)]
    passed = [a for a in jobcalls.model_arguments(project.trees()) if a.queue == "rq"]
    if passed:
        out = [Result(argument, FOUND, f"{len(passed)} enqueue call(s) pass a model instance: "
                                       "the job gets a pickled copy, detached from any session",
                      [f"{a.path}:{a.line}: {a.call}(..., {a.argument}): {a.argument} is "
                       f"{a.bound}" for a in passed], (passed[0].path, passed[0].line))]
    else:
        out = [Result(argument, COULD_NOT, "no enqueue call passes a name plainly bound to a "
                                           "model instance; the arguments built elsewhere show "
                                           "only when they are enqueued: run your tests with "
                                           "`pytest --pitfall-lab`")]
    found = contexts.worker_context(project)
    if found:
        out.append(Result(worker, FOUND, f"the worker's work() runs {found.how}: every job "
                                         "shares that one context and its session",
                          [found.where], (found.path, found.line)))
    else:
        out.append(Result(worker, NOT_FOUND, "no worker runs inside an app context (a with "
                                             "block, a push(), a Flask or Flask-Script "
                                             "command)"))
    return out
