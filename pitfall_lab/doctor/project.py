"""What the doctor reads in a user's project without running it: a throwaway copy to run in,
its modules, its scripts and the lines that start them (crontab, Procfile), its server
configuration, and a few facts its source states outright."""
from __future__ import annotations

import ast
import fnmatch
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

# What the copy leaves out is decided by what a folder or file is, never by a folder's name
# alone: a package named migrations, build, env or instance is code, and is copied.
VCS = {".git", ".hg", ".svn", ".bzr"}  # a version control system's own folder
CACHES = {"__pycache__", "node_modules"}  # bytecode, JavaScript packages
DATA = ("*.db", "*.sqlite", "*.sqlite3", "*.pyc", "*.pyo", "*.log")
CACHEDIR_TAG = "Signature: 8a477f597d28d172789f06886806bc55"  # pytest, mypy, ruff ... caches
NOT_SCRIPTS = {"setup.py", "noxfile.py", "conftest.py", "manage.py", "gunicorn.conf.py"}
# Files that run a tool when imported (setup() ...): never imported as modules.
NOT_MODULES = {"setup", "noxfile", "conftest"}


class NotAProject(ValueError):
    pass


@dataclass
class Command:
    """A line that runs the project's code: a crontab entry, a Procfile process."""
    source: str  # file:line
    kind: str  # "script" (python PATH), "module" (python -m NAME)
    target: str


@dataclass
class Project:
    root: Path
    modules: list[str] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)  # files with a __main__ guard
    commands: list[Command] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # relative path -> text
    configs: dict[str, str] = field(default_factory=dict)  # uwsgi.ini, gunicorn.conf.py, ...

    def trees(self):
        """(relative path, AST) of every source that parses, parsed once."""
        if not hasattr(self, "_trees"):
            self._trees = {}
            for rel, text in self.sources.items():
                try:
                    self._trees[rel] = ast.parse(text)
                except SyntaxError:
                    continue
        return self._trees.items()

    left_out: list[tuple[str, str]] = field(default_factory=list)  # (relative path, why)

    def copy_to(self, dest: Path) -> Path:
        """A copy to run in: everything Python can import, whatever its folder's name; only
        data, virtualenvs, version control folders and caches are left out (``left_out``, in
        the order of the tree). The user's tree is never written, and their data never read."""
        self.left_out = []

        def ignore(folder: str, names: list[str]) -> list[str]:
            skipped = []
            for name in sorted(names):
                why = leave_out(Path(folder) / name)
                if why:
                    rel = (Path(folder) / name).relative_to(self.root)
                    self.left_out.append((str(rel), why))
                    skipped.append(name)
            return skipped
        def copy(source: str, target: str) -> None:
            try:
                shutil.copy2(source, target)
            except (OSError, shutil.SpecialFileError) as exc:  # a socket, a pipe, unreadable
                why = "not a regular file" if isinstance(exc, shutil.SpecialFileError) or \
                    not Path(source).is_file() else f"unreadable: {exc.strerror or exc}"
                self.left_out.append((str(Path(source).relative_to(self.root)), why))
        # a `.env` file is the user's settings; a dangling symlink is left out as nothing
        shutil.copytree(self.root, dest, ignore=ignore, copy_function=copy,
                        ignore_dangling_symlinks=True)
        self.left_out.sort()
        return dest


def leave_out(path: Path) -> str | None:
    """Why the copy leaves ``path`` out, from what it is, or None: "data" (a database file, a
    log, bytecode), "a virtualenv" (a pyvenv.cfg, conda-meta/, or lib/pythonX.Y/site-packages
    in it), "version control" (.git, .hg ...), "a cache" (__pycache__, node_modules, a folder
    with a CACHEDIR.TAG, as pytest and mypy write)."""
    name = path.name
    if not path.is_dir():
        return "data" if any(fnmatch.fnmatch(name, p) for p in DATA) else None
    if name in VCS:
        return "version control"
    if (path / "pyvenv.cfg").is_file() or (path / "conda-meta").is_dir() or \
            any(path.glob("lib/python*/site-packages")) or \
            (path / "Lib" / "site-packages").is_dir():
        return "a virtualenv"
    if name in CACHES:
        return "a cache"
    try:
        with open(path / "CACHEDIR.TAG", "rb") as tag:
            if tag.read(len(CACHEDIR_TAG)) == CACHEDIR_TAG.encode():
                return "a cache"
    except OSError:
        pass
    return None


