"""S13: a test's session is left idle in transaction; the fixture's drop_all then waits forever
for its lock. The hang is proven from PostgreSQL's own view, within a bound, then ended."""
import subprocess
import sys
import time

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs, sql

S = scenario.load("drop_all_hang")
BOUND = 20  # seconds: the inner suite needs well under 3 when nothing blocks it

LOCK_WAITS = """
    SELECT waiting.query, waiting.wait_event_type, blocker.state, blocker.query
    FROM pg_stat_activity AS waiting
    JOIN pg_stat_activity AS blocker ON blocker.pid = ANY(pg_blocking_pids(waiting.pid))
    WHERE waiting.datname = current_database()"""


def one_line(sql: str) -> str:
    return " ".join(sql.split())


def run_inner_suite(variant, tmp_path, pg_database) -> str:
    """Run the variant's own pytest suite; return how it ended, or what it is stuck on."""
    suite = procs.LiveProcess([sys.executable, "-m", "pytest", "-q", *procs.USER_SUITE_FLAGS],
                              cwd=variant.copy_to(tmp_path), env={"DATABASE_URL": pg_database})
    try:
        deadline = time.monotonic() + BOUND
        while time.monotonic() < deadline:
            if suite.proc.poll() is not None:
                return f"suite exited {suite.proc.returncode}: {suite.wait_for_log(r' in ')[-1]}"
            waits = sql.rows(pg_database, LOCK_WAITS)
            if waits:
                query, event, state, blocker = waits[0]
                return (f"suite still running: {one_line(query)} waits ({event}) for a session "
                        f"{state!r} whose last query was {one_line(blocker)}")
            try:  # pace the polling on the suite itself: it may exit meanwhile
                suite.proc.wait(0.05)
            except subprocess.TimeoutExpired:
                pass
        raise AssertionError(f"neither finished nor blocked within {BOUND}s:\n{suite.log}")
    finally:
        suite.stop()


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_drop_all_waits_for_the_idle_transaction(variant, tmp_path, pg_database, observe):
    assert observe(run_inner_suite(variant, tmp_path, pg_database)) == S.symptom("inner suite")


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_suite_finishes_and_drops_its_tables(variant, tmp_path, pg_database, observe):
    ended = observe(run_inner_suite(variant, tmp_path, pg_database))
    assert ended.startswith("suite exited 0: 1 passed")
    assert sql.table_names(pg_database) == []
