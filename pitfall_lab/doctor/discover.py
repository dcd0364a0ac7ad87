"""Where the user's app is, found as `flask` and the deployment find it, without running anything:
``--app``; FLASK_APP exported, then in ``.env`` and ``.flaskenv`` (read as python-dotenv reads
them, ``.env`` first: neither overrides what is exported, so the first value stands); then the
lines that serve it (a Procfile's ``web:`` process, gunicorn.conf.py's ``wsgi_app``, a uWSGI
ini's ``module``/``wsgi-file``/``callable``, a Dockerfile's CMD/ENTRYPOINT/ENV, docker-compose's
``command:``, a shell script they start); then `flask`'s own default (wsgi.py, app.py); then the
modules that make a Flask app (``x = Flask(...)``, a function with no required argument that
makes one). Every candidate is a target as ``flask --app`` takes it, with where it was read.
A candidate whose module is not in the project is left out before anything runs.
"""
from __future__ import annotations

import ast
import codecs
import json
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from pitfall_lab.doctor.project import NOT_MODULES

DEFAULT = "flask's default"
MAKERS = 3  # at most this many modules that make an app are tried (a load probe each)


@dataclass(frozen=True)
class Candidate:
    target: str  # as `flask --app` takes it: module[:name], module:factory(), path.py
    source: str  # where it was read: "--app", ".flaskenv:1", "Procfile:1", ...

    def __str__(self) -> str:
        return f"{self.target} ({self.source})"


# --- .env / .flaskenv -----------------------------------------------------------------------

_LINE = re.compile(r"""\s*(?:export\s+)?([A-Za-z_][\w.]*)\s*=\s*(?:'((?:\\'|[^'])*)'|"((?:\\"|[^"])*)"|([^#\n]*?))\s*(?:\#.*)?$""",
                   re.S)
_ESCAPES = re.compile(r"\\[\\'\"abfnrtv]")
_EXPAND = re.compile(r"\$\{([^}:]+)(?::-([^}]*))?\}")


def dotenv_values(path: Path, environ: dict[str, str]) -> dict[str, tuple[str, int]]:
    """KEY -> (value, line) as python-dotenv reads the file: ``export``, quotes (escapes in
    double quotes, multi-line quoted values), ``#`` comments, ``${VAR}`` and ``${VAR:-default}``
    from what is exported first, then from the file (python-dotenv's order without override).
    python-dotenv itself is used when it is installed."""
    text = path.read_text(errors="replace")
    try:
        import dotenv
    except ImportError:
        dotenv = None
    if dotenv is not None:
        values = dotenv.dotenv_values(path)
        return {k: (v or "", _line_of(text, k)) for k, v in values.items() if v is not None}
    out: dict[str, tuple[str, int]] = {}
    pos, lines = 0, text.splitlines(keepends=True)
    while pos < len(lines):
        start = pos
        chunk = lines[pos]
        # a quoted value may run over several lines
        while chunk.count('"') % 2 and not re.match(r"\s*#", chunk) and pos + 1 < len(lines) \
                and "=" in lines[start]:
            pos += 1
            chunk += lines[pos]
        pos += 1
        match = _LINE.match(chunk.rstrip("\n"))
        if not match or re.match(r"\s*#", chunk):
            continue
        key, single, double, bare = match.groups()
        if single is not None:
            value = single.replace("\\'", "'")
        elif double is not None:
            value = _expand(_ESCAPES.sub(lambda m: codecs.decode(m.group(0), "unicode-escape"),
                                         double), environ, out)
        else:
            value = _expand(bare or "", environ, out)
        out[key] = (value, start + 1)
    return out


def _expand(value: str, environ: dict, values: dict) -> str:
    def one(match):
        name, default = match.group(1), match.group(2)
        found = environ.get(name, values.get(name, (None,))[0])
        return found if found else (default or "")
    return _EXPAND.sub(one, value)


def _line_of(text: str, key: str) -> int:
    for n, line in enumerate(text.splitlines(), 1):
        if re.match(rf"\s*(?:export\s+)?{re.escape(key)}\s*=", line):
            return n
    return 1


