"""Celery workers as a user runs them, and what became of their tasks, read from Redis (the
broker and the result backend) without importing the tasks' code.

The worker is the real ``celery -A <module> worker -P prefork -c 2``, in a process group of its
own, with a reaper (an interrupted test session does not leave it behind, reconnecting to a
Redis that is gone), and is ready when it logs so. It is stopped with no grace: a warm shutdown
would wait for a task that a test holds.
"""
from __future__ import annotations

import json
import os
import re
import time
import uuid
from pathlib import Path

from pitfall_lab.harness import procs

# Celery's own log line once the worker consumes (Celery 5.1 to 5.7): "<node name> ready."
READY = r"\] {node} ready\.$"
QUEUE = "celery"  # the default queue: a Redis list of that name
UNACKED = "unacked"  # kombu's hash of the messages a worker holds and has not acknowledged
DONE = ("SUCCESS", "FAILURE", "REVOKED")


def start_worker(start, app: str, cwd: Path, env: dict, *, concurrency: int = 2,
                 timeout: float = 60) -> procs.LiveProcess:
    """``celery -A app worker -P prefork -c N -l INFO`` in ``cwd``, started by ``start``
    (procs.LiveProcess, or the dev_server fixture, which stops it at teardown), waited for until
    it says it is ready. Without gossip, mingle and heartbeats (messages between workers; there
    is one worker, and mingle alone costs a second at each start). Its node name is unique, so
    that the log says which worker of a test ran what."""
    from pitfall_lab.harness import servers

    node = f"lab{uuid.uuid4().hex[:8]}@localhost"
    if os.geteuid() == 0:  # CI runs as root; Celery refuses to run pickle as root unless told
        env = {**env, "C_FORCE_ROOT": "1"}  # (a deployed worker runs as a service user)
    worker = start(["celery", "-A", app, "worker", "-P", "prefork", "-c", str(concurrency),
                    "-l", "INFO", "-n", node, "--without-gossip", "--without-mingle",
                    "--without-heartbeat"], cwd=cwd, env=env, grace=0)
    worker.node = node
    servers.reap_when_gone(worker.proc.pid)
    try:
        worker.wait_for_log(READY.format(node=re.escape(node)), timeout=timeout)
    except BaseException:
        worker.stop()
        raise
    return worker


_clients: dict[str, object] = {}


def client(redis_url: str):
    """A Celery app of the test's own, broker and backend on ``redis_url``: it sends tasks by
    name and reads what became of them; it never imports the tasks' module."""
    if redis_url not in _clients:
        from celery import Celery

        _clients[redis_url] = Celery("pitfall-lab", broker=redis_url, backend=redis_url,
                                     set_as_current=False)
    return _clients[redis_url]


def send(redis_url: str, task: str, *args) -> str:
    """Send ``task`` (its registered name, ``tasks.charge``) with JSON arguments; its id."""
    return client(redis_url).send_task(task, args=list(args)).id


def _redis(redis_url: str):
    from redis import Redis

    return Redis.from_url(redis_url)


def meta(redis_url: str, task_id: str) -> dict:
    """The result backend's record of a task, as Celery stored it (JSON); {} while PENDING."""
    with _redis(redis_url) as redis:
        raw = redis.get(f"celery-task-meta-{task_id}")
    return json.loads(raw) if raw else {}


def outcome(redis_url: str, task_id: str) -> str:
    """'succeeded: <return value>', 'failed: <the exception line of its traceback>' (object
    addresses blanked), or the state (PENDING: no record at all)."""
    m = meta(redis_url, task_id)
    status = m.get("status", "PENDING")
    if status == "SUCCESS":
        return f"succeeded: {m['result']}"
    if status == "FAILURE":
        tb = m.get("traceback") or ""
        last = procs.exception_lines(tb)[-1:] or tb.strip().splitlines()[-1:]
        if not last:  # no traceback (WorkerLostError): the exception Celery stored
            exc = m["result"]
            message = exc.get("exc_message")
            message = " ".join(map(str, message)) if isinstance(message, list) else message
            last = [f"{exc.get('exc_module')}.{exc.get('exc_type')}: {message}"]
        return f"failed: {re.sub(r' at 0x[0-9a-f]+>', ' at 0x…>', last[0])}"
    return status


def outcomes(redis_url: str, task_ids) -> list[str]:
    return [outcome(redis_url, task_id) for task_id in task_ids]


