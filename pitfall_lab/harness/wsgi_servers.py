"""Real prefork WSGI servers on a free loopback port, as their users start them: uWSGI from the
variant's uwsgi.ini, gunicorn from its gunicorn.conf.py. mirakuru starts them, waits until they
answer HTTP and, at the end, kills the process group and every process started with its
environment marker (workers included)."""
from __future__ import annotations

import contextlib
import importlib
import subprocess
import sys
from collections import Counter
from pathlib import Path

from pitfall_lab.harness import load, procs, servers

SERVERS = ("uwsgi", "gunicorn")


def command(server: str, port: int) -> list[str]:
    bind = f"127.0.0.1:{port}"
    if server == "uwsgi":
        return [servers.executable("uwsgi"), "--ini", "uwsgi.ini", "--http-socket", bind]
    return [servers.executable("gunicorn"), "-c", "gunicorn.conf.py", "--bind", bind, "flask_app:app"]


@contextlib.contextmanager
def serving(server: str, app_dir: Path, env: dict[str, str], log_path: Path, timeout: float = 30):
    """Run ``server`` on the app in ``app_dir``; yield its base URL. Output goes to ``log_path``."""
    from mirakuru import HTTPExecutor

    port = procs.free_port()
    # gunicorn >= 25.1 opens a control socket in $XDG_RUNTIME_DIR, else in ~/.gunicorn/: keep it
    # in the log's folder, so that two servers never share one and none is left in $HOME.
    env = {**env, "XDG_RUNTIME_DIR": str(log_path.parent)}
    with open(log_path, "w") as log:
        executor = HTTPExecutor(
            command(server, port), url=f"http://127.0.0.1:{port}/", status="404",
            cwd=str(app_dir), envvars=procs.child_env(env), timeout=timeout,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        # No graceful stop: the tests read what was logged while serving, and a graceful stop
        # costs uWSGI a second (its master waits for its threaded workers) and gunicorn half a
        # second, or more with a worker stuck on a broken connection.
        with servers.running(executor, graceful=False):
            yield f"http://127.0.0.1:{port}"


def migrate(app_dir: Path, env: dict[str, str]) -> None:
    """Create the app's tables once before serving, as a deploy's migration step would (the apps
    served here keep db in base.py and their models in models.py). Without it, workers that
    load the app at the same time race to create them. It runs here, not in a fresh
    interpreter: the app's own modules are imported for it and forgotten afterwards."""
    from flask import Flask

    names = ("base", "models")
    elsewhere = {name: sys.modules.pop(name) for name in names if name in sys.modules}
    sys.path.insert(0, str(app_dir))
    try:
        db = importlib.import_module("base").db
        importlib.import_module("models")
        app = Flask("migrate")
        app.config.update(SQLALCHEMY_DATABASE_URI=env["DATABASE_URL"],
                          SQLALCHEMY_TRACK_MODIFICATIONS=False)  # 2.x warns without it
        db.init_app(app)
        with app.app_context():
            db.create_all()
            db.engine.dispose()
    finally:
        sys.path.remove(str(app_dir))
        for name in names:
            sys.modules.pop(name, None)
        sys.modules.update(elsewhere)


def under_load(server: str, app_dir: Path, env: dict[str, str], log_path: Path,
               requests: int = 200, concurrency: int = 16, timeout: float = 3) -> load.Report:
    """Create its tables, serve the app and send it the echo load; with 16 requests in flight
    and 2 threads per worker, every worker serves some of them. A request unanswered after
    ``timeout`` seconds counts as an error."""
    migrate(app_dir, env)
    with serving(server, app_dir, env, log_path) as url:
        return load.echo(url, requests=requests, concurrency=concurrency, timeout=timeout)


def logged_exceptions(log_path: Path) -> Counter:
    """The exception lines ("pkg.SomeError: message") a server wrote to its log, counted."""
    return Counter(procs.exception_lines(log_path.read_text()))
