"""Extensions set up out of order, read from the source.

Flask-SQLAlchemy settings given to an app after the extension read them: ``db = SQLAlchemy(app)``
or ``db.init_app(app)`` and then ``app.config[...] = ...``, or a test fixture's
``app = create_app()`` and then ``app.config.update(SQLALCHEMY_DATABASE_URI=...)``.
Flask-SQLAlchemy 3 reads its configuration once, in init_app; whether the installed version is
one that ignores the late setting is the scenario's metadata (its cases' ``when``).

Extension objects no app initialises: models declared on a second ``SQLAlchemy()`` that nothing
initialises, and a ``Migrate()`` never given an app and a db (no ``flask db``). An object is
followed through ``from module import name`` across the project's modules to the init_app calls
made on it; these are wrong on every version."""
from __future__ import annotations

import ast
from pathlib import Path

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


def _module(rel: str) -> str:
    return ".".join(Path(rel).with_suffix("").parts).removesuffix(".__init__")


def _imported(module: str, rel: str, tree) -> dict[str, tuple[str, str]]:
    """Names a module binds with ``from X import name``, anywhere in it: local -> (X, name);
    a module it binds with ``import X as name`` or ``from . import X``: name -> (X, "")."""
    package = module.split(".") if Path(rel).name == "__init__.py" else module.split(".")[:-1]
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname or "." not in alias.name:
                    out[alias.asname or alias.name] = (alias.name, "")
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            source = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                out[alias.asname or alias.name] = (source, alias.name)
    return out


class Extensions:
    """Module-level ``name = SQLAlchemy(...)`` and ``name = Migrate(...)`` of the project's own
    modules (not its tests), and which of them an app is given to."""

    def __init__(self, trees):
        self.made: dict[tuple[str, str], tuple[str, str, int, ast.Call]] = {}
        self.imports, self.initialised, self.models = {}, set(), {}
        trees = [(rel, tree) for rel, tree in trees if not _is_test(rel)]
        for rel, tree in trees:
            module = _module(rel)
            self.imports[module] = _imported(module, rel, tree)
            for stmt in tree.body:
                if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call) \
                        and _called(stmt.value) in ("SQLAlchemy", "Migrate"):
                    for t in stmt.targets:
                        if isinstance(t, ast.Name):
                            self.made[module, t.id] = (_called(stmt.value), rel, stmt.lineno,
                                                       stmt.value)
        for key, (kind, _, _, call) in self.made.items():
            given = len(call.args) + len(call.keywords)
            if (kind == "SQLAlchemy" and given and (call.args or any(
                    k.arg == "app" for k in call.keywords))) or (kind == "Migrate" and given >= 2):
                self.initialised.add(key)
        for rel, tree in trees:
            module = _module(rel)
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                        and node.func.attr == "init_app":
                    key = self.resolve_expr(module, node.func.value)
                    if key:
                        self.initialised.add(key)
                if isinstance(node, ast.ClassDef):
                    for base in node.bases:
                        if isinstance(base, ast.Attribute) and base.attr == "Model" \
                                and isinstance(base.value, ast.Name):
                            key = self.resolve(module, base.value.id)
                            if key:
                                self.models.setdefault(key, []).append(node.name)

    def resolve(self, module: str, name: str, depth: int = 4):
        """The extension object ``name`` is in ``module``, following imports of the project."""
        module = self.module_named(module)
        if (module, name) in self.made:
            return module, name
        source = self.imports.get(module, {}).get(name)
        if source and depth:
            return self.resolve(*source, depth=depth - 1)
        return None

    def module_named(self, imported: str) -> str:
        """The project's module an import names: the same dotted name, or the one module whose
        name ends with it (the package sits in a folder of the project, which is on sys.path
        when the app runs: myapp/myapp/extensions.py is ``myapp.extensions``)."""
        if imported in self.imports:
            return imported
        ending = [m for m in self.imports if m.endswith("." + imported)]
        return ending[0] if len(ending) == 1 else imported

    def resolve_expr(self, module: str, node):
        """``db`` or ``extensions.db``, as the object it is."""
        if isinstance(node, ast.Name):
            return self.resolve(module, node.id)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            source, name = self.imports.get(module, {}).get(node.value.id, ("", ""))
            target = f"{source}.{name}" if name else source  # from pkg import module
            return self.resolve(target, node.attr) if target else None
        return None

    def never_initialised(self) -> list[str]:
        found = []
        databases = [k for k, v in self.made.items() if v[0] == "SQLAlchemy"]
        for key, (kind, rel, line, call) in sorted(self.made.items(), key=lambda kv: kv[1][1:3]):
            if key in self.initialised:
                continue
            if kind == "SQLAlchemy" and len(databases) > 1 and self.models.get(key):
                apps = [f"{self.made[k][1]}:{self.made[k][2]}" for k in databases
                        if k in self.initialised]
                found.append(f"{rel}:{line}: {key[1]} = {ast.unparse(call)} declares "
                             f"{', '.join(self.models[key])} and no app initialises it"
                             + (f" (the app's instance: {', '.join(apps)})" if apps else ""))
            elif kind == "Migrate":
                found.append(f"{rel}:{line}: {key[1]} = {ast.unparse(call)} is never given an "
                             f"app and a db ({key[1]}.init_app(app, db)): flask db is not "
                             "registered")
        return found


