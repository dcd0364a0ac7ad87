"""Model instances that outlive the app context that loaded them, read from the source: a
function that returns, from inside its own ``with app.app_context():``, an instance it loaded
(a query's one result, a constructor). When the context ends Flask-SQLAlchemy removes the
session and the instance is detached; a caller then fails where it reads what the instance never
loaded: a lazy relationship (the load probe says which), or any attribute once the function has
committed (commit expires them all)."""
from __future__ import annotations

import ast
from dataclasses import dataclass

from pitfall_lab.doctor.checks._common import FOUND, NOT_APPLICABLE, NOT_FOUND, Check, Result, \
    Seen, register
from pitfall_lab.doctor.checks.threads import pushes_context
from pitfall_lab.doctor.jobcalls import _binding, _chain, model_classes


@dataclass(frozen=True)
class Returned:
    path: str
    line: int  # the return
    function: str
    model: str | None
    committed: bool  # a commit before the return: every attribute expired


def _model(value, models: set[str]) -> str | None:
    chain = _chain(value)
    if chain and chain[0] in models:
        return chain[0]
    first = value.args[0] if isinstance(value, ast.Call) and value.args else None
    return first.id if isinstance(first, ast.Name) and first.id in models else None


def returned(trees, models: set[str]) -> dict[str, Returned]:
    """Function name -> how it returns a model instance from inside its own app context."""
    out = {}
    for rel, tree in trees:
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for block in (n for n in ast.walk(fn) if pushes_context(n)
                          and isinstance(n, (ast.With, ast.AsyncWith))):
                inner = [n for stmt in block.body for n in ast.walk(stmt)]
                bound = {t.id: n.value for n in inner if isinstance(n, ast.Assign)
                         for t in n.targets if isinstance(t, ast.Name)}
                commits = [n.lineno for n in inner if isinstance(n, ast.Call)
                           and isinstance(n.func, ast.Attribute) and n.func.attr == "commit"]
                for ret in (n for n in inner if isinstance(n, ast.Return) and n.value):
                    value = bound.get(ret.value.id) if isinstance(ret.value, ast.Name) \
                        else ret.value
                    if value is not None and _binding(value, models):
                        out[fn.name] = Returned(rel, ret.lineno, fn.name, _model(value, models),
                                                any(line < ret.lineno for line in commits))
    return out


@dataclass(frozen=True)
class Use:
    path: str
    line: int
    name: str  # user.posts
    helper: Returned
    why: str


def _scopes(tree):
    yield tree
    yield from (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef,
                                                            ast.AsyncFunctionDef)))


def _called(node) -> str:
    return _chain(node.func)[-1] if isinstance(node, ast.Call) and _chain(node.func) else ""


def uses(trees, helpers: dict[str, Returned], lazy: dict[str, list[str]]) -> list[Use]:
    """Attribute reads, by each helper's callers, that need the session the helper's context
    took with it."""
    out = []
    for rel, tree in trees:
        for scope in _scopes(tree):
            nodes = [n for n in ast.walk(scope) if n is scope or not isinstance(
                n, (ast.FunctionDef, ast.AsyncFunctionDef))]
            assigned = sorted(((n.lineno, t.id, n.value) for n in nodes
                               if isinstance(n, ast.Assign) for t in n.targets
                               if isinstance(t, ast.Name)), key=lambda a: a[0])
            for node in nodes:
                if not isinstance(node, ast.Attribute) or not isinstance(node.ctx, ast.Load):
                    continue
                if isinstance(node.value, ast.Call):
                    source = node.value
                elif isinstance(node.value, ast.Name):
                    before = [v for line, name, v in assigned
                              if name == node.value.id and line <= node.lineno]
                    source = before[-1] if before else None
                else:
                    continue
                helper = helpers.get(_called(source)) if source is not None else None
                if helper is None:
                    continue
                why = None
                if node.attr in lazy.get(helper.model or "", []):
                    why = f"{helper.model}.{node.attr} is a lazy relationship, never loaded"
                elif helper.committed:
                    why = f"{helper.function}() committed before it returned: every attribute " \
                          "is expired"
                if why:
                    out.append(Use(rel, node.lineno, ast.unparse(node), helper, why))
    return sorted(set(out), key=lambda u: (u.path, u.line, u.name))


@register(needs={"load", "source"}, detached="S26")
def detached_instances(seen: Seen, detached: Check) -> list[Result]:
    trees = [(rel, tree) for rel, tree in sorted(seen.project.trees())
             if not (rel.startswith("tests/") or "/tests/" in rel
                     or rel.split("/")[-1].startswith("test_"))]
    lazy = seen.load.get("lazy", {})
    helpers = returned(trees, model_classes(trees) | set(lazy) | set(seen.load.get("columns", {})))
    if not helpers:
        return [Result(detached, NOT_APPLICABLE, "no function returns a model instance from "
                                                 "inside its own app context")]
    found = uses(trees, helpers, lazy)
    if not found:
        return [Result(detached, NOT_FOUND, f"{len(helpers)} function(s) return a model instance "
                                            "from inside their own app context; their callers "
                                            "read only what it loaded")]
    first = found[0]
    return [Result(detached, FOUND, f"{len(found)} read(s) of a model instance after the app "
                                    f"context that loaded it ended: {first.name} "
                                    f"({first.helper.function}() returned it from its own "
                                    "context; DetachedInstanceError)",
                   [f"{u.path}:{u.line}: {u.name}: {u.why} ({u.helper.path}:{u.helper.line})"
                    for u in found], (first.path, first.line))]
