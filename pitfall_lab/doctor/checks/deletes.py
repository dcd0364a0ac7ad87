"""What deleting a parent row does to its children: the one-to-many relationships of the loaded
models (the load probe reads their cascade and the children's foreign keys), and the deletes in
the project's source (``session.delete(...)``, a query's ``.delete()``, ``delete(Model)``)."""
from __future__ import annotations

import ast
import re

from pitfall_lab.doctor import dburls
from pitfall_lab.doctor.checks._common import (FOUND, NOT_APPLICABLE, NOT_FOUND, Check, Result,
                                               Seen, register, where)

_ORM_DELETE = re.compile(r"\bsession\.delete\(")
# A query's bulk delete (query.filter(...).delete(), Model.query.delete()) or delete(Model); not
# an instance's own delete() method (get_or_404(id).delete()).
_BULK_DELETE = re.compile(r"(?:\.filter(?:_by)?\((?:[^()]|\([^()]*\))*\)|\.query)\.delete\(|"
                          r"\b(?:sa\.|sqlalchemy\.)?delete\(\s*[A-Z]\w*\s*\)")


def _functions(tree) -> list[tuple[int, int]]:
    return [(n.lineno, n.end_lineno) for n in ast.walk(tree)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def deletes(project) -> list[tuple[str, str, set[str]]]:
    """Each delete in the project's code (not its tests): where, "orm" (through the session) or
    "bulk" (the ORM's cascade never runs), and the class names and ``.attributes`` its function
    mentions (the statement's own, outside a function): which models it can be deleting, and
    whether it moves or deletes their children itself."""
    out = []
    for rel, text in sorted(project.sources.items()):
        if rel.startswith("tests/") or "/tests/" in rel or rel.split("/")[-1].startswith("test_"):
            continue
        lines = text.splitlines()
        try:
            spans = _functions(ast.parse(text))
        except SyntaxError:
            spans = []
        for number, line in enumerate(lines, 1):
            if line.lstrip().startswith("#"):
                continue
            kinds = [kind for kind, pattern in (("orm", _ORM_DELETE), ("bulk", _BULK_DELETE))
                     if pattern.search(line)]
            if not kinds:
                continue
            inner = min((s for s in spans if s[0] <= number <= s[1]),
                        key=lambda s: s[1] - s[0], default=(number, number))
            body = "\n".join(lines[inner[0] - 1:inner[1]])
            # the classes it mentions, and the attributes it reads (.posts: children it handles)
            names = set(re.findall(r"\b[A-Z]\w*", body)) | set(re.findall(r"\.\w+", body))
            out += [(f"{rel}:{number}", kind, names) for kind in kinds]
    return out


def _enforced(project) -> bool:
    """The project turns SQLite's foreign keys on (they are off on every new connection)."""
    return any(re.search(r"foreign_keys\s*=\s*(?:ON|1|TRUE)", text, re.I)
               for text in project.sources.values())


def dialects(seen: Seen) -> set[str]:
    """The databases the app uses: the URLs its engines asked for and its files name; where
    it reads its URL from the environment only, the throwaway one's (--dburi's server, or
    SQLite), as the doctor gave it."""
    from pitfall_lab.doctor import THROWAWAY
    from pitfall_lab.doctor.checks.engine import throwaway_dialect

    asked = {dburls.dialect(e["url"]) for e in seen.load["engines"] if THROWAWAY not in e["url"]}
    named = {c.dialect for c in dburls.configured(seen.project)}
    return (asked | named) or {throwaway_dialect(seen)}


@register(needs={"load", "source"}, cascade="S24")
def parent_deletes(seen: Seen, cascade: Check) -> list[Result]:
    relations = seen.load.get("relations", [])
    if not relations:
        return [Result(cascade, NOT_APPLICABLE, "no one-to-many relationship among the models")]
    every = deletes(seen.project)
    if not every:
        return [Result(cascade, NOT_FOUND, f"{len(relations)} one-to-many relationship(s), and "
                                           "the project deletes no row")]
    sqlite = "sqlite" in dialects(seen)
    found = []
    for r in relations:
        parent = r["name"].split(".")[0]
        children = "." + r["name"].split(".")[1]  # a delete that handles them reads them
        orm = [w for w, kind, names in every
               if kind == "orm" and parent in names and children not in names]
        bulk = [w for w, kind, names in every
                if kind == "bulk" and parent in names and children not in names]
        handled = [o for o in r["ondelete"] if o]
        if sqlite and not _enforced(seen.project):
            handled = []  # SQLite ignores ON DELETE unless foreign_keys is on
        if handled or not (orm or bulk):
            continue
        if not r["delete"]:
            found.append((r, "no delete cascade and no ON DELETE", orm + bulk))
        elif bulk:
            found.append((r, "a delete cascade in the ORM only, which a bulk delete skips", bulk))
    if not found:
        return [Result(cascade, NOT_FOUND, f"each of {len(relations)} one-to-many "
                                           "relationship(s) deletes or handles its children, "
                                           "or its parent is never deleted")]
    r, why, at_lines = found[0]
    children = f"{r['child']} rows ({', '.join(r['columns']) or 'their foreign key'})"
    return [Result(cascade, FOUND,
                   f"{r['name']}: {why}, and the project deletes {r['name'].split('.')[0]} rows "
                   f"({', '.join(at_lines[:2])}): deleting a {r['name'].split('.')[0]} leaves "
                   f"its {children} behind on SQLite, or the delete fails on a database that "
                   "checks foreign keys",
                   [f"{where(tuple(x['at']))}: {x['name']}: {w}" for x, w, _ in found[:5]],
                   tuple(r["at"]))]
