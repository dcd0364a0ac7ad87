"""S11: one app context around a long-lived worker: a job that fails in flush poisons the session
for every job after it. One real worker process per test runs every job of the test."""
import itertools

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import rqjobs, sql

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


class Jobs:
    """The variant's worker.py, started once and left running, as deployed; ``run`` enqueues
    add_account(email) jobs and waits until the worker has run them all."""

    def __init__(self, variant, run_dir, redis_url, database_url, dev_server):
        seed_taken_account(database_url)
        self.redis_url, self.database_url = redis_url, database_url
        self.worker = dev_server(["python", "worker.py"], cwd=variant.copy_to(run_dir),
                                 env={"DATABASE_URL": database_url, "REDIS_URL": redis_url},
                                 grace=0)  # stopped with its jobs done: see rqjobs.DONE
        self.worker.wait_for_log(r"Listening on")
        self.fresh = (f"user{n}@example.com" for n in itertools.count())
        self.examples = 0  # how many job sequences this worker has run (hypothesis)

    def emails(self, goods) -> list[str]:
        """A new address for each good job, the taken one for each duplicate."""
        return [next(self.fresh) if ok else TAKEN for ok in goods]

    def run(self, emails) -> tuple[list[str], list[str]]:
        """Each job's outcome, and the stored emails."""
        job_ids = [rqjobs.enqueue(self.redis_url, "jobs.add_account", e) for e in emails]
        rqjobs.wait(self.redis_url, job_ids)
        stored = sql.scalars(self.database_url, "SELECT email FROM account ORDER BY id")
        return rqjobs.outcomes(self.redis_url, job_ids), stored


@pytest.fixture
def jobs(tmp_path, redis_url, dev_server):
    def start(variant, database_url):
        return Jobs(variant, tmp_path, redis_url, database_url, dev_server)
    return start


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_one_failed_flush_fails_every_later_job(variant, jobs, database_url, observe):
    emails = ["ada@example.com", TAKEN, "grace@example.com", "linus@example.com"]
    outcomes, stored = jobs(variant, database_url).run(emails)
    observe("\n".join(outcomes + [f"stored: {stored}"]))
    on = sql.backend(database_url)
    assert outcomes[:2] == ["finished: added ada@example.com", S.symptom(f"duplicate email, {on}")]
    assert outcomes[2:] == [S.symptom(f"every later job, {on}")] * 2
    assert stored == [TAKEN, "ada@example.com"]


# A failing job first and last, two in a row, and every pair of outcomes (good after good, good
# after failed, failed after good, failed after failed): no failure leaks into a later job.
GOOD = [False, False, True, True, False, True, False]


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_every_good_job_is_stored_and_no_failure_leaks(variant, jobs, database_url, observe):
    runner = jobs(variant, database_url)
    emails = runner.emails(GOOD)
    outcomes, stored = runner.run(emails)
    observe("\n".join(outcomes + [f"stored: {stored}"]))
    duplicate = S.symptom(f"duplicate email, {sql.backend(database_url)}")
    assert outcomes == [f"finished: added {email}" if ok else duplicate
                        for email, ok in zip(emails, GOOD)]
    assert stored == [TAKEN] + [email for email, ok in zip(emails, GOOD) if ok]


def every_job_sequence(runner, duplicate):
    """The fix's promise as a property, over sequences of good and duplicate jobs fed to the
    same running worker, example after example: each job's outcome is its own."""
    from hypothesis import example, given
    from hypothesis import strategies as st

    @given(st.lists(st.booleans(), min_size=1, max_size=8))
    @example([True, False, True, True])  # today's table: a failure, then good jobs
    @example(GOOD)
    def each_outcome_is_its_own(goods):
        runner.examples += 1
        emails = runner.emails(goods)
        outcomes, stored = runner.run(emails)
        expected = [f"finished: added {email}" if ok else duplicate
                    for email, ok in zip(emails, goods)]
        wrong = [got for got, want in zip(outcomes, expected) if got != want]
        assert not wrong, "\n".join(wrong)
        assert set(stored) >= {email for email, ok in zip(emails, goods) if ok}
    return each_outcome_is_its_own


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_explored_sequences_find_the_poisoned_session(variant, jobs, tmp_path, hypothesis,
                                                      observe):
    database_url = f"sqlite:///{tmp_path / 'app.db'}"
    explore = every_job_sequence(jobs(variant, database_url), S.symptom("duplicate email, sqlite"))
    with pytest.raises(AssertionError) as failure:
        explore()
    observe(str(failure.value))
    assert S.symptom("every later job, sqlite") in str(failure.value).splitlines()


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_no_explored_sequence_leaks_a_failure(variant, jobs, tmp_path, hypothesis, observe):
    database_url = f"sqlite:///{tmp_path / 'app.db'}"
    runner = jobs(variant, database_url)
    every_job_sequence(runner, S.symptom("duplicate email, sqlite"))()
    observe(f"{runner.examples} sequences, one worker: each job's outcome was its own")
