"""S11: one app context around a long-lived worker: a job that fails in flush poisons the session
for every job after it."""
import sqlite3

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pitfall_lab import procs, rqjobs, scenario

S = scenario.load("poisoned_session_jobs")
TAKEN = "taken@example.com"


def run_jobs(variant, run_dir, redis_url, emails) -> tuple[list[str], list[str]]:
    """Seed one account, enqueue add_account(email) for each email, run the variant's worker.py
    once through the queue; return each job's outcome and the stored emails."""
    app_dir, db_path = variant.copy_to(run_dir), run_dir / "app.db"
    with sqlite3.connect(db_path) as con:
        con.execute("CREATE TABLE account (id INTEGER PRIMARY KEY, email VARCHAR(120) NOT NULL UNIQUE)")
        con.execute("INSERT INTO account (email) VALUES (?)", (TAKEN,))
    con.close()
    job_ids = [rqjobs.enqueue(redis_url, "jobs.add_account", email) for email in emails]
    worker = procs.python("worker.py", cwd=app_dir, timeout=60,
                          env={"DATABASE_URL": f"sqlite:///{db_path}", "REDIS_URL": redis_url})
    assert worker.returncode == 0, worker.stderr
    with sqlite3.connect(db_path) as con:
        stored = [email for (email,) in con.execute("SELECT email FROM account ORDER BY id")]
    con.close()
    return rqjobs.outcomes(redis_url, job_ids), stored


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_one_failed_flush_fails_every_later_job(variant, tmp_path, redis_url, observe):
    emails = ["ada@example.com", TAKEN, "grace@example.com", "linus@example.com"]
    outcomes, stored = run_jobs(variant, tmp_path, redis_url, emails)
    observe("\n".join(outcomes + [f"stored: {stored}"]))
    assert outcomes[:2] == ["finished: added ada@example.com", S.symptom("duplicate email")]
    assert outcomes[2:] == [S.symptom("every later job")] * 2
    assert stored == [TAKEN, "ada@example.com"]


@pytest.mark.parametrize("variant", S.fixes, ids=str)
@settings(max_examples=5)
@given(good=st.lists(st.booleans(), min_size=1, max_size=6))
@example(good=[True, False, True, False, True])
def test_every_good_job_is_stored_and_no_failure_leaks(variant, tmp_path_factory, redis_url,
                                                       observe, good):
    import redis

    with redis.Redis.from_url(redis_url) as client:
        client.flushdb()
    emails = [f"user{i}@example.com" if ok else TAKEN for i, ok in enumerate(good)]
    outcomes, stored = run_jobs(variant, tmp_path_factory.mktemp("jobs"), redis_url, emails)
    observe("\n".join(outcomes + [f"stored: {stored}"]))
    assert outcomes == [f"finished: added {email}" if ok else S.symptom("duplicate email")
                        for email, ok in zip(emails, good)]
    assert stored == [TAKEN] + [email for email, ok in zip(emails, good) if ok]