def wait(redis_url: str, task_ids, timeout: float = 30) -> None:
    """Until every task has succeeded or failed; HarnessError naming those still not done
    after ``timeout`` seconds."""
    timeout = procs.limit(timeout)
    deadline = time.monotonic() + timeout
    pending = list(task_ids)
    while pending:
        pending = [t for t in pending if meta(redis_url, t).get("status") not in DONE]
        if pending and time.monotonic() > deadline:
            raise procs.HarnessError(f"celery tasks not done after {timeout:g}s: {pending}")
        if pending:
            time.sleep(0.01)  # poll a condition with a bound; a task takes ~10 ms


def run(redis_url: str, task: str, *args, timeout: float = 30) -> str:
    """Send one task, wait until it is done; its id."""
    task_id = send(redis_url, task, *args)
    wait(redis_url, [task_id], timeout)
    return task_id


def queued(redis_url: str) -> int:
    """How many task messages wait in the default queue."""
    with _redis(redis_url) as redis:
        return redis.llen(QUEUE)


def unacked(redis_url: str) -> int:
    """How many task messages a worker took and never acknowledged (kombu keeps them until the
    broker's visibility timeout gives them back)."""
    with _redis(redis_url) as redis:
        return redis.hlen(UNACKED)


def restore_unacked(redis_url: str) -> int:
    """Put every unacknowledged message back in its queue now, as the broker does once its
    visibility timeout (an hour by default) has passed, with kombu's own restore. How many it
    gave back."""
    from kombu import Connection

    with _redis(redis_url) as redis:
        tags = redis.hkeys(UNACKED)
    with Connection(redis_url) as conn:
        qos = conn.default_channel.qos
        for tag in tags:  # as qos.restore_visible does, without its mutex, which a worker's
            qos.restore_by_tag(tag)  # own sweep may hold (a transaction guards each message)
    return len(tags)


def settle(redis_url: str, worker: procs.LiveProcess, task_id: str, timeout: float = 10) -> None:
    """Until the worker's main process is done with a task: it no longer lists it as active or
    reserved (``celery inspect``), in two replies, one loop turn apart. Its result is stored
    before that, by the pool child; the main process drops the task from its lists, then
    acknowledges the message (acks_late) on its loop's next turn."""
    inspect = client(redis_url).control.inspect(destination=[worker.node], timeout=1, limit=1)
    deadline = time.monotonic() + procs.limit(timeout)
    free = 0
    while True:
        replies = [inspect.active(), inspect.reserved()]  # None: no reply within 1 s
        if all(r is not None and worker.node in r for r in replies) and task_id not in [
                t["id"] for r in replies for t in r[worker.node]]:
            free += 1
        else:
            free = 0
        # Twice: the acknowledgement is queued for the main loop's next turn (call_soon),
        # which the second reply comes after.
        if free == 2:
            return
        if time.monotonic() > deadline:
            raise procs.HarnessError(f"celery worker still holds task {task_id} after "
                                     f"{procs.limit(timeout):g}s", worker.log)
        time.sleep(0.01)  # poll a condition with a bound


def child(worker: procs.LiveProcess, task_id: str, timeout: float = 10) -> str:
    """The pool child that ran a finished task, by the line it logs once the task is done
    (ForkPoolWorker-N; the line may come just after the result is stored).

    Celery 5.1 (version set v1) on Python 3.11 cannot log a failed task: billiard 3.6 fails to
    format the traceback ('_Code' object has no attribute 'co_positions'), and logging prints
    the record instead: a "Message: 'Task ..." line from the child, then the record's
    arguments, which name the task."""
    done = rf"/(ForkPoolWorker-\d+)\] Task \S+\[{re.escape(task_id)}\]"
    unlogged = rf"^Arguments: \{{.*'id': '{re.escape(task_id)}'"
    (line,) = worker.wait_for_log(f"{done}|{unlogged}", timeout=timeout)[:1]
    found = re.search(done, line)
    if found:
        return found.group(1)
    lines = worker.log.splitlines()
    before = lines[lines.index(line) - 1]
    return re.search(r"/(ForkPoolWorker-\d+)\] Message: 'Task ", before).group(1)


def active_pid(redis_url: str, worker: procs.LiveProcess, task_id: str,
               timeout: float = 10) -> int:
    """The pid of the pool child running ``task_id``, as the worker's remote control
    (``celery inspect active``) reports it."""
    inspect = client(redis_url).control.inspect(destination=[worker.node], timeout=1, limit=1)
    deadline = time.monotonic() + procs.limit(timeout)
    while True:
        for task in ((inspect.active() or {}).get(worker.node) or []):
            if task["id"] == task_id and task.get("worker_pid"):
                return task["worker_pid"]
        if time.monotonic() > deadline:
            raise procs.HarnessError(f"celery inspect active: task {task_id} is not running",
                                     worker.log)
