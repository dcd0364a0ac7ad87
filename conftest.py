"""The lab's pytest wiring: a marker per scenario, the shared fixtures, and a JSON record of what
each test observed (read by ``pitfall-lab run``)."""
from __future__ import annotations

import datetime
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from pitfall_lab import procs, scenario, servers, wsgi_servers

pytest_plugins = ["pytester"]

def pytest_addoption(parser):
    parser.addoption("--lab-json", metavar="PATH",
                     help="write each test's outcome and observed symptom to PATH as JSON")
    parser.addoption("--dburi", metavar="URL",
                     help="use this PostgreSQL server (a SQLAlchemy URL of a role that may "
                          "create databases) instead of starting one")


def pytest_configure(config):
    try:
        config.lab_scenarios = scenario.load_all()
    except scenario.MetadataError as exc:
        raise pytest.UsageError(str(exc)) from None
    for sid, s in config.lab_scenarios.items():
        config.addinivalue_line("markers", f"{sid}: {s.code} {s.title}")
    if config.getoption("--lab-json") and not hasattr(config, "workerinput"):
        config.pluginmanager.register(ResultRecorder(config.getoption("--lab-json")))


def pytest_collection_modifyitems(config, items):
    """Tests in tests/test_<scenario>.py carry that scenario's marker."""
    for item in items:
        sid = item.path.stem.removeprefix("test_")
        if sid in config.lab_scenarios:
            item.add_marker(getattr(pytest.mark, sid))


class ResultRecorder:
    """Collects every test's outcome and observed symptom; lives in the xdist controller."""

    def __init__(self, path: str):
        self.path, self.rows = Path(path), []
        self.started = time.time()

    def pytest_runtest_logreport(self, report):  # every phase: fixtures start servers
        self.rows.append({
            "nodeid": report.nodeid, "when": report.when, "outcome": report.outcome,
            "duration": round(report.duration, 3),
            "observed": dict(report.user_properties).get("observed"),
            "error": report.longreprtext.strip().splitlines()[-1] if report.failed else None,
            "skip": report.longrepr[2] if report.skipped and isinstance(report.longrepr, tuple)
            else None,
        })

    def pytest_sessionfinish(self, exitstatus):
        self.path.write_text(json.dumps({
            "version_set": os.environ.get("LAB_VERSION_SET", "installed"),
            "libraries": scenario.installed_versions(),
            "python": platform.python_version(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "wall_seconds": round(time.time() - self.started, 1),
            "exit_status": int(exitstatus),
            "tests": self.rows,
        }, indent=1))


@pytest.fixture
def observe(record_property):
    """Record what a variant was seen to do (shown by ``pitfall-lab run``) and return it."""
    def _observe(text):
        record_property("observed", text)
        return text
    return _observe


@pytest.fixture
def dev_server():
    """Start a long-running app process; every one is stopped, with its children, at teardown."""
    started: list[procs.LiveProcess] = []

    def start(args, cwd: Path, env: dict | None = None) -> procs.LiveProcess:
        server = procs.LiveProcess(args, cwd=cwd, env=env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """Redis, for the rq scenarios: one throwaway server per test session (per xdist worker)."""
    with servers.redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_url(redis_server):
    """The URL of an empty Redis database for this test."""
    import redis

    url = f"redis://{redis_server.host}:{redis_server.port}/0"
    with redis.Redis.from_url(url) as client:
        client.flushdb()
    return url


@pytest.fixture(scope="session")
def postgresql_server(request):
    """A SQLAlchemy URL of a PostgreSQL server: --dburi, or a throwaway one on a unix socket.

    Its data directory is not under pytest's basetemp: as root the server runs as a user of its
    own, and every new pytest session resets /tmp/pytest-of-root to mode 0700, which would take
    the running server's data directory away from it."""
    given = request.config.getoption("--dburi")
    if given:
        yield given
        return
    home = Path(tempfile.mkdtemp(prefix="pitfall-lab-postgresql-"))
    try:
        server = servers.embedded_postgresql(home / "data")
        servers.reap_when_gone(server.get_pid(), home)
        try:
            yield server.get_uri().replace("postgresql://", "postgresql+psycopg2://", 1)
        finally:
            server.cleanup()
    finally:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def pg_database(postgresql_server):
    """The URL of a new, empty database for this test; dropped afterwards."""
    with servers.fresh_database(postgresql_server) as url:
        yield url


@pytest.fixture(scope="session")
def mariadb_server(tmp_path_factory):
    with servers.mariadb(tmp_path_factory.mktemp("mariadb") / "data") as url:
        yield url


@pytest.fixture
def mariadb_database(mariadb_server):
    with servers.fresh_database(mariadb_server) as url:
        yield url


@pytest.fixture(params=wsgi_servers.SERVERS)
def wsgi_server(request):
    """Each prefork server in turn; see pitfall_lab.wsgi_servers."""
    servers.require(request.param)
    return request.param


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """The app's database: a file SQLite database, and PostgreSQL when the suite has it."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'app.db'}"
    return request.getfixturevalue("pg_database")
