"""pitfall_lab.guard on the lab's own repros and fixes, in real processes as their scenarios run
them, turned on only through the environment (PITFALL_LAB_GUARD and the autostart folder on
PYTHONPATH): it warns in every repro the metadata declares affected, never in a fix, and
strict mode raises an error that names the pitfall."""
import re
from pathlib import Path

import pytest

from pitfall_lab import guard
from pitfall_lab.catalogue import scenario
from pitfall_lab.guard import observe
from pitfall_lab.harness import celeryjobs, procs, wsgi_servers

# The doctor, the guard and the gate observe SQLAlchemy 1.4's events: on older versions they
# refuse in one line (tests/test_old_sqlalchemy.py), and these tests do not run.
pytestmark = pytest.mark.skipif(observe.unsupported() is not None,
                                reason=str(observe.unsupported()))

FORK_SQLITE = scenario.load("fork_sqlite")
PREFORK = scenario.load("prefork_shared_connection")
THREADS = scenario.load("threads_share_session")
PROBE = Path(__file__).parent / "probes" / "two_threads.py"
# A warning as Python prints it, or as Celery logs a pool child's ("[<time>: WARNING/<child>] ").
WARNING = re.compile(r"^(?:\[[^\]]+\] )?(\S+:\d+): PitfallWarning: (S\d\db?) ", re.M)


def guarded(mode: str = "1") -> dict[str, str]:
    return {"PYTHONPATH": guard.autostart_path(), "PITFALL_LAB_GUARD": mode}


def warned(text: str) -> dict[str, str]:
    """Pitfall code -> the line of the user's code the first warning points at."""
    out: dict[str, str] = {}
    for where, code in WARNING.findall(text):
        out.setdefault(code, where)
    return out


def import_users(variant, tmp_path, mode="1"):
    return procs.python("import_users.py", cwd=variant.copy_to(tmp_path), timeout=60, env={
        "DATABASE_URL": f"sqlite:///{tmp_path / 'import.db'}", "SQLITE_TIMEOUT": "0.3",
        **guarded(mode)})


@pytest.mark.parametrize("variant", FORK_SQLITE.variants, ids=str)
def test_forked_workers_on_sqlite(variant, tmp_path):
    result = import_users(variant, tmp_path)
    seen = warned(result.stderr)
    if variant.kind == "repro":
        assert list(seen) == ["S07b"], result.stderr
        source = (variant.path / "import_users.py").read_text().splitlines()
        child_commit = source.index("        db.session.commit()") + 1
        assert seen["S07b"].endswith(f"import_users.py:{child_commit}")
    else:
        assert seen == {}, result.stderr


def test_strict_mode_raises_an_error_that_names_the_pitfall(tmp_path):
    result = import_users(FORK_SQLITE.repros[0], tmp_path, mode="strict")
    assert "worker 1: pitfall_lab.guard.PitfallError: S07b fork_sqlite: process " in result.stdout
    assert "PitfallWarning" not in result.stderr


@pytest.mark.parametrize("interleaving", ["checkout", "flush"])
@pytest.mark.parametrize("variant", THREADS.variants, ids=str)
def test_two_threads_on_one_session(variant, interleaving, tmp_path):
    if variant.kind == "repro" and not THREADS.affected(interleaving):
        pytest.skip(f"declared not affected on these versions ({interleaving})")
    result = procs.python(str(PROBE), interleaving, cwd=variant.copy_to(tmp_path), timeout=60,
                          env={"DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}", **guarded()})
    assert result.returncode == 0, result.stderr
    assert list(warned(result.stderr)) == (["S08"] if variant.kind == "repro" else []), \
        result.stderr


@pytest.mark.parametrize("variant", PREFORK.variants, ids=str)
def test_prefork_workers_under_load(variant, wsgi_server, tmp_path, pg_database):
    affected = variant.kind == "repro" and PREFORK.affected(
        "logged by the server", variant=variant, wsgi_server=wsgi_server)
    log = tmp_path / "server.log"
    wsgi_servers.under_load(wsgi_server, variant.copy_to(tmp_path),
                            {"DATABASE_URL": pg_database, **guarded()}, log, requests=40,
                            concurrency=8, timeout=1 if affected else 3)
    seen = warned(log.read_text())
    assert list(seen) == (["S07"] if affected else []), log.read_text()[-2000:]


CELERY_FORK = scenario.load("celery_engine_before_fork")


@pytest.mark.parametrize("variant", CELERY_FORK.variants, ids=str)
def test_celery_pool_children(variant, tmp_path, celery_broker, pg_database, dev_server):
    """The real worker (-P prefork -c 2) with the guard on: the app connects at import in the
    main process, and the pool child that runs a task uses that connection."""
    env = {"DATABASE_URL": pg_database, "REDIS_URL": celery_broker, **guarded()}
    worker = celeryjobs.start_worker(dev_server, "tasks.celery", variant.copy_to(tmp_path), env)
    import sqlalchemy as sa

    engine = sa.create_engine(pg_database, poolclass=sa.pool.NullPool)
    with engine.begin() as con:  # the table the app's create_all made at import
        con.execute(sa.text("INSERT INTO account (id, balance) VALUES (1, 100)"))
    engine.dispose()
    task = celeryjobs.run(celery_broker, "tasks.charge", 1, 30)
    assert celeryjobs.outcome(celery_broker, task).startswith("succeeded: "), worker.lines[-20:]
    log = "\n".join(worker.lines)
    assert list(warned(log)) == (["S19"] if variant.kind == "repro" else []), log[-2000:]
