"""Celery: what its tasks receive, the app context and connections its prefork pool children
inherit, and tasks that a killed child leaves half done, from the source and the app's load."""
from __future__ import annotations

import ast
import re

from pitfall_lab.doctor import jobcalls
from pitfall_lab.doctor.checks._common import (FOUND, NOT_APPLICABLE, NOT_FOUND, Check, Result,
                                               Seen, at, register, where)

_USES = re.compile(r"^\s*(import celery\b|from celery\b)", re.M)
_PICKLE = re.compile(r"""\b(?:task_)?serializer["']?\s*[=:]\s*["']pickle["']""")
_NOT_FORKING = re.compile(r"\bcelery\b.*\bworker\b.*(?:-P\s*|--pool[= ])(solo|threads|gevent|"
                          r"eventlet)\b")


def uses_celery(project) -> bool:
    return any(_USES.search(text) for text in project.sources.values())


def _name(node) -> str:
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def _decorated(fn, *names: str) -> ast.AST | None:
    """The decorator of ``fn`` that is one of ``names`` (x.task, shared_task(...), ...)."""
    for dec in fn.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        if _name(target) in names:
            return dec
    return None


def _handlers(project, signal: str, call: str) -> list[str]:
    """Functions connected to a Celery signal (@signal.connect) that call ``.<call>()``."""
    found = []
    for rel, tree in project.trees():
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef) and any(
                    isinstance(d, ast.Attribute) and d.attr == "connect"
                    and _name(d.value) == signal for d in fn.decorator_list) and any(
                    isinstance(n, ast.Call) and _name(n.func) == call for n in ast.walk(fn)):
                found.append(f"{rel}:{fn.lineno}")
    return found


def _pushed_at_import(project) -> list[tuple[str, int]]:
    """app.app_context().push() (or ctx = app.app_context(); ctx.push()) run at module level in
    a module that uses Celery: every task of a pool child then shares that context."""
    found = []
    for rel, tree in project.trees():
        if not _USES.search(project.sources[rel]):
            continue
        contexts = set()
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call) \
                    and _name(stmt.value.func) == "app_context":
                contexts |= {t.id for t in stmt.targets if isinstance(t, ast.Name)}
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) \
                    and _name(stmt.value.func) == "push":
                owner = stmt.value.func.value if isinstance(stmt.value.func, ast.Attribute) \
                    else None
                if (isinstance(owner, ast.Call) and _name(owner.func) in (
                        "app_context", "test_request_context")) or _name(owner) in contexts:
                    found.append((rel, stmt.lineno))
    return found


def _partial_commits(project) -> list[tuple[str, int, str, str, dict]]:
    """Tasks that commit before they end (a commit in a loop, or more than one): (path, line,
    task, why, the task's ack options)."""
    found = []
    for rel, tree in project.trees():
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef):
                continue
            dec = _decorated(fn, "task", "shared_task")
            if dec is None:
                continue
            options = {k.arg: getattr(k.value, "value", None) for k in getattr(dec, "keywords", [])}
            commits = [n for n in ast.walk(fn) if isinstance(n, ast.Call)
                       and _name(n.func) == "commit"]
            looped = [c for loop in ast.walk(fn) if isinstance(loop, (ast.For, ast.While))
                      for c in ast.walk(loop) if c in commits]
            if looped:
                why = f"commits inside a loop (line {looped[0].lineno})"
            elif len(commits) > 1:
                why = f"commits {len(commits)} times (lines {commits[0].lineno}, ...)"
            else:
                continue
            found.append((rel, fn.lineno, fn.name, why, options))
    return found


def _setting(project, name: str) -> bool:
    return any(re.search(rf"""\b{name}["']?\s*[=:]\s*True\b""", text)
               for text in project.sources.values())