def _is_test(rel: str) -> bool:
    path = Path(rel)
    return path.name.startswith("test_") or path.name.endswith("_test.py") or \
        path.name == "conftest.py" or "tests" in path.parts


@register(needs={"source"}, late="S28")
def late_configuration(seen: Seen, late: Check) -> list[Result]:
    s = scenario.load(late.scenario)
    trees = sorted(seen.project.trees())
    factories = _factories(trees)
    found = [f"{rel}:{line}: {key} set after {what} at {rel}:{at}"
             for rel, tree in trees for line, key, at, what in late_settings(tree, factories)]
    # An init_app call in a file that does not parse would go unseen.
    unparsed = sorted(set(seen.project.sources) - {rel for rel, _ in trees})
    unowned = [] if unparsed else Extensions(trees).never_initialised()
    version = f"Flask-SQLAlchemy {scenario.installed('flask-sqlalchemy')}"
    if not found and not unowned:
        objects = (f"extension objects not followed: {len(unparsed)} file(s) do not parse "
                   f"({unparsed[0]})" if unparsed else
                   "no SQLAlchemy() or Migrate() that no app initialises")
        return [Result(late, NOT_FOUND, "no SQLALCHEMY_* setting given to an app after "
                                        "SQLAlchemy(app), init_app or its factory, and "
                                        + objects)]
    ignores = [sym for sym in s.symptoms
               if sym.case in LATE_CASES and sym.affected and sym.applies()]
    if found and not ignores:
        when = sorted({str(r) for sym in s.symptoms if sym.affected and sym.case in LATE_CASES
                       for r in sym.when})
        still = (f"{len(found)} setting(s) given after init, which {version} still reads; on "
                 f"{', '.join(when)} they are ignored")
        if not unowned:
            return [Result(late, NOT_FOUND, still, found[:5])]
        found = []  # said in the message, not a finding on this version
    else:
        still = ""
    said = [f"{len(found)} setting(s) given after init, which {version} never reads"] \
        if found else []
    said += [f"{len(unowned)} extension object(s) no app initialises"] if unowned else []
    evidence = found + unowned
    first = evidence[0].split(": ", 1)[0].rsplit(":", 1)
    return [Result(late, FOUND, "; ".join(said + ([still] if still else [])), evidence,
                   (first[0], int(first[1])))]


# The cases of the late settings, whose symptoms depend on the installed Flask-SQLAlchemy.
LATE_CASES = ("start the app", "app's own suite")
