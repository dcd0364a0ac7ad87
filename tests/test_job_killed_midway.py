"""S14: the rq work horse is killed in the middle of a job. The job is not lost (rq moves it to
the failed registry); whether running it again is safe depends on the job."""
import os
import signal

import pytest

from pitfall_lab import procs, rqjobs, scenario, sql
from pitfall_lab.webhook import Webhook

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

    worker = dev_server(["rq", "worker", "--burst", "--url", redis_url], cwd=app_dir, env=env)
    assert webhook.held.wait(30), worker.log  # the job is blocked in its third notification
    (horse,) = worker.children()
    os.kill(horse, signal.SIGKILL)
    assert worker.wait(30) == 0, worker.log  # a burst worker carries on, then exits
    after_kill = rqjobs.outcomes(redis_url, [job_id])[0]

    webhook.release.set()
    with Redis.from_url(redis_url) as redis:
        failed = FailedJobRegistry(queue=Queue(connection=redis))
        in_failed = job_id in failed.get_job_ids()
        failed.requeue(job_id)
    retry = procs.run(["rq", "worker", "--burst", "--url", redis_url], cwd=app_dir, env=env)
    assert retry.returncode == 0, retry.stderr

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
