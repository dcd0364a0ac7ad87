"""Long-lived threads of the app and the pooled connections they keep, read from the source: a
thread's target that pushes one app context around its loop and uses ``db.session`` (or a
model's ``.query``) in it without removing, closing or committing it after its last use, or that
keeps a connection from ``.connect()`` for its next jobs. Each such thread holds one connection
of the pool for good; the app's engines' pool size says how many the requests have left."""
from __future__ import annotations

import ast
from dataclasses import dataclass

from pitfall_lab.catalogue import scenario
from pitfall_lab.doctor.checks._common import FOUND, NOT_APPLICABLE, NOT_FOUND, Check, Result, \
    Seen, register
from pitfall_lab.doctor.checks.deletes import dialects
from pitfall_lab.doctor.checks.sessions import _session_use

_RELEASES = ("remove", "close", "commit", "rollback")
_LOOPS = (ast.While, ast.For, ast.AsyncFor)


@dataclass(frozen=True)
class Keeper:
    path: str
    line: int  # the use or the connect() that keeps the connection
    target: str  # the thread's function
    how: str
    threads: int | None  # how many such threads the project starts (None: only a run knows)

    def __str__(self) -> str:
        many = "an unknown number of" if self.threads is None else str(self.threads)
        return f"{self.path}:{self.line}: {self.target}() {self.how} ({many} thread(s))"


def _attr(node) -> str:
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def _module_ints(tree) -> dict[str, int]:
    return {t.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
            for t in node.targets if isinstance(t, ast.Name)
            and isinstance(node.value, ast.Constant) and type(node.value.value) is int}


def _count(loops: list, ints: dict[str, int]) -> int | None:
    """How many times the statement runs: 1, or ``range(N)``'s N for each enclosing for."""
    total = 1
    for loop in loops:
        it = getattr(loop, "iter", None)
        if not (isinstance(it, ast.Call) and _attr(it.func) == "range" and len(it.args) == 1):
            return None
        arg = it.args[0]
        n = arg.value if isinstance(arg, ast.Constant) else ints.get(getattr(arg, "id", ""))
        if type(n) is not int:
            return None
        total *= n
    return total


def _started(tree) -> list[tuple[str, int | None]]:
    """(target function's name, how many) for each Thread(target=...) call and each
    instantiation of a Thread subclass (its run)."""
    ints = _module_ints(tree)
    subclasses = {c.name for c in ast.walk(tree) if isinstance(c, ast.ClassDef)
                  and any(_attr(b) == "Thread" for b in c.bases)}
    out = []

    def visit(node, loops, in_function):
        if isinstance(node, ast.Call):
            name = _attr(node.func)
            # in a function, as many threads as its calls: known only at run time
            count = None if in_function else _count(loops, ints)
            if name == "Thread":
                out.extend((_attr(k.value), count) for k in node.keywords
                           if k.arg == "target" and _attr(k.value))
            elif name in subclasses:
                out.append((f"{name}.run", count))
        inner = loops + [node] if isinstance(node, _LOOPS) else loops
        nested = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        for child in ast.iter_child_nodes(node):
            visit(child, inner, nested)
    visit(tree, [], False)
    return out


def _functions(trees) -> dict[str, list[tuple[str, ast.FunctionDef]]]:
    """Functions by name (and a class's methods as Class.method too)."""
    found: dict[str, list] = {}
    for rel, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                for fn in node.body:
                    if isinstance(fn, ast.FunctionDef):
                        found.setdefault(f"{node.name}.{fn.name}", []).append((rel, fn))
            if isinstance(node, ast.FunctionDef):
                found.setdefault(node.name, []).append((rel, node))
    return found


def pushes_context(node) -> bool:
    """A with block over app.app_context(), or app.app_context().push()."""
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return any(isinstance(i.context_expr, ast.Call)
                   and _attr(i.context_expr.func) == "app_context" for i in node.items)
    return isinstance(node, ast.Call) and _attr(node.func) == "push" and \
        isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Call) and \
        _attr(node.func.value.func) == "app_context"


def _outer_loops(node) -> list:
    """The loops of a function that no other loop of it encloses."""
    if isinstance(node, _LOOPS):
        return [node]
    return [loop for child in ast.iter_child_nodes(node) for loop in _outer_loops(child)]


def _released_per_job(loop) -> list[ast.AST]:
    """What in the loop runs outside a context of its own (a with app_context() per job ends
    with its session)."""
    out = []

    def visit(node):
        if pushes_context(node) and node is not loop:
            return
        out.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)
    visit(loop)
    return out