def dotenv(root: Path, environ: dict[str, str]) -> dict[str, tuple[str, str]]:
    """KEY -> (value, "file:line") from ``.env`` then ``.flaskenv`` in the project, as `flask`
    loads them: what is exported stays, and a key's first value stands."""
    out: dict[str, tuple[str, str]] = {}
    for name in (".env", ".flaskenv"):
        path = root / name
        if not path.is_file():
            continue
        for key, (value, line) in dotenv_values(path, environ).items():
            if key not in environ:
                out.setdefault(key, (value, f"{name}:{line}"))
    return out


# --- command lines --------------------------------------------------------------------------

_TARGET = re.compile(r"^[A-Za-z_][\w.]*(?::[A-Za-z_][\w.]*(?:\(.*\))?)?$|^[\w./-]+\.py$")
_GUNICORN_VALUED = {
    "-b", "--bind", "-w", "--workers", "-k", "--worker-class", "-c", "--config", "-t",
    "--timeout", "--threads", "-e", "--env", "--chdir", "--pythonpath", "--log-level",
    "--access-logfile", "--error-logfile", "--log-file", "--access-logformat", "-n", "--name",
    "-p", "--pid", "-u", "--user", "-g", "--group", "-m", "--umask", "--max-requests",
    "--max-requests-jitter", "--graceful-timeout", "--keep-alive", "--worker-connections",
    "--backlog", "--certfile", "--keyfile", "--ca-certs", "--limit-request-line",
    "--limit-request-fields", "--limit-request-field_size", "--forwarded-allow-ips",
    "--log-config", "--log-syslog-to", "--statsd-host", "--worker-tmp-dir", "--reload-engine",
    "--reload-extra-file", "--logger-class", "--proxy-allow-from", "--statsd-prefix",
    "--log-config-dict", "--ssl-version", "--ciphers", "--suppress-ragged-eofs", "--paste",
    "--raw-env", "--initgroups", "--dogstatsd-tags"}
_UWSGI_APP = {"--module", "-w", "--wsgi", "--mount", "--wsgi-file", "--file", "--callable",
              "--ini", "--app"}


def _split(line: str) -> list[str]:
    try:
        return shlex.split(line, comments=True)
    except ValueError:
        return line.split()


def from_command(line: str, read=None) -> str | None:
    """The app a command line serves (gunicorn, uWSGI, waitress-serve, flask, python PATH),
    as a `flask --app` target; ``read(path)`` gives the text of a file it names (uwsgi --ini).
    A line of several commands (`flask db upgrade; gunicorn app:app`) is read command by
    command, as the shell splits it (`sh -c "flask db upgrade && gunicorn app:app"` too)."""
    return next(filter(None, (_served(tokens, read) for tokens in _commands(line))), None)


def _commands(line: str) -> list[list[str]]:
    """The commands of a shell line, each as its tokens: split at ``;``, ``&&``, ``||``,
    ``|`` and ``&`` outside quotes, with quotes and backslashes undone as the shell does."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:
        return [line.split()]
    commands, current = [], []
    for token in tokens:
        if set(token) <= set(";&|"):
            commands.append(current)
            current = []
        else:
            current.append(token)
    return [c for c in commands + [current] if c]


def _served(tokens: list[str], read) -> str | None:
    """The app one command (its tokens) serves, as from_command says."""
    for n, token in enumerate(tokens):
        name = os.path.basename(token)
        rest = tokens[n + 1:]
        if name in ("sh", "bash") and rest[:1] == ["-c"] and len(rest) > 1:
            return from_command(rest[1], read)
        if re.fullmatch(r"python[\d.]*", name):
            run = _interpreter(rest)
            if run is None or run[0] == "script":
                return run[1] if run and run[1].endswith(".py") else None
            name, rest = run[1], run[2]
        assigned = re.fullmatch(r"FLASK_APP=(\S+)", token)
        if assigned:
            return assigned.group(1)
        if name == "gunicorn":
            return _positional(rest, _GUNICORN_VALUED)
        if name in ("uwsgi", "pyuwsgi"):
            return _uwsgi(_options(rest), read)
        if name == "waitress-serve":
            target = _positional(rest, set())
            return f"{target}()" if target and "--call" in rest and ":" in target else target
        if name == "flask":
            options = _options(rest)
            return options.get("--app") or options.get("-A")
    return None


def _interpreter(tokens: list[str]):
    """What `python <tokens>` runs, past the interpreter's own options (-u, -OO, -B, -W ignore,
    -Wignore, -X dev): ("module", NAME, its arguments), ("script", PATH), or None (-c, none)."""
    n = 0
    while n < len(tokens):
        token = tokens[n]
        if token == "-m" and n + 1 < len(tokens):
            return "module", tokens[n + 1], tokens[n + 2:]
        if token.startswith("-m") and len(token) > 2:
            return "module", token[2:], tokens[n + 1:]
        if token.startswith("-c") or token == "-":
            return None
        if token in ("-W", "-X"):
            n += 2
            continue
        if not token.startswith("-"):
            return "script", token
        n += 1
    return None


def _positional(tokens: list[str], valued: set[str]) -> str | None:
    found, skip = None, False
    for token in tokens:
        if skip:
            skip = False
        elif token.startswith("-"):
            skip = token in valued
        elif _TARGET.match(token):
            found = token
    return found


def _options(tokens: list[str]) -> dict[str, str]:
    out = {}
    for n, token in enumerate(tokens):
        if token.startswith("-") and "=" in token:
            key, value = token.split("=", 1)
            out.setdefault(key, value)
        elif token.startswith("-") and n + 1 < len(tokens) and \
                not tokens[n + 1].startswith("-"):
            out.setdefault(token, tokens[n + 1])
    return out


def _uwsgi(options: dict[str, str], read) -> str | None:
    """uWSGI's module / wsgi-file with its callable (default: `application`)."""
    if "--ini" in options and read:
        text = read(options["--ini"])
        if text:
            return from_uwsgi_ini(text)
    module = options.get("--module") or options.get("-w") or options.get("--wsgi") \
        or options.get("--app")
    if not module and "--mount" in options:
        module = options["--mount"].split("=", 1)[-1]
    path = options.get("--wsgi-file") or options.get("--file")
    return _uwsgi_target(module, path, options.get("--callable"))


