"""The lab's pytest wiring: a marker per scenario, the shared fixtures, and a JSON record of what
each test observed (read by ``pitfall-lab run``)."""
from __future__ import annotations

import compileall
import sys
from pathlib import Path

import pytest

from pitfall_lab.catalogue import locate, scenario
from pitfall_lab.harness import dburi, procs, runrecord, servers, wsgi_servers

pytest_plugins = ["pytester"]
TESTS = Path(__file__).parent / "tests"


def hypothesis_profiles() -> None:
    """Hypothesis explores inside one long-lived process per test. The default profile is
    derandomized, so every run tries the same examples; `--hypothesis-profile=explore` tries
    at least 200 new ones per test, without the fixed @examples, which the default run covers.
    Registered only where hypothesis is used (the ``hypothesis`` fixture): importing it costs
    0.6 s per process, and the CLI's tests start a child pytest per scenario. (The lab runs
    without hypothesis's pytest plugin, for the same reason; this file takes its option.)"""
    from hypothesis import Phase, settings

    settings.register_profile("default", derandomize=True, max_examples=15, deadline=None,
                              database=None, print_blob=False)
    settings.register_profile("explore", max_examples=200, deadline=None, database=None,
                              phases=[Phase.generate, Phase.shrink])


def pytest_addoption(parser):
    group = parser.getgroup("pitfall-lab")
    group.addoption("--lab-json", metavar="PATH",
                    help="write each test's outcome and observed symptom to PATH as JSON")
    group.addoption("--lab-variant", metavar="NAME", action="append", default=[],
                    help="run only the tests of this variant (repro-<name>, fix-<name>) or side "
                         "(repro, fix); repeatable")
    group.addoption("--hypothesis-profile", choices=("default", "explore"), default="default",
                    help="the hypothesis profile the exploring tests run under: default "
                         "(derandomized) or explore (200 new examples per test)")
    group.addoption("--dburi", metavar="URL",
                    help="use this PostgreSQL server (a SQLAlchemy URL of a role that may "
                         "create databases) instead of starting one")


@pytest.hookimpl(trylast=True)  # after every plugin has registered its markers (-m checks them)
def pytest_configure(config):
    _keep_own_bytecode()
    try:
        config.lab_scenarios = scenario.load_all()
    except scenario.MetadataError as exc:
        raise pytest.UsageError(str(exc)) from None
    for sid, s in config.lab_scenarios.items():
        config.addinivalue_line("markers", f"{sid}: {s.code} {s.title}")
    try:
        procs.timeout_factor()
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    problem = locate.problem()
    if problem:
        raise pytest.UsageError(problem)
    controller = not hasattr(config, "workerinput")
    known = {str(v) for s in config.lab_scenarios.values() for v in s.variants} | set(
        runrecord.SIDES)
    for name in config.getoption("--lab-variant"):
        if name not in known:  # here, not at collection: xdist collects in its workers
            raise pytest.UsageError(f"--lab-variant {name}: no scenario has that variant")
    if controller and config.getoption("--dburi"):
        problem = dburi.check(config.getoption("--dburi"))
        if problem:
            raise pytest.UsageError(problem)
    if controller:
        _check_selection(config)
    if controller and config.getoption("--lab-json"):
        try:
            config.pluginmanager.register(runrecord.Recorder(config.getoption("--lab-json")))
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None


def _check_selection(config) -> None:
    """Read the paths, -k and -m here, as each xdist worker will read them when it collects.
    There a path that does not exist is lost (pytest-xdist says only "no tests ran"), and a
    malformed expression, or a marker pytest does not know in -m (pytest 9), stops every worker
    with a usage error that pytest-xdist reports as a 30-line INTERNALERROR. Here each is
    pytest's own one-line usage error, before any worker starts."""
    for arg in config.args if not config.option.pyargs else ():
        if not (config.invocation_params.dir / arg.split("::")[0]).exists():
            raise pytest.UsageError(f"file or directory not found: {arg}")
    try:
        from _pytest.mark import deselect_by_keyword, deselect_by_mark
    except ImportError:  # a pytest that moved them: the workers still check
        return
    deselect_by_keyword([], config)
    deselect_by_mark([], config)


def _keep_own_bytecode() -> None:
    """Compile the lab's own package once and keep it next to its sources, as Python does by
    default, even where PYTHONDONTWRITEBYTECODE is set: every CLI run, child pytest and probe
    imports it. (User code never writes bytecode: procs.child_env.)"""
    import pitfall_lab

    compileall.compile_dir(Path(pitfall_lab.__file__).parent, quiet=2)  # read-only: no cache


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """Keep the lab's own test modules' assert-rewritten bytecode (tests/__pycache__), as pytest
    does by default, even where PYTHONDONTWRITEBYTECODE is set: rewriting them costs 0.9 s in
    every pytest process that collects them, the xdist workers and the CLI's child pytests."""
    own = isinstance(collector, pytest.Module) and collector.path.parent == TESTS
    before = sys.dont_write_bytecode
    sys.dont_write_bytecode = before and not own
    try:
        yield
    finally:
        sys.dont_write_bytecode = before


