"""What became of rq jobs, read from Redis the way `rq info` would, without importing their code."""
from __future__ import annotations

import re

from pitfall_lab import procs


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
    """Until every job has finished or failed (a long-lived worker runs them); TimeoutError
    naming the ones still pending after ``timeout`` seconds."""
    import time

    from redis import Redis
    from rq.job import Job

    deadline = time.monotonic() + timeout
    with Redis.from_url(redis_url) as redis:
        pending = list(job_ids)
        while pending:
            pending = [job_id for job_id in pending if Job.fetch(job_id, connection=redis)
                       .get_status().value not in ("finished", "failed")]
            if pending and time.monotonic() > deadline:
                raise TimeoutError(f"jobs still pending after {timeout}s: {pending}")
            if pending:
                time.sleep(0.01)  # poll a condition with a bound; the worker takes ~10 ms a job
