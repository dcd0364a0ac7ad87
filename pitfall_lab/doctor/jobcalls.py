"""Calls that hand work to a job queue (rq's enqueue, Celery's delay and apply_async), read from
the source, and the arguments among them that are evidently model instances: a name bound in
the same function to a model's constructor or a query's one result, such a call given as the
argument itself (``enqueue(f, db.get_or_404(User, id))``), or ``current_user``."""
from __future__ import annotations

import ast
from dataclasses import dataclass

# Calls that return one ORM instance (or None): Model.query.get(1), .first(), session.get(...).
_ONE_RESULT = {"first", "one", "one_or_none", "first_or_404", "get_or_404", "one_or_404",
               "scalar_one", "scalar_one_or_none", "scalar"}
_MODEL_BASES = {"Model", "Base", "DeclarativeBase"}


@dataclass(frozen=True)
class ModelArgument:
    path: str
    line: int
    call: str  # "send_welcome.delay", "queue.enqueue"
    argument: str  # the name passed
    bound: str  # how it was bound: "User(...)", "a query's .first()", "current_user"
    queue: str  # "celery" or "rq"


def model_classes(trees) -> set[str]:
    """Classes of the project that subclass db.Model, Model or a declarative Base."""
    names = set()
    for _, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(
                    (b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", ""))
                    in _MODEL_BASES for b in node.bases):
                names.add(node.name)
    return names


def _chain(node) -> list[str]:
    """The attribute and call names of an expression, outermost last: User.query.get(1) ->
    ['User', 'query', 'get']."""
    out = []
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            out.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Name):
            out.append(node.id)
            return out[::-1]
        else:
            return out[::-1]


def _binding(value, models: set[str]) -> str | None:
    """How an assigned value is evidently a model instance, or None."""
    if not isinstance(value, ast.Call):
        return None
    chain = _chain(value)
    if not chain:
        return None
    if len(chain) == 1 and chain[0] in models:
        return f"{chain[0]}(...)"
    last = chain[-1]
    model_first = bool(value.args) and isinstance(value.args[0], ast.Name) and \
        value.args[0].id in models  # db.get_or_404(User, 1), session.get(User, 1)
    through_orm = "query" in chain or "session" in chain or chain[0] in models or model_first
    if through_orm and (last in _ONE_RESULT or (last == "get" and value.args)):
        return f"a query's .{last}()"
    return None


def _queue_call(call: ast.Call) -> tuple[str, str, list] | None:
    """(queue, call text, the arguments that reach the job) for a job-queue call."""
    if not isinstance(call.func, ast.Attribute):
        return None
    attr = call.func.attr
    owner = ".".join(_chain(call.func.value)) or "(...)"
    text = f"{owner}.{attr}"
    keywords = [k.value for k in call.keywords if k.arg not in (
        "queue", "countdown", "eta", "job_id", "timeout", "job_timeout", "result_ttl", "ttl",
        "depends_on", "at_front", "priority", "retry", "expires", "routing_key", "meta")]
    if attr in ("delay", "s", "si"):
        return "celery", text, [*call.args, *keywords]
    if attr == "apply_async":
        args = call.args[:2] + [k.value for k in call.keywords if k.arg in ("args", "kwargs")]
        return "celery", text, _elements(args)
    if attr in ("enqueue", "enqueue_at", "enqueue_in"):
        skip = {"enqueue": 1, "enqueue_at": 2, "enqueue_in": 2}[attr]
        passed = [k.value for k in call.keywords if k.arg in ("args", "kwargs")]
        return "rq", text, [*call.args[skip:], *keywords, *_elements(passed)]
    if attr == "enqueue_call":
        passed = [k.value for k in call.keywords if k.arg in ("args", "kwargs")]
        return "rq", text, _elements(passed + call.args[1:3])
    return None


def _elements(nodes) -> list:
    out = []
    for node in nodes:
        if isinstance(node, (ast.Tuple, ast.List)):
            out += node.elts
        elif isinstance(node, ast.Dict):
            out += node.values
        else:
            out.append(node)
    return out


def model_arguments(trees) -> list[ModelArgument]:
    """Every job-queue call whose arguments include an evidently model instance."""
    trees = list(trees)
    models = model_classes(trees)
    found = []
    for rel, tree in trees:
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
                continue
            bound: dict[str, str] = {}
            for node in _own_nodes(fn):
                if isinstance(node, ast.Assign):
                    how = _binding(node.value, models)
                    for t in node.targets:
                        if isinstance(t, ast.Name):
                            if how:
                                bound[t.id] = how
                            else:
                                bound.pop(t.id, None)
                elif isinstance(node, ast.Call):
                    queued = _queue_call(node)
                    if not queued:
                        continue
                    queue, text, args = queued
                    for arg in args:
                        name = arg.id if isinstance(arg, ast.Name) else None
                        how = bound.get(name) if name else _binding(arg, models)
                        if name == "current_user":
                            how = "current_user"
                        if how:
                            found.append(ModelArgument(rel, node.lineno, text,
                                                       name or ast.unparse(arg), how, queue))
    return sorted(set(found), key=lambda f: (f.path, f.line, f.argument))


def _own_nodes(fn):
    """The nodes of a function (or module) in source order, without those of the functions and
    classes defined inside it (each is walked on its own)."""
    body = list(fn.body)
    out = []
    for stmt in body:
        stack = [stmt]
        while stack:
            node = stack.pop(0)
            if node is not stmt and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                      ast.ClassDef, ast.Lambda)):
                continue
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                break
            out.append(node)
            stack[0:0] = list(ast.iter_child_nodes(node))
    out.sort(key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))
    return out