def _uwsgi_target(module, path, callable_) -> str | None:
    if module:
        return module if ":" in module or not callable_ else f"{module}:{callable_}"
    if path:
        return f"{path}:{callable_}" if callable_ else path
    return None


def from_uwsgi_ini(text: str) -> str | None:
    section, values = None, {}
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped.strip("[]").strip()
            continue
        if section != "uwsgi" or "=" not in stripped or stripped.startswith(("#", ";")):
            continue
        key, value = (p.strip() for p in stripped.split("=", 1))
        values.setdefault(key, value)
    module = values.get("module") or values.get("wsgi") or values.get("mount", "").split(
        "=", 1)[-1] or None
    return _uwsgi_target(module, values.get("wsgi-file") or values.get("file"),
                         values.get("callable"))


def from_gunicorn_conf(text: str) -> str | None:
    match = re.search(r"^wsgi_app\s*=\s*['\"]([^'\"]+)['\"]", text, re.M)
    return match.group(1) if match else None


def _logical_lines(text: str):
    """(first line number, line) with backslash continuations joined."""
    buffer, first = "", None
    for number, line in enumerate(text.splitlines(), 1):
        if first is None:
            first = number
        if line.rstrip().endswith("\\"):
            buffer += line.rstrip()[:-1] + " "
            continue
        yield first, buffer + line
        buffer, first = "", None
    if buffer:
        yield first, buffer


def from_dockerfile(text: str, read=None):
    """(line, target) for ENV FLASK_APP, CMD and ENTRYPOINT (exec or shell form)."""
    for number, line in _logical_lines(text):
        match = re.match(r"\s*ENV\s+FLASK_APP[=\s]\s*['\"]?([^'\"\s]+)", line, re.I)
        if match:
            yield number, match.group(1)
            continue
        match = re.match(r"\s*(CMD|ENTRYPOINT)\s+(.*)", line, re.I)
        if not match:
            continue
        command = match.group(2).strip()
        if command.startswith("["):
            try:
                command = shlex.join(json.loads(command))
            except (ValueError, TypeError):
                pass
        target = from_command(command, read) or _from_script(command, read)
        if target:
            yield number, target


def _from_script(command: str, read) -> str | None:
    """A shell script the command starts (./boot.sh, sh entrypoint.sh): its serving line."""
    for token in _split(command):
        if token.endswith(".sh") and read:
            text = read(token.lstrip("./") if token.startswith("./") else token)
            for _, line in _logical_lines(text or ""):
                target = from_command(line, read)
                if target:
                    return target
    return None


