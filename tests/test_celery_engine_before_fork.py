"""S19: the app creates its tables when it is imported, in the Celery worker's main process; the
prefork pool (-c 2) forks both children from it, and they inherit that pooled PostgreSQL
connection. The test forces what concurrent tasks do by chance, one step at a time:

1. another transaction (the test's) holds account 1's row lock;
2. charge(1) runs in child X and waits for that lock inside PostgreSQL;
3. child X is stopped (SIGSTOP), as the scheduler may leave it, and the lock is released:
   PostgreSQL answers charge(1)'s query, and no one reads the answer yet;
4. charge(2) runs in child Y; 5. child X goes on (SIGCONT).

With one connection per child each task reads its own answers; with the inherited one, each
reads the other's."""
import os
import signal
import time

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import celeryjobs, procs, sql

S = scenario.load("celery_engine_before_fork")


class RowLock:
    """Another transaction that holds an account's row lock until released."""

    def __init__(self, database_url, account_id):
        import sqlalchemy as sa

        self.engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
        self.con = self.engine.connect()
        self.tx = self.con.begin()
        self.con.execute(sa.text("SELECT id FROM account WHERE id = :id FOR UPDATE"),
                         {"id": account_id})

    def release(self):
        if self.tx.is_active:
            self.tx.commit()

    def close(self):
        self.release()
        self.con.close()
        self.engine.dispose()


def wait_for_backend(database_url, condition: str, what: str, timeout: float = 15) -> int:
    """Until a backend of the app (a server process serving one of its connections, not the
    test's) matches the SQL ``condition`` on pg_stat_activity; its pid. HarnessError after
    ``timeout`` s."""
    query = ("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
             "AND pid <> pg_backend_pid() AND query NOT LIKE '%%pg_stat_activity%%' "
             f"AND {condition}")
    deadline = time.monotonic() + procs.limit(timeout)
    while True:
        found = sql.scalar(database_url, query)
        if found:
            return found
        if time.monotonic() > deadline:
            raise procs.HarnessError(f"PostgreSQL: no backend of the app {what} within "
                                     f"{procs.limit(timeout):g}s")
        time.sleep(0.01)  # poll a condition with a bound


def pause(pid: int, what: str) -> None:
    """SIGSTOP a process: a pool child, or a PostgreSQL backend, which the tests can signal
    where the server runs on this machine (the lab's own does)."""
    try:
        os.kill(pid, signal.SIGSTOP)
    except (ProcessLookupError, PermissionError) as exc:
        raise procs.HarnessError(f"cannot stop {what} (pid {pid}): {exc}; this test needs a "
                                 "PostgreSQL server on this machine that it may signal") from None


def seed_accounts(database_url) -> None:
    """Accounts 1 and 2, 100 each, in the table the app's create_all made at import."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    with engine.begin() as con:
        con.execute(sa.text("INSERT INTO account (id, balance) VALUES (1, 100), (2, 100)"))
    engine.dispose()


def charge_both(variant, tmp_path, broker, database_url, dev_server) -> dict:
    env = {"DATABASE_URL": database_url, "REDIS_URL": broker}
    worker = celeryjobs.start_worker(dev_server, "tasks.celery", variant.copy_to(tmp_path), env)
    seed_accounts(database_url)
    lock = RowLock(database_url, 1)
    paused: list[int] = []
    try:
        first = celeryjobs.send(broker, "tasks.charge", 1, 30)
        waiting = "query LIKE '%%FOR UPDATE%%'"
        wait_for_backend(database_url, f"{waiting} AND wait_event_type = 'Lock'",
                         "waiting for the row lock")
        child_x = celeryjobs.active_pid(broker, worker, first)
        pause(child_x, "the pool child running charge(1)")
        paused.append(child_x)
        lock.release()
        # charge(1)'s answer is sent; then its server process is stopped too, so that nothing
        # but that answer is there to read until charge(2) has read it.
        backend = wait_for_backend(database_url, f"{waiting} AND state = 'idle in transaction'",
                                   "done with charge(1)'s query (its answer sent)")
        pause(backend, "the PostgreSQL backend of charge(1)'s connection")
        paused.append(backend)
        second = celeryjobs.run(broker, "tasks.charge", 2, 30)
        # charge(2) is done with the connection; the backend answers what it was sent since,
        # and child X, the one left reading, reads on, in whichever order they resume.
        os.kill(paused.pop(), signal.SIGCONT)
        os.kill(paused.pop(), signal.SIGCONT)
        celeryjobs.wait(broker, [first])
    finally:
        for pid in reversed(paused):
            os.kill(pid, signal.SIGCONT)
        lock.close()
    return {
        "charge(1)": (first, celeryjobs.child(worker, first), celeryjobs.outcome(broker, first)),
        "charge(2)": (second, celeryjobs.child(worker, second),
                      celeryjobs.outcome(broker, second)),
        "balances": dict(sql.rows(database_url, "SELECT id, balance FROM account ORDER BY id")),
    }


def describe(seen) -> str:
    lines = [f"{name} (task {task[:8]}, {child}{', stopped while its answer came' if name == 'charge(1)' else ''}): {outcome}"
             for name, (task, child, outcome) in ((k, seen[k]) for k in ("charge(1)", "charge(2)"))]
    return "\n".join(lines + [f"balances: {seen['balances']}"])


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_pool_children_read_each_others_answers(variant, tmp_path, celery_broker, pg_database,
                                                dev_server, observe):
    seen = charge_both(variant, tmp_path, celery_broker, pg_database, dev_server)
    observe(describe(seen))
    assert seen["charge(1)"][1] != seen["charge(2)"][1]
    assert {"charge(1)": seen["charge(1)"][2], "charge(2)": seen["charge(2)"][2]} == {
        case: S.symptom(case) for case in ("charge(1)", "charge(2)")}
    assert seen["balances"] == {1: 100, 2: 100}  # both failed: neither charge is stored


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_each_pool_child_has_its_own_connection(variant, tmp_path, celery_broker, pg_database,
                                                dev_server, observe):
    seen = charge_both(variant, tmp_path, celery_broker, pg_database, dev_server)
    observe(describe(seen))
    assert seen["charge(1)"][1] != seen["charge(2)"][1]
    assert (seen["charge(1)"][2], seen["charge(2)"][2], seen["balances"]) == (
        "succeeded: account 1 charged 30, balance 70",
        "succeeded: account 2 charged 30, balance 70", {1: 70, 2: 70})