def kept(fn: ast.FunctionDef) -> list[tuple[int, str]]:
    """(line, how) for each connection the function's loop keeps from one job to the next."""
    out = []
    pushed = [n for n in ast.walk(fn) if pushes_context(n)]
    in_context = [loop for n in pushed for loop in _outer_loops(n)] if any(
        isinstance(n, (ast.With, ast.AsyncWith)) for n in pushed) else []
    if any(isinstance(n, ast.Call) for n in pushed):  # push(): the rest of the function
        in_context += _outer_loops(fn)
    for loop in dict.fromkeys(in_context):
        nodes = _released_per_job(loop)
        uses = [n.lineno for n in nodes if _session_use(n)]
        releases = [n.lineno for n in nodes if isinstance(n, ast.Call) and isinstance(
            n.func, ast.Attribute) and n.func.attr in _RELEASES and _session_use(n.func.value)
            or (isinstance(n, ast.Call) and _attr(n.func) in _RELEASES
                and _attr(getattr(n.func, "value", None)) == "session")]
        if uses and (not releases or max(uses) > max(releases)):
            out.append((max(uses), "uses the session in its loop inside one app context and "
                                   "never ends it: the session keeps its connection"))
    held = {}
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and \
                _attr(node.value.func) in ("connect", "raw_connection"):
            for t in node.targets:
                held[ast.unparse(t)] = node.lineno
    loops = _outer_loops(fn)
    for name, line in held.items():
        closed = any(isinstance(n, ast.Call) and _attr(n.func) == "close"
                     and ast.unparse(getattr(n.func, "value", n)) == name
                     for loop in loops for n in ast.walk(loop))
        used = any(ast.unparse(n) == name for loop in loops for n in ast.walk(loop)
                   if isinstance(n, (ast.Name, ast.Attribute)))
        if used and not closed:
            out.append((line, f"keeps the connection {name} = ...connect() for its next jobs"))
    return out


def keepers(project) -> tuple[list[Keeper], int]:
    """What the threads keep, and how many functions the project runs as long-lived threads."""
    trees = [(rel, tree) for rel, tree in sorted(project.trees())
             if not (rel.startswith("tests/") or "/tests/" in rel
                     or rel.split("/")[-1].startswith("test_"))]
    functions = _functions(trees)
    out, looping = [], 0
    started: dict[str, int | None] = {}
    for _, tree in trees:
        for target, threads in _started(tree):
            before = started.get(target, 0)
            started[target] = None if before is None or threads is None else before + threads
    for target, threads in started.items():
        for rel, fn in functions.get(target, []):
            if not _outer_loops(fn):
                continue  # a thread that does one job and ends gives its session back
            looping += 1
            out += [Keeper(rel, line, target, how, threads) for line, how in kept(fn)]
    return sorted(out, key=lambda k: (k.path, k.line, k.how)), looping


def _capacity(engines: list[dict]) -> tuple[int, int] | None:
    """pool_size and max_overflow of the app's first engine with a pool, as it asked."""
    for engine in engines:
        options = engine.get("options", {})
        if "NullPool" in options.get("poolclass", "") or "StaticPool" in options.get(
                "poolclass", ""):
            continue
        try:
            return (int(options.get("pool_size", "5")), int(options.get("max_overflow", "10")))
        except ValueError:
            return None
    return None


@register(needs={"load", "hosturl", "source"}, threads="S29")
def pool_keepers(seen: Seen, threads: Check) -> list[Result]:
    found, looping = keepers(seen.project)
    if not looping:
        return [Result(threads, NOT_APPLICABLE, "the app starts no thread that loops over jobs")]
    if not found:
        return [Result(threads, NOT_FOUND, f"{looping} long-lived thread function(s), each "
                                           "ending its session or connection per job")]
    # Flask-SQLAlchemy 2.x makes its engines on first use: the hosturl probe made them
    engines = seen.load.get("engines") or (seen.hosted or {}).get("engines", [])
    sqlalchemy = scenario.installed("sqlalchemy") or "0"
    if dialects(seen) == {"sqlite"} and int(sqlalchemy.split(".")[0]) < 2:
        return [Result(threads, NOT_FOUND, f"{len(found)} thread(s) keep a connection, but a "
                                           f"SQLite file gets a NullPool on SQLAlchemy "
                                           f"{sqlalchemy}: a new connection each time, no limit")]
    size = _capacity(engines)
    # each row is one connection in each of its function's threads
    holding = None if any(k.threads is None for k in found) else sum(k.threads for k in found)
    sessions = [k for k in found if "session" in k.how]
    counted = "an unknown number of" if any(k.threads is None for k in sessions) else \
        str(sum(k.threads for k in sessions))
    pool = "the pool's size is not known (the app made no engine while loading)" \
        if size is None else f"the pool holds {size[0]} + {size[1]} overflow"
    left = None if size is None or holding is None else sum(size) - holding
    lines = [str(k) for k in found]
    first = (found[0].path, found[0].line)
    if sessions:
        return [Result(threads, FOUND, f"{counted} long-lived thread(s) keep db.session, "
                                       "and with it a connection, from one job to the next; "
                                       + pool
                       + ("" if left is None else f", {max(left, 0)} left for requests"),
                       lines, (sessions[0].path, sessions[0].line))]
    if left is None or left < 1:
        return [Result(threads, FOUND, f"{holding or 'an unknown number of'} thread(s) keep a "
                                       f"connection each for good; {pool}"
                       + ("" if left is None else ": none left for requests"), lines, first)]
    return [Result(threads, NOT_FOUND, f"{holding} thread(s) keep a connection each on purpose, "
                                       f"and {pool}: {left} left for requests", lines, first)]