def pytest_collection_modifyitems(config, items):
    """Tests in tests/test_<scenario>.py carry that scenario's marker and name their variant;
    --lab-variant keeps the tests of the variants it names."""
    wanted = config.getoption("--lab-variant")
    kept, dropped = [], []
    for item in items:
        sid = runrecord.scenario_of(item.nodeid)
        variant = runrecord.label(item)
        if sid:
            item.add_marker(getattr(pytest.mark, sid))
            if variant is None:
                raise pytest.UsageError(f"{item.nodeid}: a scenario test takes a 'variant' "
                                        "parameter (see README, Add a scenario)")
            reason = config.lab_scenarios[sid].skip_reason(**item.callspec.params)
            if reason:
                item.add_marker(pytest.mark.skip(reason=f"declared in scenarios/{sid}.toml: "
                                                        f"{reason}"))
        (kept if not wanted or (variant and runrecord.selects(variant, wanted)) else
         dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A test stopped by the lab's own machinery (procs.HarnessError) carries the reason as its
    'harness' property: it is reported as an error, never as a verdict on its pitfall."""
    report = (yield).get_result()
    if report.failed and call.excinfo is not None \
            and call.excinfo.errisinstance(procs.HarnessError):
        first = str(call.excinfo.value).splitlines()[0]
        report.user_properties = [*report.user_properties, ("harness", first)]


def pytest_report_teststatus(report, config):
    if report.failed and dict(getattr(report, "user_properties", ())).get("harness"):
        return "error", "E", "ERROR"


@pytest.fixture
def observe(record_property):
    """Record what a variant was seen to do (shown by ``pitfall-lab run``) and return it."""
    def _observe(text):
        record_property("observed", text)
        return text
    return _observe


@pytest.fixture
def hypothesis(request):
    """The hypothesis package, its profiles loaded: a test that explores builds its property
    inside the test, with this fixture, so that only such tests import it."""
    import hypothesis

    hypothesis_profiles()
    hypothesis.settings.load_profile(request.config.getoption("--hypothesis-profile"))
    return hypothesis


@pytest.fixture
def exploring(request) -> bool:
    """Whether this run explores (--hypothesis-profile=explore: generated examples only) or
    replays the derandomized default, today's @examples first."""
    return request.config.getoption("--hypothesis-profile") == "explore"


@pytest.fixture
def dev_server():
    """Start a long-running app process; every one is stopped, with its children, at teardown."""
    started: list[procs.LiveProcess] = []

    def start(args, cwd: Path, env: dict | None = None, **options) -> procs.LiveProcess:
        server = procs.LiveProcess(args, cwd=cwd, env=env, **options)
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
def redis_url(request):
    """The URL of an empty Redis database for this test."""
    import redis

    servers.require("redis", request)
    redis_server = request.getfixturevalue("redis_server")
    url = f"redis://{redis_server.host}:{redis_server.port}/0"
    with redis.Redis.from_url(url) as client:
        client.flushdb()
    return url


@pytest.fixture(scope="session")
def postgresql_server(request):
    """A SQLAlchemy URL of a PostgreSQL server: --dburi, or a throwaway one (servers.postgresql)."""
    given = request.config.getoption("--dburi")
    if given:
        yield given
        return
    with servers.postgresql() as url:
        yield url


@pytest.fixture
def pg_database(request):
    """The URL of a new, empty database for this test; dropped afterwards."""
    servers.require("postgresql", request)
    with servers.fresh_database(request.getfixturevalue("postgresql_server")) as url:
        yield url


@pytest.fixture(scope="session")
def mariadb_server(tmp_path_factory):
    with servers.mariadb(tmp_path_factory.mktemp("mariadb") / "data") as url:
        yield url


@pytest.fixture
def mariadb_database(request):
    servers.require("mariadb", request)
    with servers.fresh_database(request.getfixturevalue("mariadb_server")) as url:
        yield url


@pytest.fixture(params=wsgi_servers.SERVERS)
def wsgi_server(request):
    """Each prefork server in turn; see pitfall_lab.harness.wsgi_servers."""
    servers.require(request.param, request)
    return request.param


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """The app's database: a file SQLite database, and PostgreSQL when the suite has it; a test
    whose symptom differs on MariaDB too parametrizes it with "mariadb" (indirect=True)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'app.db'}"
    if request.param == "mariadb":
        return request.getfixturevalue("mariadb_database")
    return request.getfixturevalue("pg_database")


@pytest.fixture
def dialect(request, database_url) -> str:
    """database_url's parameter, sqlite, postgresql (or mariadb): a symptom that differs by
    database says `where = { database_url = "..." }` and the test passes database_url=dialect."""
    return request.node.callspec.params["database_url"]


@pytest.fixture
def celery_broker(request):
    """The URL of an empty Redis database that a Celery scenario's worker uses as its broker and
    result backend; where Celery is not installed the test skips with a hint (CI=true: fails)."""
    servers.require("celery", request)
    return request.getfixturevalue("redis_url")
