"""The database the project is configured for, and its engine options, read from its files
without running them: for an app whose engine is made on first use (Flask-SQLAlchemy 2.x), the
load probe sees no engine, yet the source says plainly which database it uses.

- Python (tests left out): a database URL given to ``SQLALCHEMY_DATABASE_URI``, ``DATABASE_URL``
  or a similar name (a config class's attribute, ``app.config[...]``, ``config.update(...)``,
  ``SQLALCHEMY_BINDS``), or the default of ``os.environ.get("DATABASE_URL", default)`` /
  ``os.getenv`` anywhere;
- ``.env.example``, ``.env.sample``, ``.env.dist``, ``.env.template``, ``env.example``,
  ``example.env``: a ``*DATABASE_URL``/``*DATABASE_URI`` line;
- docker-compose: a service whose image is ``postgres``/``postgis``, ``mysql`` or ``mariadb``,
  and a ``DATABASE_URL`` in a service's environment;
- Heroku's ``app.json``: the ``heroku-postgresql`` add-on, or a DATABASE_URL value.

``postgres://`` (Heroku's scheme) is PostgreSQL. Engine options: a ``pool_pre_ping`` or
``pool_recycle`` given as True/a value in a dict (SQLALCHEMY_ENGINE_OPTIONS) or as a keyword
(create_engine), and ``SQLALCHEMY_POOL_RECYCLE``.
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

_URL = re.compile(r"^(?P<scheme>postgres(?:ql)?|mysql|mariadb|sqlite|oracle|mssql|cockroachdb)"
                  r"(?:\+\w+)?://", re.I)
_NAME = re.compile(r"DATABASE_UR[IL]|DB_UR[IL]|SQLALCHEMY_BINDS|^DATABASE$", re.I)
_DOTENV = (".env.example", ".env.sample", ".env.dist", ".env.template", "env.example",
           "example.env", ".env.local.example")
_IMAGE = re.compile(r"^\s*image\s*:\s*['\"]?(?:[\w.-]+/)*(postgres|postgis|mysql|mariadb)\b", re.I)
DIALECTS = {"postgres": "postgresql", "postgis": "postgresql", "cockroachdb": "postgresql"}


def dialect(url: str) -> str:
    """The backend a URL names: postgres:// is PostgreSQL."""
    name = url.split(":", 1)[0].split("+", 1)[0].lower()
    return DIALECTS.get(name, name)


def shown(url: str) -> str:
    """The URL with its password hidden."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


@dataclass(frozen=True)
class Configured:
    dialect: str  # postgresql, mysql, mariadb, sqlite, ...
    path: str  # relative to the project
    line: int
    said: str  # "postgres://shop:***@db/shop", "service image postgres:15", ...

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.said}"


def _is_test(rel: str) -> bool:
    parts = Path(rel).parts
    name = parts[-1]
    return name.startswith("test_") or name.endswith("_test.py") or "tests" in parts \
        or name == "conftest.py"


def _target_name(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        return str(node.slice.value)
    return ""


def _environ_get(node) -> bool:
    """os.environ.get(NAME, default), os.getenv(NAME, default), environ.get(...)."""
    if not isinstance(node, ast.Call) or len(node.args) < 2:
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    owner = func.value if isinstance(func, ast.Attribute) else None
    environ = name == "getenv" or (name == "get" and _target_name(owner) == "environ")
    return environ and isinstance(node.args[0], ast.Constant) \
        and bool(_NAME.search(str(node.args[0].value)))


def _urls(node) -> list[tuple[str, int]]:
    return [(n.value, n.lineno) for n in ast.walk(node)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and _URL.match(n.value)]


def _from_python(rel: str, tree: ast.AST) -> list[Configured]:
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        values = []
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(_NAME.search(_target_name(t)) for t in targets):
                values.append(node.value)
        elif isinstance(node, ast.Call):
            if _environ_get(node):
                values += node.args[1:]
            values += [k.value for k in node.keywords if k.arg and _NAME.search(k.arg)]
        elif isinstance(node, ast.Dict):
            values += [v for k, v in zip(node.keys, node.values)
                       if isinstance(k, ast.Constant) and _NAME.search(str(k.value))]
        for value in values:
            found += _urls(value)
    return [Configured(dialect(url), rel, line, shown(url))
            for url, line in sorted(dict.fromkeys(found), key=lambda f: f[1])]


def _from_dotenv(rel: str, text: str) -> list[Configured]:
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        match = re.match(r"\s*(?:export\s+)?([\w.]+)\s*=\s*['\"]?([^'\"\s#]+)", line)
        if match and _NAME.search(match.group(1)) and _URL.match(match.group(2)):
            out.append(Configured(dialect(match.group(2)), rel, number, shown(match.group(2))))
    return out


def _from_compose(rel: str, text: str) -> list[Configured]:
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        match = _IMAGE.match(line)
        setting = re.match(r"\s*-?\s*['\"]?([\w.]+)\s*[=:]\s*['\"]?([^'\"\s#]+)", line)
        if not match and setting and _NAME.search(setting.group(1)) \
                and _URL.match(setting.group(2)):
            out.append(Configured(dialect(setting.group(2)), rel, number,
                                  shown(setting.group(2))))
        if match:
            image = line.split(":", 1)[1].strip().strip("'\"")
            out.append(Configured(dialect(match.group(1)), rel, number,
                                  f"a service runs the image {image}"))
    return out


def _from_app_json(rel: str, text: str) -> list[Configured]:
    try:
        data = json.loads(text)
    except ValueError:
        return []
    out = []
    addons = data.get("addons", []) if isinstance(data, dict) else []
    for addon in addons:
        plan = addon.get("plan", "") if isinstance(addon, dict) else str(addon)
        if plan.startswith("heroku-postgresql"):
            out.append(Configured("postgresql", rel, _line(text, plan),
                                  f"the add-on {plan}"))
    env = data.get("env", {}) if isinstance(data, dict) else {}
    for key, value in env.items() if isinstance(env, dict) else ():
        value = value.get("value", "") if isinstance(value, dict) else str(value)
        if _NAME.search(key) and _URL.match(value or ""):
            out.append(Configured(dialect(value), rel, _line(text, key), shown(value)))
    return out


def _line(text: str, needle: str) -> int:
    return next((n for n, line in enumerate(text.splitlines(), 1) if needle in line), 1)


def configured(project) -> list[Configured]:
    """Every database the project's files name, in a stable order (Python first)."""
    out: list[Configured] = []
    for rel, tree in sorted(project.trees()):
        if not _is_test(rel):
            out += _from_python(rel, tree)
    root = Path(project.root)
    for name in _DOTENV:
        if (root / name).is_file():
            out += _from_dotenv(name, (root / name).read_text(errors="replace"))
    for rel, text in sorted(project.configs.items()):
        if re.match(r"(docker-)?compose.*\.ya?ml$", Path(rel).name):
            out += _from_compose(rel, text)
    if (root / "app.json").is_file():
        out += _from_app_json("app.json", (root / "app.json").read_text(errors="replace"))
    return out