def from_compose(text: str, read=None):
    """(line, target) for `command:` (string or flow list) and FLASK_APP in `environment:`.
    A ``python script.py`` command is the app only in a service that serves (``ports:`` or
    ``expose:``), as only a Procfile's ``web:`` line is: a worker service's script is not the
    app, and loading it would start the worker."""
    lines = text.splitlines()
    service = _services(lines)
    serving = {name for number, name in service.items()
               if re.match(r"\s*(ports|expose)\s*:", lines[number - 1])}
    for number, line in enumerate(lines, 1):
        match = re.match(r"\s*-?\s*FLASK_APP\s*[=:]\s*['\"]?([^'\"\s#]+)", line)
        if match:
            yield number, match.group(1)
            continue
        match = re.match(r"\s*(?:command|entrypoint)\s*:\s*(.+)", line)
        if not match:
            continue
        command = match.group(1).strip()
        if command.startswith("["):
            try:
                command = shlex.join(json.loads(command))
            except ValueError:
                command = command.strip("[]").replace(",", " ")
        elif command[:1] in "'\"" and command[-1:] == command[:1]:
            command = command[1:-1]
        if _runs_script(command) and service.get(number) not in serving:
            continue
        target = from_command(command, read) or _from_script(command, read)
        if target:
            yield number, target


def _services(lines: list[str]) -> dict[int, str | None]:
    """line number -> the compose service it is in (None outside one): the keys one level
    under ``services:``, or at the top level in the old format that has no ``services:``."""
    top = [(n, line) for n, line in enumerate(lines, 1)
           if re.match(r"[A-Za-z_][\w.-]*\s*:", line)]
    grouped = any(re.match(r"services\s*:", line) for _, line in top)
    out, name, indent, inside = {}, None, None, not grouped
    for number, line in enumerate(lines, 1):
        stripped = line.lstrip()
        if not stripped or stripped.startswith("#"):
            out[number] = name
            continue
        depth = len(line) - len(stripped)
        if depth == 0:
            inside = not grouped or bool(re.match(r"services\s*:", line))
            name = None
            if not grouped:
                key = re.match(r"([A-Za-z_][\w.-]*)\s*:", line)
                name = key and key.group(1)
                indent = 0
            elif inside:
                indent = None
        elif inside and grouped and (indent is None or depth <= indent):
            key = re.match(r"\s*([\w.-]+)\s*:", line)
            if key:
                indent, name = depth, key.group(1)
        out[number] = name
    return out


def _runs_script(command: str) -> bool:
    """The command runs a Python script by path (``python -u worker.py``), not a server."""
    for tokens in _commands(command):
        for n, token in enumerate(tokens):
            rest = tokens[n + 1:]
            if os.path.basename(token) in ("sh", "bash") and rest[:1] == ["-c"] and rest[1:]:
                return _runs_script(rest[1])
            if re.fullmatch(r"python[\d.]*", os.path.basename(token)):
                run = _interpreter(rest)
                if run and run[0] == "script":
                    return True
                break
    return False


# --- the candidates in order ----------------------------------------------------------------

def module_of(target: str) -> str:
    """The module a target imports: `pkg/app.py:app` -> `pkg.app`, `autoapp:app` -> `autoapp`."""
    module = re.split(r":(?=[A-Za-z_])", target, maxsplit=1)[0]
    if module.endswith(".py"):
        module = module[:-3].strip("./").replace("/", ".")
    return module


def in_project_path(root: Path, target: str) -> str:
    """A target named by an absolute path (``/srv/app/board/__init__.py`` where the container
    mounts the project, or the host's own path to it) as the project's own path: its longest
    tail that is a file of the project, ``pkg/__init__.py`` as the package ``pkg`` (as `flask`
    imports it). Any other target is returned as it is."""
    match = re.fullmatch(r"(/[^:]+)(?::([A-Za-z_].*))?", target)
    if not match:
        return target
    parts, name = Path(match.group(1)).parts[1:], match.group(2)
    for n in range(len(parts)):
        rest = Path(*parts[n:])
        if rest.suffix == ".py" and (root / rest).is_file() or \
                (root / rest / "__init__.py").is_file():
            if rest.name == "__init__.py":
                if len(rest.parts) == 1:
                    continue
                rest = ".".join(rest.parent.parts)
            return f"{rest}:{name}" if name else str(rest)
    return target


