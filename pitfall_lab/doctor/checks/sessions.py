"""Sessions used again after a failed flush without a rollback, read from the source: an
``except IntegrityError:`` (or another database error) whose block goes back to the session, a
query or a model's ``.query`` before it calls ``rollback()``. Until then every use raises
PendingRollbackError (InvalidRequestError before SQLAlchemy 1.4)."""
from __future__ import annotations

import ast

from pitfall_lab.doctor.checks._common import FOUND, NOT_FOUND, Check, Result, Seen, register

# What a failed flush or commit raises: the DBAPI error's wrappers, and their bases.
_DATABASE_ERRORS = {"IntegrityError", "DataError", "OperationalError", "ProgrammingError",
                    "DBAPIError", "StatementError", "SQLAlchemyError"}


def _names(node) -> set[str]:
    """The exception class names an except clause catches."""
    if node is None:
        return set()
    items = node.elts if isinstance(node, ast.Tuple) else [node]
    return {i.attr if isinstance(i, ast.Attribute) else getattr(i, "id", "") for i in items}


def _session_use(node) -> bool:
    """db.session.x, session.x, Model.query: the session the failed flush left."""
    if isinstance(node, ast.Attribute):
        if node.attr == "query":
            return not (isinstance(node.value, ast.Name) and node.value.id == "request")
        owner = node.value
        return (isinstance(owner, ast.Attribute) and owner.attr == "session") or \
            (isinstance(owner, ast.Name) and owner.id == "session")
    return False


def _rollback(node) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
        node.func.attr in ("rollback", "remove", "close")


def _first(body, test) -> int | None:
    """The line of the first node of ``body``, in source order, that passes ``test``."""
    lines = [n.lineno for stmt in body for n in ast.walk(stmt) if test(n)]
    return min(lines) if lines else None


def used_before_rollback(tree: ast.AST) -> list[tuple[int, int, str]]:
    """(line of the except, line of the use, what is caught) for each except block of a
    database error that uses the session before any rollback()."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ExceptHandler):
            continue
        caught = _names(node.type) & _DATABASE_ERRORS
        if not caught:
            continue
        use = _first(node.body, _session_use)
        rolled = _first(node.body, _rollback)
        if use is not None and (rolled is None or use < rolled):
            found.append((node.lineno, use, "/".join(sorted(caught))))
    return found


@register(needs={"source"}, block="S25")
def no_rollback(seen: Seen, block: Check) -> list[Result]:
    found = [(rel, line, use, caught) for rel, tree in sorted(seen.project.trees())
             for line, use, caught in used_before_rollback(tree)]
    if not found:
        return [Result(block, NOT_FOUND, "no except block of a database error uses the session "
                                         "before rollback()")]
    rel, line, use, caught = found[0]
    return [Result(block, FOUND, f"{len(found)} except block(s) of a database error use the "
                                 "session before rollback(): the failed transaction is still "
                                 "there, and every use raises PendingRollbackError",
                   [f"{r}:{n}: except {c}: the session used at line {u}, no rollback() before"
                    for r, n, u, c in found], (rel, line))]
