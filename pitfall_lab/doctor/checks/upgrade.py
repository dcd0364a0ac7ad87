"""Calls that a major upgrade changed, read from the source without running it (Flask-SQLAlchemy
3.0: paginate's arguments, create_all(app=); SQLAlchemy 2.0: Engine.execute, plain-string SQL,
Query.get), and the installed pair of versions where it is known bad. Which versions break each
call, and how, is the scenario's metadata: each kind of call is one of its cases, and the symptom
declared "from version X on" (only lower bounds in its ``when``) is the upgrade that breaks it."""
from __future__ import annotations

import ast

from pitfall_lab.catalogue import scenario
from pitfall_lab.doctor.checks._common import FOUND, NOT_FOUND, Check, Result, Seen, register

KNOWN_BAD = "known_bad_pins"  # the case whose affected symptoms name known-bad version pairs


def _is_engine(node) -> bool:
    """db.engine, engine, self.engine, db.get_engine(), session.get_bind()."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr in ("get_engine", "get_bind")
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
    return name == "engine" or name.endswith("_engine")


def _is_session(node) -> bool:
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
    return name == "session"


def _is_string(node) -> bool:
    """A literal, an f-string, "..." % x, "..." + x, "...".format(x)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        return _is_string(node.left)
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
        and node.func.attr == "format" and _is_string(node.func.value)


def _is_query(node) -> bool:
    """User.query (not request.query), or db.session.query(User)."""
    if isinstance(node, ast.Attribute) and node.attr == "query":
        return not (isinstance(node.value, ast.Name) and node.value.id == "request")
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
        and node.func.attr == "query" and bool(node.args)


def _is_select_paginate(node: ast.Call) -> bool:
    """Flask-SQLAlchemy 3's own db.paginate(select, page=..., per_page=...): one positional
    argument, the statement, given to the extension (`db`) or built by select()."""
    if len(node.args) != 1:
        return False
    owner, first = node.func.value, node.args[0]
    name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
    built = isinstance(first, ast.Call) and (getattr(first.func, "attr", None) or
                                             getattr(first.func, "id", "")) == "select"
    return name == "db" or built


def legacy_calls(tree: ast.AST) -> list[tuple[str, int, str]]:
    """(case, line, what) for each call in ``tree`` that an upgrade changed."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        attr, owner = node.func.attr, node.func.value
        if attr == "paginate" and node.args and not _is_select_paginate(node):
            found.append(("paginate", node.lineno, "paginate() with positional arguments"))
        elif attr in ("create_all", "drop_all", "reflect") and \
                any(k.arg == "app" for k in node.keywords):
            found.append(("create_all_app", node.lineno, f"{attr}(app=...)"))
        elif attr == "execute" and _is_engine(owner):
            found.append(("engine_execute", node.lineno, "Engine.execute()"))
        elif attr == "execute" and _is_session(owner) and node.args and _is_string(node.args[0]):
            found.append(("textual_sql", node.lineno, "session.execute() of a plain string"))
        elif attr == "get" and _is_query(owner) and node.args:
            found.append(("query_get", node.lineno, "Query.get()"))
    return sorted(found, key=lambda f: f[1])


def _said(text: str) -> str:
    """What goes wrong, from a declared symptom: its warning, else its first line, without the
    lab's own request or command in front."""
    lines = text.splitlines()
    line = next((x for x in lines if x.startswith("warning: ")), lines[0])
    return line.split(": ", 1)[-1]


def _upgrade(s, case: str):
    """The symptom declared for ``case`` from some version on: the upgrade that breaks it."""
    return next((sym for sym in s.symptoms if sym.case == case and sym.affected and sym.when
                 and all(spec.operator in (">=", ">") for req in sym.when
                         for spec in req.specifier)), None)


@register(needs={"source"}, upgrade="S31")
def upgrade_api(seen: Seen, upgrade: Check) -> list[Result]:
    s = scenario.load(upgrade.scenario)
    versions = (f"Flask-SQLAlchemy {scenario.installed('flask-sqlalchemy')} with SQLAlchemy "
                f"{scenario.installed('sqlalchemy')}")
    now, later, first_import = [], {}, None
    for rel, tree in sorted(seen.project.trees()):
        for node in ast.walk(tree):
            if first_import is None and isinstance(node, (ast.Import, ast.ImportFrom)) and any(
                    (getattr(node, "module", None) or a.name).split(".")[0] == "flask_sqlalchemy"
                    for a in node.names):
                first_import = (rel, node.lineno)
        for case, line, what in legacy_calls(tree):
            up = _upgrade(s, case)
            if up is None:
                continue
            if up.applies():
                warns = any(x.startswith("warning: ") for x in up.text.splitlines())
                now.append(((rel, line), warns,
                            f"{rel}:{line}: {what}: {_said(scenario.expand(up.text))}"))
            else:
                when = ", ".join(str(r) for r in up.when)
                later.setdefault(when, []).append(f"{what} at {rel}:{line}")
    bad = [sym for sym in s.symptoms if sym.case == KNOWN_BAD and sym.affected and sym.applies()]
    evidence = [e for _, _, e in now]
    if bad:
        evidence.insert(0, f"the installed {versions} is a known-bad pair "
                           f"({', '.join(str(r) for r in bad[0].when)}): "
                           f"{_said(scenario.expand(bad[0].text))}")
    if now or bad:
        warns = sum(w for _, w, _ in now)
        said = " and ".join(x for x in (f"{len(now) - warns} call(s) break" if len(now) > warns
                                        else "", f"{warns} warn" if warns else "") if x)
        parts = ([f"{said} on the installed {versions}"] if now else []) + \
            ([f"the installed {versions} is a known-bad pair"] if bad else [])
        return [Result(upgrade, FOUND, "; ".join(parts), evidence,
                       now[0][0] if now else first_import)]
    if later:
        ahead = "; ".join(f"on {when}: {', '.join(calls[:3])}"
                          + (f" and {len(calls) - 3} more" if len(calls) > 3 else "")
                          for when, calls in sorted(later.items()))
        return [Result(upgrade, NOT_FOUND, f"nothing breaks on the installed {versions}; "
                                           f"the next major breaks {ahead}")]
    return [Result(upgrade, NOT_FOUND, "no call that Flask-SQLAlchemy 3 or SQLAlchemy 2.0 "
                                       "changed")]
