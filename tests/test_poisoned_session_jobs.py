"""S11: one app context around a long-lived worker: a job that fails in flush poisons the session
for every job after it."""
import pytest

from pitfall_lab import procs, rqjobs, scenario, sql

S = scenario.load("poisoned_session_jobs")
TAKEN = "taken@example.com"


def seed_taken_account(database_url) -> None:
    """The app's account table, with one address already taken."""
    import sqlalchemy as sa

    account = sa.Table("account", sa.MetaData(),
                       sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("email", sa.String(120), unique=True, nullable=False))
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    with engine.begin() as con:
        account.create(con)
        con.execute(account.insert().values(email=TAKEN))
    engine.dispose()


def run_jobs(variant, run_dir, redis_url, database_url, emails) -> tuple[list[str], list[str]]:
    """Seed one account, enqueue add_account(email) for each email, run the variant's worker.py
    once through the queue; return each job's outcome and the stored emails."""
    seed_taken_account(database_url)
    job_ids = [rqjobs.enqueue(redis_url, "jobs.add_account", email) for email in emails]
    worker = procs.python("worker.py", cwd=variant.copy_to(run_dir), timeout=60,
                          env={"DATABASE_URL": database_url, "REDIS_URL": redis_url})
    assert worker.returncode == 0, worker.stderr
    stored = sql.scalars(database_url, "SELECT email FROM account ORDER BY id")
    return rqjobs.outcomes(redis_url, job_ids), stored


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_one_failed_flush_fails_every_later_job(variant, tmp_path, redis_url, database_url,
                                                observe):
    emails = ["ada@example.com", TAKEN, "grace@example.com", "linus@example.com"]
    outcomes, stored = run_jobs(variant, tmp_path, redis_url, database_url, emails)
    observe("\n".join(outcomes + [f"stored: {stored}"]))
    on = sql.backend(database_url)
    assert outcomes[:2] == ["finished: added ada@example.com", S.symptom(f"duplicate email, {on}")]
    assert outcomes[2:] == [S.symptom(f"every later job, {on}")] * 2
    assert stored == [TAKEN, "ada@example.com"]


# A failing job first and last, two in a row, and every pair of outcomes (good after good, good
# after failed, failed after good, failed after failed): one worker run shows that no failure
# leaks into any later job.
GOOD = [False, False, True, True, False, True, False]


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_every_good_job_is_stored_and_no_failure_leaks(variant, tmp_path, redis_url,
                                                       database_url, observe):
    emails = [f"user{i}@example.com" if ok else TAKEN for i, ok in enumerate(GOOD)]
    outcomes, stored = run_jobs(variant, tmp_path, redis_url, database_url, emails)
    observe("\n".join(outcomes + [f"stored: {stored}"]))
    duplicate = S.symptom(f"duplicate email, {sql.backend(database_url)}")
    assert outcomes == [f"finished: added {email}" if ok else duplicate
                        for email, ok in zip(emails, GOOD)]
    assert stored == [TAKEN] + [email for email, ok in zip(emails, GOOD) if ok]