def in_project(root: Path, target: str) -> bool:
    parts = module_of(target).split(".")
    if not all(p.isidentifier() for p in parts):
        return False
    base = root.joinpath(*parts)
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def candidates(project, app: str | None, environ: dict[str, str],
               env_files: dict[str, tuple[str, str]],
               absent: list[Candidate] | None = None) -> list[Candidate]:
    """Every place that names the app, in the order `flask` and the deployment read them;
    those whose module is not in the project are left out, into ``absent`` (a lone --app is
    always kept)."""
    if app:
        return [Candidate(app, "--app")]
    root = project.root
    found: list[Candidate] = []
    if environ.get("FLASK_APP"):
        found.append(Candidate(environ["FLASK_APP"], "FLASK_APP, exported"))
    if "FLASK_APP" in env_files:
        value, where = env_files["FLASK_APP"]
        found.append(Candidate(value, where))

    def read(rel: str) -> str | None:
        path = root / rel
        return path.read_text(errors="replace") if path.is_file() else None

    configs = project.configs
    for rel, text in sorted(configs.items()):
        if Path(rel).name == "Procfile":
            for number, line in enumerate(text.splitlines(), 1):
                match = re.match(r"\s*web\s*:\s*(.*)", line)
                target = match and (from_command(match.group(1), read)
                                    or _from_script(match.group(1), read))
                if target:
                    found.append(Candidate(target, f"{rel}:{number}"))
    for rel, text in sorted(configs.items()):
        if Path(rel).name == "gunicorn.conf.py":
            target = from_gunicorn_conf(text)
            if target:
                found.append(Candidate(target, f"{rel}: wsgi_app"))
    for rel, text in sorted(configs.items()):
        if rel.endswith(".ini") and re.search(r"^\s*\[uwsgi\]", text, re.M):
            target = from_uwsgi_ini(text)
            if target:
                found.append(Candidate(target, rel))
    for rel, text in sorted(configs.items()):
        if Path(rel).name.startswith("Dockerfile"):
            found += [Candidate(t, f"{rel}:{n}") for n, t in from_dockerfile(text, read)]
    for rel, text in sorted(configs.items()):
        if re.match(r"(docker-)?compose.*\.ya?ml$", Path(rel).name):
            found += [Candidate(t, f"{rel}:{n}") for n, t in from_compose(text, read)]
    found += [Candidate(name, DEFAULT) for name in ("wsgi.py", "app.py")]
    found += makers(project)[:MAKERS]
    seen, out = set(), []
    found = [Candidate(in_project_path(root, c.target), c.source) for c in found]
    for candidate in found:
        key = candidate.target if ":" in candidate.target else module_of(candidate.target)
        if key in seen:
            continue
        seen.add(key)
        if not in_project(root, candidate.target):
            if absent is not None and candidate.source != DEFAULT:
                absent.append(candidate)
            continue
        out.append(candidate)
    return out


def makers(project) -> list[Candidate]:
    """Modules that make a Flask app: ``name = Flask(...)`` at module level, or a function
    that can be called without arguments and calls ``Flask(...)``; top-level modules first."""
    found = []
    for rel, tree in project.trees():
        path = Path(rel)
        if path.stem in NOT_MODULES or "tests" in path.parts or path.name.startswith("test_"):
            continue
        module = ".".join(path.with_suffix("").parts).removesuffix(".__init__")
        for node in tree.body:
            if isinstance(node, ast.Assign) and _calls_flask(node.value) \
                    and isinstance(node.targets[0], ast.Name):
                found.append((len(path.parts), f"{module}:{node.targets[0].id}", rel))
            elif isinstance(node, ast.FunctionDef) and not _required(node.args) and any(
                    _calls_flask(n) for n in ast.walk(node)):
                found.append((len(path.parts), f"{module}:{node.name}()", rel))
    return [Candidate(target, f"{rel}: it makes a Flask app") for _, target, rel in sorted(found)]


def _calls_flask(node) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name == "Flask"


def _required(args: ast.arguments) -> int:
    positional = args.posonlyargs + args.args
    return len(positional) - len(args.defaults) + sum(
        d is None for d in args.kw_defaults)


def suggestion(project) -> str:
    """An --app value to try: the first module that makes an app, else the shape of one."""
    made = makers(project)
    return made[0].target if made else "MODULE:NAME"