def _environ_read(node) -> str | None:
    """The variable of os.environ["X"], os.environ.get("X"), os.getenv("X"), or None."""
    if isinstance(node, ast.Subscript) and _target_name(node.value) == "environ" \
            and isinstance(node.slice, ast.Constant):
        return str(node.slice.value)
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        owner = func.value if isinstance(func, ast.Attribute) else None
        if name == "getenv" or (name == "get" and _target_name(owner) == "environ"):
            return str(node.args[0].value)
    return None


def from_environment(project) -> list[tuple[str, int, str]]:
    """(path, line, variable) where the project's URL setting reads a variable of the
    environment (tests left out): the database is then the one the environment names."""
    out = []
    for rel, tree in sorted(project.trees()):
        if _is_test(rel):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if not any(_NAME.search(_target_name(t)) for t in targets):
                    continue
                for inner in ast.walk(node.value):
                    variable = _environ_read(inner)
                    if variable and _NAME.search(variable):
                        out.append((rel, node.lineno, variable))
                        break
    return out


@dataclass(frozen=True)
class Option:
    name: str  # pool_pre_ping, pool_recycle
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.name} at {self.path}:{self.line}"


def _on(node) -> bool:
    """True, or a number other than 0/-1, or anything not a plain constant (a setting)."""
    if isinstance(node, ast.Constant):
        return node.value not in (False, None, 0, -1, "")
    return True


def engine_options(project) -> list[Option]:
    """pool_pre_ping / pool_recycle the source turns on (SQLALCHEMY_ENGINE_OPTIONS, a
    create_engine keyword, SQLALCHEMY_POOL_RECYCLE), tests left out."""
    out = []
    for rel, tree in sorted(project.trees()):
        if _is_test(rel):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values):
                    if isinstance(key, ast.Constant) and key.value in (
                            "pool_pre_ping", "pool_recycle") and _on(value):
                        out.append(Option(key.value, rel, key.lineno))
            elif isinstance(node, ast.Call):
                out += [Option(k.arg, rel, k.value.lineno) for k in node.keywords
                        if k.arg in ("pool_pre_ping", "pool_recycle") and _on(k.value)]
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(_target_name(t) == "SQLALCHEMY_POOL_RECYCLE" for t in targets) \
                        and _on(node.value):
                    out.append(Option("pool_recycle", rel, node.lineno))
    return sorted(out, key=lambda o: (o.path, o.line, o.name))