def _walk(root: Path):
    """The project's files, in order, without what the copy leaves out; hidden folders
    (.github, .tox ...) are copied but hold no module of the project."""
    found = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = [d for d in dirs if not d.startswith(".") and not leave_out(here / d)]
        found += [here / name for name in files  # not a socket, a pipe, a dangling link
                  if (here / name).is_file() and not leave_out(here / name)]
    for path in sorted(found):
        yield path.relative_to(root), path


def read(root: Path) -> Project:
    root = Path(root)
    if not root.is_dir():
        raise NotAProject(f"{root}: not a directory")
    project = Project(root.resolve())
    for rel, path in _walk(root):
        name = rel.name
        if name.endswith(".py"):
            text = path.read_text(errors="replace")
            project.sources[str(rel)] = text
            if _importable(root, rel) and not _is_test(rel) and "." not in rel.stem \
                    and rel.stem not in NOT_MODULES:
                project.modules.append(".".join(rel.with_suffix("").parts).removesuffix(
                    ".__init__"))
            if name not in NOT_SCRIPTS and not _is_test(rel) and \
                    re.search(r"^if __name__ == ['\"]__main__['\"]:", text, re.M):
                project.scripts.append(str(rel))
        if name in ("uwsgi.ini", "gunicorn.conf.py", "Procfile") or name.endswith(
                (".ini", ".sh")) or name.startswith("Dockerfile") or \
                re.match(r"(docker-)?compose.*\.ya?ml$", name):
            project.configs[str(rel)] = path.read_text(errors="replace")
        if name in ("crontab", "Procfile") or name.endswith(".cron"):
            project.commands += _commands(rel, path.read_text(errors="replace"))
    if not project.sources:
        raise NotAProject(f"{root}: no Python files")
    return project


def _importable(root: Path, rel: Path) -> bool:
    """A top-level module, or a module inside packages (folders with __init__.py)."""
    return all((root.joinpath(*rel.parts[:i]) / "__init__.py").exists()
               for i in range(1, len(rel.parts)))


def _is_test(rel: Path) -> bool:
    return rel.name.startswith("test_") or rel.name.endswith("_test.py") or "tests" in rel.parts


# python, then its own options (-u, -OO, -B, -W ignore, -Wdefault, -X dev, ...), then -m NAME or
# a script's path: `python -u manage.py run_worker`, `python3 -W ignore -m app.jobs`.
_PYTHON = re.compile(r"(?:^|[\s;&|/])python[\d.]*"
                     r"(?:\s+-(?:[WX](?:\s+|(?=\S))[^\s-]\S*|[bBdEhiIOPqRsSuvx]+))*"
                     r"\s+(?:-m\s*(?P<module>[\w.]+)|(?P<script>[\w./-]+\.py))")


def _commands(rel: Path, text: str) -> list[Command]:
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("#"):
            continue
        for match in _PYTHON.finditer(line):
            kind, target = ("module", match["module"]) if match["module"] else (
                "script", match["script"])
            found.append(Command(f"{rel}:{number}", kind, target.lstrip("./")))
    return found


def third_party_imports(project: Project) -> list[str]:
    """What the project's modules import at module level (function bodies left out) that is
    not the project's own: the imports probe's fork server imports these once. ``from X import
    Y`` gives X and X.Y (Y may be a module)."""
    ours = {m.split(".")[0] for m in project.modules} | {
        p.stem if p.suffix == ".py" else p.name for p in project.root.iterdir()}
    names: set[str] = set()
    for rel, tree in project.trees():
        if _is_test(Path(rel)):
            continue
        stack = list(tree.body)
        while stack:
            node = stack.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level == 0 and node.module:
                    names.add(node.module)
                    names.update(f"{node.module}.{a.name}" for a in node.names if a.name != "*")
            else:
                stack.extend(ast.iter_child_nodes(node))
    return sorted(n for n in names if n.split(".")[0] not in ours | {"__future__"})


# --- facts the source states outright ---------------------------------------------------------

