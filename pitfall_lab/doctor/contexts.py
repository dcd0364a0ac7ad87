"""Where a job worker runs inside one pushed context, read from the source: every job it works
then shares that context (and its session). The context may be written out or implied:

- ``with app.app_context():`` (or ``test_request_context()``, ``request_context()``);
- ``app.app_context().push()``, or ``ctx = app.app_context()`` then ``ctx.push()``, earlier in
  the same function or module;
- a command of a CLI framework that runs its commands inside a context: Flask's
  ``@app.cli.command()``/``@bp.cli.command()`` (an AppGroup: app context), ``@with_appcontext``,
  a command of an ``AppGroup(...)``; Flask-Script's ``@manager.command``/``@manager.option``
  and a ``Command`` subclass's ``run()`` (each run inside ``app.test_request_context()``).

The worker is a ``.work()`` call (rq's Worker.work, ``work(burst=...)``), in the context itself
or in a function of the project that the context's body calls (one call deep).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

_CONTEXTS = ("app_context", "test_request_context", "request_context")


@dataclass(frozen=True)
class Found:
    path: str
    line: int  # the .work() call
    how: str  # in words: "inside `with app.app_context():` (worker.py:12)"

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def _attr(node) -> str:
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def _dotted(node) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _context_call(node) -> bool:
    return isinstance(node, ast.Call) and _attr(node.func) in _CONTEXTS


def _works(body) -> list[ast.Call]:
    return [n for stmt in body for n in ast.walk(stmt)
            if isinstance(n, ast.Call) and _attr(n.func) == "work"]


def _calls(body) -> set[str]:
    return {_attr(n.func) for stmt in body for n in ast.walk(stmt) if isinstance(n, ast.Call)}


def _imports_flask_script(tree) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and (
                node.module.startswith("flask_script") or node.module == "flask.ext.script"):
            return True
        if isinstance(node, ast.Import) and any(a.name.startswith("flask_script")
                                                for a in node.names):
            return True
    return False


def _app_groups(tree) -> set[str]:
    """Names bound to AppGroup(...) / FlaskGroup(...): their commands run in an app context."""
    return {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call) and _attr(node.value.func) in (
                "AppGroup", "FlaskGroup")
            for t in node.targets if isinstance(t, ast.Name)}


def _command_context(fn, script: bool, groups: set[str]) -> str | None:
    """Why a function runs inside a context when a CLI framework calls it, or None."""
    for decorator in fn.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        dotted = _dotted(target)
        if _attr(target) == "with_appcontext":
            return "a command under @with_appcontext, which runs it in an app context"
        if dotted.endswith(".cli.command") or dotted.endswith(".cli.group"):
            return f"a Flask command (@{dotted}), which Flask runs in an app context"
        head = dotted.split(".", 1)[0]
        if _attr(target) == "command" and head in groups:
            return f"a command of the AppGroup {head}, which Flask runs in an app context"
        if (script or head == "manager") and _attr(target) in ("command", "option", "shell") \
                and "." in dotted:
            return (f"a Flask-Script command (@{dotted}), which Flask-Script runs in "
                    "app.test_request_context()")
    return None


def worker_context(project) -> Found | None:
    """The first worker (in file order) that runs inside one pushed context."""
    trees = sorted(project.trees())
    # functions of the project that start a worker: a context that calls one is the worker's
    starters: dict[str, tuple[str, ast.Call]] = {}
    for rel, tree in trees:
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                works = _works(fn.body)
                if works:
                    starters.setdefault(fn.name, (rel, works[0]))

    def worker_in(rel: str, body) -> tuple[str, ast.Call, str] | None:
        works = _works(body)
        if works:
            return rel, works[0], ""
        for name in sorted(_calls(body) & set(starters)):
            path, call = starters[name]
            return path, call, f", through {name}()"
        return None

    for rel, tree in trees:
        script = _imports_flask_script(tree)
        groups = _app_groups(tree)
        for node in ast.walk(tree):
            found, how = None, ""
            if isinstance(node, (ast.With, ast.AsyncWith)):
                context = next((i.context_expr for i in node.items
                                if _context_call(i.context_expr)), None)
                if context is not None:
                    found = worker_in(rel, node.body)
                    how = (f"inside `with {_dotted(context.func)}():` "
                           f"({rel}:{node.lineno})")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                why = _command_context(node, script, groups)
                if why is None and script and node.name == "run" and _in_command_class(
                        tree, node):
                    why = ("the run() of a Flask-Script Command, which Flask-Script runs in "
                           "app.test_request_context()")
                if why:
                    found = worker_in(rel, node.body)
                    how = f"inside {why} ({rel}:{node.lineno} {node.name})"
            if found is None and isinstance(getattr(node, "body", None), list) and \
                    not isinstance(node, ast.ClassDef):
                pushed = _pushed(node.body)
                if pushed is not None:
                    line, said, rest = pushed
                    found = worker_in(rel, rest)
                    how = f"after {said} at {rel}:{line}, which is never popped before it"
            if found:
                path, call, through = found
                return Found(path, call.lineno, how + through)
    return None


def _in_command_class(tree, fn) -> bool:
    for cls in ast.walk(tree):
        if isinstance(cls, ast.ClassDef) and fn in cls.body and any(
                _attr(b) == "Command" for b in cls.bases):
            return True
    return False


def _pushed(body) -> tuple[int, str, list] | None:
    """A context pushed in this block (app.app_context().push(), or a name bound to a context
    and then pushed): its line, what it says, and the statements after it."""
    bound: set[str] = set()
    for n, stmt in enumerate(body):
        if isinstance(stmt, ast.Assign) and _context_call(stmt.value):
            bound |= {t.id for t in stmt.targets if isinstance(t, ast.Name)}
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if isinstance(call, ast.Call) and _attr(call.func) == "push":
            owner = call.func.value
            if _context_call(owner):
                return stmt.lineno, f"{_dotted(owner.func)}().push()", body[n + 1:]
            if isinstance(owner, ast.Name) and owner.id in bound:
                return stmt.lineno, f"{owner.id}.push()", _until_popped(body[n + 1:], owner.id)
    return None


def _until_popped(rest: list, name: str) -> list:
    """The statements before ``name.pop()`` in the same block."""
    for n, stmt in enumerate(rest):
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if isinstance(call, ast.Call) and _attr(call.func) == "pop" \
                and _dotted(call.func.value) == name:
            return rest[:n]
    return rest
