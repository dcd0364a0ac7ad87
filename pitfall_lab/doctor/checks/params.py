"""Python values of the wrong type for the app's typed columns, read from the source: what a
request sent (``request.form[...]``, ``.args.get(...)``, the JSON body: text) given as it is to
a date, time or datetime column, and a model instance given to a foreign key column (which
wants its id). The load probe says which columns of which models take what."""
from __future__ import annotations

import ast
from dataclasses import dataclass

from pitfall_lab.doctor.checks._common import FOUND, NOT_APPLICABLE, NOT_FOUND, Check, Result, \
    Seen, register
from pitfall_lab.doctor.jobcalls import _binding, model_classes

_SENT = {"form", "args", "values", "json", "cookies", "headers"}


@dataclass(frozen=True)
class Given:
    path: str
    line: int
    column: str  # Event.starts_at
    kind: str  # "datetime", "date", "time", "foreign key"
    value: str  # the expression, as written
    what: str  # "text a request sent", "User(...)", "a query's .first()"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.column} ({self.kind}) = {self.value}: {self.what}"


def _sent(node) -> bool:
    """request.form["x"], request.form.get("x"), request.get_json()["x"], request.json.get(..)."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
            node.func.attr == "get":
        if any(k.arg == "type" for k in node.keywords):  # werkzeug converts it: get(.., type=)
            return False
        node = node.func.value
    elif isinstance(node, ast.Subscript):
        node = node.value
    else:
        return False
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr == "get_json" and _is_request(node.func.value)
    return isinstance(node, ast.Attribute) and node.attr in _SENT and _is_request(node.value)


def _is_request(node) -> bool:
    return isinstance(node, ast.Name) and node.id == "request"


def _bindings(fn) -> dict[str, list]:
    out: dict[str, list] = {}
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out.setdefault(target.id, []).append(node.value)
    return out


def _what(value, kind: str, bound: dict, models: set[str]) -> str | None:
    """Why ``value`` is the wrong type for a column of ``kind``, or None."""
    values = bound.get(value.id, []) if isinstance(value, ast.Name) else [value]
    if not values:
        return None
    if kind != "foreign key":
        return "text a request sent" if all(_sent(v) for v in values) else None
    said = {_binding(v, models) for v in values}
    return said.pop() if len(said) == 1 and None not in said else None


def given(trees, columns: dict[str, dict[str, str]]) -> list[Given]:
    models = model_classes(trees) | set(columns)
    # an attribute assigned on an instance: the column of that name, where only one kind has it
    by_name: dict[str, set] = {}
    for model, attributes in columns.items():
        for name, kind in attributes.items():
            by_name.setdefault(name, set()).add((model, kind))
    out = []
    for rel, tree in trees:
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            bound = _bindings(fn)
            for node in ast.walk(fn):
                pairs = []
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                        node.func.id in columns:
                    pairs = [(node.func.id, k.arg, k.value) for k in node.keywords
                             if k.arg in columns[node.func.id]]
                elif isinstance(node, ast.Assign):
                    for t in node.targets:
                        owners = by_name.get(t.attr, set()) if isinstance(t, ast.Attribute) \
                            else set()
                        if len({kind for _, kind in owners}) == 1:
                            model = sorted(owners)[0][0] if len(owners) == 1 else "(a model)"
                            pairs.append((model, t.attr, node.value))
                for model, attr, value in pairs:
                    kind = columns.get(model, {}).get(attr) or next(
                        k for _, k in by_name[attr])
                    what = _what(value, kind, bound, models)
                    if what:
                        out.append(Given(rel, node.lineno, f"{model}.{attr}", kind,
                                         ast.unparse(value), what))
    return sorted(set(out), key=lambda g: (g.path, g.line, g.column))


# SQLAlchemy's SQLite types, in their own words (sqlalchemy/dialects/sqlite/base.py)
_SQLITE = {"datetime": "SQLite DateTime type only accepts Python datetime and date objects as "
                       "input.",
           "date": "SQLite Date type only accepts Python date objects as input.",
           "time": "SQLite Time type only accepts Python time objects as input."}
_MODEL = ("no driver can bind a model instance (sqlite3: 'Error binding parameter', psycopg2: "
          "'can't adapt type'), and neither names the column")


@register(needs={"load", "source"}, param="S27")
def parameter_types(seen: Seen, param: Check) -> list[Result]:
    columns = seen.load.get("columns", {})
    if not columns:
        return [Result(param, NOT_APPLICABLE, "no model has a date, time, datetime or foreign "
                                              "key column")]
    trees = [(rel, tree) for rel, tree in sorted(seen.project.trees())
             if not (rel.startswith("tests/") or "/tests/" in rel
                     or rel.split("/")[-1].startswith("test_"))]
    found = given(trees, columns)
    if not found:
        counted = sum(len(a) for a in columns.values())
        return [Result(param, NOT_FOUND, f"{counted} typed column(s); none is given a request's "
                                         "text or a model instance in the source")]
    first = found[0]
    said = _MODEL if first.kind == "foreign key" else (
        f"on SQLite a StatementError ('{_SQLITE[first.kind]}'), while PostgreSQL parses the text "
        "its own way: a suite on one and production on the other disagree")
    return [Result(param, FOUND, f"{len(found)} value(s) of the wrong type for a typed column; "
                                 f"{first.column} ({first.kind}) gets {first.what}: {said}",
                   [str(g) for g in found], (first.path, first.line))]