def reloader_runs(project: Project) -> str | None:
    """Where the debug reloader runs the app: app.run(debug=True) without use_reloader=False,
    or `flask run --debug` / FLASK_DEBUG in a command or config."""
    for rel, tree in project.trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr == "run":
                kw = {k.arg: k.value for k in node.keywords}
                debug = kw.get("debug")
                reload = kw.get("use_reloader")
                on = lambda v: isinstance(v, ast.Constant) and v.value is True  # noqa: E731
                off = lambda v: isinstance(v, ast.Constant) and v.value is False  # noqa: E731
                if (on(debug) and not off(reload)) or on(reload):
                    return f"{rel}:{node.lineno}"
    for rel, text in {**project.configs, **{c.source: "" for c in project.commands}}.items():
        if re.search(r"flask\b.*\brun\b.*--debug|FLASK_DEBUG\s*=\s*(1|true)", text, re.I):
            return rel
    return None


def preloading_servers(project: Project) -> dict[str, str]:
    """Servers configured to load the app once and fork (uWSGI without lazy-apps, gunicorn
    with preload), each with the file that says so."""
    found = {}
    for rel, text in project.configs.items():
        name = Path(rel).name
        if name.endswith(".ini") and re.search(r"^\s*\[uwsgi\]", text, re.M):
            lazy = re.search(r"^\s*(lazy-apps|lazy)\s*=\s*(true|1|yes)\b", text, re.M | re.I)
            if not lazy:
                found["uwsgi"] = rel
        if name == "gunicorn.conf.py" and re.search(r"^\s*preload_app\s*=\s*True", text, re.M):
            found["gunicorn"] = rel
        if re.search(r"\bgunicorn\b.*--preload\b", text):
            found["gunicorn"] = rel
        if name.endswith(".ini") and re.search(r"^\s*py-call-osafterfork\s*=\s*(true|1)", text,
                                                re.M | re.I):
            found.setdefault("uwsgi-osafterfork", rel)
    return found


def fork_hooks(project: Project) -> dict[str, str]:
    """Hooks that dispose the engine in each worker after the fork, by the server they work
    under: gunicorn's post_fork, uWSGI's postfork decorator, os.register_at_fork (gunicorn
    only, unless uWSGI has py-call-osafterfork)."""
    hooks = {}
    texts = {**project.sources, **project.configs}
    for rel, text in texts.items():
        if "dispose" not in text:
            continue
        if re.search(r"^def post_fork\(", text, re.M) and Path(rel).name == "gunicorn.conf.py":
            hooks["gunicorn"] = rel
        if re.search(r"@postfork\b|uwsgidecorators.*postfork", text):
            hooks["uwsgi"] = rel
        if "register_at_fork" in text:
            hooks.setdefault("gunicorn", rel)
            hooks.setdefault("register_at_fork", rel)
    return hooks


def starts_a_server(project: Project, rel: str) -> bool:
    """A __main__ block that serves or works forever (app.run, worker.work, serve): the doctor
    does not run it."""
    tree = dict(project.trees()).get(rel)
    for node in tree.body if tree else ():
        if isinstance(node, ast.If) and "__main__" in ast.dump(node.test):
            calls = [n.func.attr for n in ast.walk(node) if isinstance(n, ast.Call)
                     and isinstance(n.func, ast.Attribute)]
            return any(c in ("run", "work", "serve", "serve_forever") for c in calls)
    return False


def uses_rq(project: Project) -> bool:
    return any(re.search(r"^\s*(import rq\b|from rq\b)", t, re.M) for t in project.sources.values())


def worker_under_one_context(project: Project) -> str | None:
    """An rq worker's work() called inside one pushed context (`with app.app_context():`, a
    push(), a CLI command that Flask or Flask-Script runs in a context; doctor/contexts.py):
    every job then shares that context's session. Its file:line, or None."""
    from pitfall_lab.doctor import contexts

    found = contexts.worker_context(project)
    return found.where if found else None


def migrations_folder(project: Project) -> str | None:
    """The folder of the project's Alembic migrations (Flask-Migrate's: env.py with alembic.ini
    or a versions folder beside it), or None."""
    for rel in sorted(project.sources):
        path = Path(rel)
        folder = project.root / path.parent
        if path.name == "env.py" and ((folder / "alembic.ini").is_file()
                                      or (folder / "versions").is_dir()):
            return str(path.parent)
    return None
