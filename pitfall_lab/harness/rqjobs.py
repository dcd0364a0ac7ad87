"""rq workers as a user runs them, and what became of their jobs, read from Redis the way
`rq info` would, without importing their code."""
from __future__ import annotations

import re
from pathlib import Path

from pitfall_lab.harness import procs

# rq's own log line once a burst worker has found every queue empty (rq 2.x and 3.x).
DONE = r"\bdone, quitting$"
# Its teardown then unsubscribes from its command channel and stops the thread that listens on
# it. That thread sleeps in redis-py's get_message(timeout=60); from redis-py 8.2 on, stopping
# it waits that sleep out, so the worker lives on for up to 60 s with its work long done.
# The harness ends it once its work is done instead: no job of it runs any more.
RQ_WORKER = ["rq", "worker", "--url"]


def start_worker(start, redis_url: str, cwd: Path, env: dict, *, burst: bool) -> procs.LiveProcess:
    """``rq worker [--burst] --url URL`` in ``cwd``, started by ``start`` (procs.LiveProcess, or
    the dev_server fixture, which stops it at teardown). No grace at its stop: an idle worker
    told to stop would wait out the same sleep."""
    return start([*RQ_WORKER, redis_url, *(["--burst"] if burst else [])], cwd=cwd, env=env,
                 grace=0)


def finish_burst(worker: procs.LiveProcess, timeout: float = 60) -> str:
    """Wait until a burst worker says it found the queues empty, then end it (its process
    group); its log. A worker that ends without saying so failed: AssertionError with its log."""
    try:
        worker.wait_for_log(DONE, timeout=timeout)
    finally:
        worker.stop()
    return worker.log


def burst(redis_url: str, cwd: Path, env: dict, timeout: float = 60) -> str:
    """Run every queued job with ``rq worker --burst``, as a user's cron or CI does; its log."""
    return finish_burst(start_worker(procs.LiveProcess, redis_url, cwd, env, burst=True), timeout)


def outcome(job) -> str:
    """'finished: <return value>', or '<status>: <the exception line of the job's traceback>'
    with object addresses blanked."""
    status = job.get_status().value
    result = job.latest_result()
    if status == "finished":
        return f"finished: {result.return_value}"
    if result is None or not result.exc_string:
        return status
    last = procs.exception_lines(result.exc_string)[-1:] or result.exc_string.strip().splitlines()[-1:]
    return f"{status}: {re.sub(r' at 0x[0-9a-f]+>', ' at 0x…>', last[0])}"


def outcomes(redis_url: str, job_ids) -> list[str]:
    from redis import Redis
    from rq.job import Job

    with Redis.from_url(redis_url) as redis:
        return [outcome(Job.fetch(job_id, connection=redis)) for job_id in job_ids]


def enqueue(redis_url: str, func: str, *args) -> str:
    """Enqueue ``func`` (an import string, so its module is never imported here)."""
    from redis import Redis
    from rq import Queue

    with Redis.from_url(redis_url) as redis:
        return Queue(connection=redis).enqueue(func, *args).id


def wait(redis_url: str, job_ids, timeout: float = 30) -> None:
    """Until every job has finished or failed (a long-lived worker runs them); HarnessError
    naming the ones still pending after ``timeout`` seconds."""
    import time

    from redis import Redis
    from rq.job import Job

    timeout = procs.limit(timeout)
    deadline = time.monotonic() + timeout
    with Redis.from_url(redis_url) as redis:
        pending = list(job_ids)
        while pending:
            pending = [job_id for job_id in pending if Job.fetch(job_id, connection=redis)
                       .get_status().value not in ("finished", "failed")]
            if pending and time.monotonic() > deadline:
                raise procs.HarnessError(f"rq jobs still pending after {timeout:g}s: {pending}")
            if pending:
                time.sleep(0.01)  # poll a condition with a bound; the worker takes ~10 ms a job
