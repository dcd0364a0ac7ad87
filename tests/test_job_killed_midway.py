"""S14: the rq work horse is killed in the middle of a job. The job is not lost (rq moves it to
the failed registry); whether running it again is safe depends on the job."""
import itertools
import os
import re
import signal

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import rqjobs, sql
from pitfall_lab.harness.webhook import Webhook

S = scenario.load("job_killed_midway")
EMAILS = [f"reader{i}@example.com" for i in range(1, 6)]


@pytest.fixture
def webhook():
    """The mailing service's endpoint; its third call is held open until released."""
    hook = Webhook(hold_call=3)
    yield hook
    hook.close()


def kill_midway_then_retry(variant, tmp_path, redis_url, database_url, webhook, dev_server) -> str:
    from redis import Redis
    from rq import Queue
    from rq.registry import FailedJobRegistry

    app_dir = variant.copy_to(tmp_path)
    env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "WEBHOOK_URL": webhook.url}
    job_id = rqjobs.enqueue(redis_url, "jobs.import_subscribers", EMAILS)

    worker = rqjobs.start_worker(dev_server, redis_url, app_dir, env, burst=True)
    assert webhook.held.wait(30), worker.log  # the job is blocked in its third notification
    (horse,) = worker.children()
    os.kill(horse, signal.SIGKILL)
    rqjobs.finish_burst(worker)  # a burst worker carries on, then finds the queue empty
    after_kill = rqjobs.outcomes(redis_url, [job_id])[0]

    webhook.release.set()
    with Redis.from_url(redis_url) as redis:
        failed = FailedJobRegistry(queue=Queue(connection=redis))
        in_failed = job_id in failed.get_job_ids()
        failed.requeue(job_id)
    rqjobs.burst(redis_url, app_dir, env)  # the retry

    emails = sql.scalars(database_url, "SELECT email FROM subscriber")
    return (f"after the kill: {after_kill}\n"
            f"in FailedJobRegistry: {in_failed}\n"
            f"after the retry: {rqjobs.outcomes(redis_url, [job_id])[0]}\n"
            f"stored: {len(emails)} rows, {len(set(emails))} distinct")


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_retried_job_stores_rows_twice(variant, tmp_path, redis_url, database_url, webhook,
                                       dev_server, observe):
    assert observe(kill_midway_then_retry(variant, tmp_path, redis_url, database_url, webhook,
                                          dev_server)) \
        == S.symptom("kill, requeue, retry")


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_retried_job_stores_each_row_once(variant, tmp_path, redis_url, database_url, webhook,
                                          dev_server, observe):
    assert observe(kill_midway_then_retry(variant, tmp_path, redis_url, database_url, webhook,
                                          dev_server)) == (
        "after the kill: failed: Work-horse terminated unexpectedly; waitpid returned 9 (signal 9);\n"
        "in FailedJobRegistry: True\n"
        "after the retry: finished: imported 5 subscribers\n"
        "stored: 5 rows, 5 distinct")


# Exploration: where the work horse is killed (held in its k-th notification of n), run by ONE
# long-lived `rq worker` per test: each example is a job it forks a work horse for, a kill, a
# requeue from FailedJobRegistry and the retry.
class KilledJobs:
    def __init__(self, variant, tmp_path, redis_url, webhook, dev_server):
        self.redis_url, self.webhook = redis_url, webhook
        self.database_url = f"sqlite:///{tmp_path / 'app.db'}"
        env = {"DATABASE_URL": self.database_url, "REDIS_URL": redis_url,
               "WEBHOOK_URL": webhook.url}
        self.worker = rqjobs.start_worker(dev_server, redis_url, variant.copy_to(tmp_path), env,
                                          burst=False)
        self.worker.wait_for_log(r"Listening on")
        self.batch = itertools.count()
        self.examples = 0

    def kill_then_retry(self, n, k) -> list[str]:
        """Import n subscribers, kill the horse in its k-th notification, requeue, retry;
        the emails stored for this job."""
        from redis import Redis
        from rq import Queue
        from rq.registry import FailedJobRegistry

        self.examples += 1
        emails = [f"b{next(self.batch)}-{i}@example.com" for i in range(n)]
        self.webhook.arm(k)
        job_id = rqjobs.enqueue(self.redis_url, "jobs.import_subscribers", emails)
        assert self.webhook.held.wait(30), self.worker.log
        (horse,) = self.worker.children()
        os.kill(horse, signal.SIGKILL)
        rqjobs.wait(self.redis_url, [job_id])
        self.webhook.arm(None)
        with Redis.from_url(self.redis_url) as redis:
            FailedJobRegistry(queue=Queue(connection=redis)).requeue(job_id)
        rqjobs.wait(self.redis_url, [job_id])
        assert rqjobs.outcomes(self.redis_url, [job_id]) == [
            f"finished: imported {n} subscribers"]
        stored = sql.scalars(self.database_url, "SELECT email FROM subscriber")
        return sorted(e for e in stored if e in emails)


def each_row_once(jobs, exploring):
    """The fix's promise as a property: wherever the horse dies, the retried job leaves each
    subscriber stored once. A kill costs two work horses (0.7 s): the default profile tries
    today's case and two more; --hypothesis-profile=explore keeps its 200."""
    from hypothesis import example, given, settings
    from hypothesis import strategies as st

    @settings() if exploring else settings(max_examples=2)
    @given(st.integers(1, 20).flatmap(lambda n: st.tuples(st.just(n), st.integers(1, n))))
    @example((5, 3))  # today's: five subscribers, killed in the third notification
    def stored_once(n_and_k):
        n, k = n_and_k
        stored = jobs.kill_then_retry(n, k)
        assert len(stored) == len(set(stored)), \
            f"killed in notification {k} of {n}: {len(stored)} rows, {len(set(stored))} distinct"
    return stored_once


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_explored_kill_points_store_rows_twice(variant, tmp_path, redis_url, webhook, dev_server,
                                               hypothesis, exploring, observe):
    with pytest.raises(AssertionError) as failure:
        each_row_once(KilledJobs(variant, tmp_path, redis_url, webhook, dev_server), exploring)()
    first = observe(str(failure.value).splitlines()[0])
    assert re.fullmatch(r"killed in notification (\d) of (\d): (\d+) rows, \2 distinct", first)


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_every_explored_kill_point_stores_each_row_once(variant, tmp_path, redis_url, webhook,
                                                        dev_server, hypothesis, exploring,
                                                        observe):
    jobs = KilledJobs(variant, tmp_path, redis_url, webhook, dev_server)
    each_row_once(jobs, exploring)()
    observe(f"{jobs.examples} kills, one worker: every retried job stored each row once")
