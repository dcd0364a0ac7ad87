"""Flask-SQLAlchemy settings given to an app after the extension read them, read from the source:
``db = SQLAlchemy(app)`` or ``db.init_app(app)`` and then ``app.config[...] = ...``, or a test
fixture's ``app = create_app()`` and then ``app.config.update(SQLALCHEMY_DATABASE_URI=...)``.
Flask-SQLAlchemy 3 reads its configuration once, in init_app; whether the installed version is
one that ignores the late setting is the scenario's metadata (its cases' ``when``)."""
from __future__ import annotations

import ast

from pitfall_lab.catalogue import scenario
from pitfall_lab.doctor.checks._common import FOUND, NOT_FOUND, Check, Result, Seen, register

_FACTORY_WORDS = ("create_app", "make_app", "app_factory")


def _called(node) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _inits(call: ast.Call) -> str | None:
    """The app name a call hands to Flask-SQLAlchemy: SQLAlchemy(app), db.init_app(app)."""
    if _called(call) in ("SQLAlchemy", "init_app") and call.args \
            and isinstance(call.args[0], ast.Name):
        return call.args[0].id
    return None


def _factories(trees) -> set[str]:
    """Functions of the project that initialise the extension on an app they make."""
    out = set()
    for _, tree in trees:
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                    isinstance(n, ast.Call) and _inits(n) for n in ast.walk(fn)):
                out.add(fn.name)
    return out | set(_FACTORY_WORDS)


def _sqlalchemy_keys(stmt) -> list[str]:
    """The SQLALCHEMY_* settings a statement gives ``X.config``, and X: [(X, key)]."""
    found = []
    for node in ast.walk(stmt):
        target = None
        if isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Attribute) \
                        and t.value.attr == "config" and isinstance(t.slice, ast.Constant) \
                        and str(t.slice.value).startswith("SQLALCHEMY_"):
                    target = (t.value.value, [t.slice.value])
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == "update" and isinstance(node.func.value, ast.Attribute) \
                and node.func.value.attr == "config":
            keys = [k.arg for k in node.keywords if k.arg and k.arg.startswith("SQLALCHEMY_")]
            for arg in node.args:
                if isinstance(arg, ast.Dict):
                    keys += [k.value for k in arg.keys if isinstance(k, ast.Constant)
                             and str(k.value).startswith("SQLALCHEMY_")]
            if keys:
                target = (node.func.value.value, keys)
        if target and isinstance(target[0], ast.Name):
            found += [(target[0].id, key) for key in target[1]]
    return found


def late_settings(tree: ast.AST, factories: set[str]) -> list[tuple[int, str, int, str]]:
    """(line, setting, line of the init, what ran init) for each SQLALCHEMY_* setting given to an
    app in the same block after SQLAlchemy(app), init_app(app) or app = <factory>()."""
    found = []
    for block in ast.walk(tree):
        body = getattr(block, "body", None)
        if not isinstance(body, list):
            continue
        initialised: dict[str, tuple[int, str]] = {}
        for stmt in body:
            for name, key in _sqlalchemy_keys(stmt):
                if name in initialised:
                    found.append((stmt.lineno, key, *initialised[name]))
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            for node in ast.walk(stmt):
                if isinstance(node, ast.Call) and _inits(node):
                    initialised.setdefault(_inits(node), (node.lineno, f"{_called(node)}()"))
            if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call) \
                    and _called(stmt.value) in factories:
                for t in stmt.targets:
                    if isinstance(t, ast.Name):
                        initialised.setdefault(t.id, (stmt.lineno, f"{_called(stmt.value)}()"))
    return sorted(set(found))


@register(needs={"source"}, late="S28")
def late_configuration(seen: Seen, late: Check) -> list[Result]:
    s = scenario.load(late.scenario)
    trees = sorted(seen.project.trees())
    factories = _factories(trees)
    found = [f"{rel}:{line}: {key} set after {what} at {rel}:{at}"
             for rel, tree in trees for line, key, at, what in late_settings(tree, factories)]
    version = f"Flask-SQLAlchemy {scenario.installed('flask-sqlalchemy')}"
    if not found:
        return [Result(late, NOT_FOUND, "no SQLALCHEMY_* setting given to an app after "
                                        "SQLAlchemy(app), init_app or its factory")]
    ignores = [sym for sym in s.symptoms if sym.affected and sym.applies()]
    if not ignores:
        when = sorted({str(r) for sym in s.symptoms if sym.affected for r in sym.when})
        return [Result(late, NOT_FOUND, f"{len(found)} setting(s) given after init, which "
                                        f"{version} still reads; on {', '.join(when)} they are "
                                        f"ignored", found[:5])]
    first = found[0].split(": ", 1)[0].rsplit(":", 1)
    return [Result(late, FOUND, f"{len(found)} setting(s) given after init, which {version} "
                                "never reads", found, (first[0], int(first[1])))]