@register(needs={"source"}, argument="S18", context="S20", killed="S21")
def celery_tasks(seen: Seen, argument: Check, context: Check, killed: Check) -> list[Result]:
    project = seen.project
    if not uses_celery(project):
        return [Result(c, NOT_APPLICABLE, "the project does not use Celery")
                for c in (argument, context, killed)]
    out = []
    passed = [a for a in jobcalls.model_arguments(project.trees()) if a.queue == "celery"]
    if passed:
        pickle = any(_PICKLE.search(text) for text in project.sources.values())
        then = ("the task serializer is pickle: each task gets a detached copy (a change it "
                "commits is lost, a lazy relationship raises DetachedInstanceError)" if pickle
                else "with the JSON serializer the call raises EncodeError and nothing is "
                     "enqueued")
        out.append(Result(argument, FOUND, f"{len(passed)} task call(s) pass a model "
                                           f"instance; {then}",
                          [f"{a.path}:{a.line}: {a.call}({a.argument}): {a.argument} is "
                           f"{a.bound}" for a in passed], (passed[0].path, passed[0].line)))
    else:
        out.append(Result(argument, NOT_FOUND, "no .delay()/.apply_async() call passes a name "
                                               "bound to a model instance"))
    pushed = _pushed_at_import(project)
    removed = _handlers(project, "task_postrun", "remove") + \
        _handlers(project, "task_prerun", "remove")
    if pushed and not removed:
        out.append(Result(context, FOUND, "an app context is pushed when the Celery module is "
                                          "imported: every task of a pool child shares its "
                                          "session", [f"{r}:{n}" for r, n in pushed], pushed[0]))
    elif pushed:
        out.append(Result(context, NOT_FOUND, "an app context is pushed at import, and the "
                                              f"session is removed after each task "
                                              f"({', '.join(removed)})"))
    else:
        out.append(Result(context, NOT_FOUND, "no app context pushed when a Celery module is "
                                              "imported"))
    partial = _partial_commits(project)
    if partial:
        rel, line, name, why, options = partial[0]
        late = options.get("acks_late") or _setting(project, "task_acks_late")
        again = options.get("reject_on_worker_lost") or \
            _setting(project, "task_reject_on_worker_lost")
        then = ("a pool child killed midway makes it run again (acks_late, "
                "reject_on_worker_lost): what it committed before is written twice"
                if late and again else
                "a pool child killed midway loses the rest of it (WorkerLostError): what it "
                "committed stays, the rest is never done")
        out.append(Result(killed, FOUND, f"task {name} {why}; {then}",
                          [f"{r}:{n}: task {t} {w}" for r, n, t, w, _ in partial], (rel, line)))
    else:
        out.append(Result(killed, NOT_FOUND, "no task commits before it ends"))
    return out


@register(needs={"load", "source"}, fork="S19")
def celery_fork(seen: Seen, fork: Check) -> list[Result]:
    project = seen.project
    if not uses_celery(project):
        return [Result(fork, NOT_APPLICABLE, "the project does not use Celery")]
    pool = next((m.group(1) for text in [*project.configs.values(), *project.sources.values()]
                 for m in [_NOT_FORKING.search(text)] if m), None)
    if pool:
        return [Result(fork, NOT_FOUND, f"the worker runs with the {pool} pool, which does "
                                        "not fork")]
    disposed = _handlers(project, "worker_process_init", "dispose")
    open_at_load = [e for e in seen.load["engines"] if e["connected"] or e["checked_out"]]
    if not open_at_load:
        return [Result(fork, NOT_FOUND, "no connection open after the app loads")]
    if disposed:
        return [Result(fork, NOT_FOUND, "a connection is open after the app loads, and "
                                        f"worker_process_init disposes it ({disposed[0]})")]
    engine = open_at_load[0]
    return [Result(fork, FOUND, "a connection is open after the app loads, and Celery's prefork "
                                "pool forks its children after that; no worker_process_init "
                                "handler disposes the engine",
                   [f"engine {engine['url']} created at {where(at(engine['at']))}"],
                   at(engine["at"]))]
