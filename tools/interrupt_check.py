"""Interrupt a server-heavy test session at several moments and check that nothing survives.

    python tools/interrupt_check.py        # exit 0 when every trial left no process, no data dir

Each trial starts pytest -n 2 on the PostgreSQL / uWSGI / gunicorn / MariaDB / Redis / Celery
scenarios in a process group of its own, then sends what Ctrl-C sends (SIGINT to the group) or
SIGKILL, and waits up to 10 s for the servers, their workers and the reapers to be gone and the
data directories deleted. A last trial lets `pitfall-lab stress --timeout` stop its own run.
"""
from __future__ import annotations

import glob
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVERS = (r"postgres|redis-server|uwsgi|gunicorn|mariadbd|rq worker|celery -A \S+ worker|"
           r"pitfall_lab.harness.reaper")
TESTS = ["tests/test_prefork_shared_connection.py", "tests/test_stale_connection.py",
         "tests/test_job_killed_midway.py", "tests/test_celery_task_killed_midway.py"]
TRIALS = [(4, signal.SIGINT), (8, signal.SIGINT), (12, signal.SIGINT), (16, signal.SIGINT),
          (20, signal.SIGINT), (10, signal.SIGKILL), (14, signal.SIGKILL)]


def leftovers() -> tuple[int, int]:
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    procs = sum(1 for line in ps.splitlines() if re.search(SERVERS, line))
    return procs, len(glob.glob("/tmp/pitfall-lab-*"))


def main() -> int:
    clean = True
    for delay, sig in TRIALS:
        session = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-n", "2", *TESTS], cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        time.sleep(delay)  # the moment of the interruption is the variable here
        during = leftovers()[0]
        os.killpg(session.pid, sig)
        code = session.wait(120)
        deadline = time.monotonic() + 10
        while (left := leftovers()) != (0, 0) and time.monotonic() < deadline:
            time.sleep(0.1)
        clean &= left == (0, 0)
        print(f"{signal.Signals(sig).name} after {delay:2}s: {during} server processes running; "
              f"pytest exit {code}; left: {left[0]} processes, {left[1]} data dirs", flush=True)
    for seconds in (6, 9, 12):  # stopped at different moments of the servers' lives
        clean &= stress_timeout(seconds)
    return 0 if clean else 1


def stress_timeout(seconds: int = 8) -> bool:
    """`pitfall-lab stress ... --timeout` runs over and stops its child pytest and all it
    started; it says so in one line and exits 1."""
    stress = subprocess.run(
        [str(Path(sys.executable).parent / "pitfall-lab"), "stress", *(Path(t).stem.removeprefix("test_") for t in TESTS),
         "--runs", "3", "-n", "2", "--timeout", str(seconds)], cwd=ROOT, capture_output=True,
        text=True, timeout=seconds + 60)
    deadline = time.monotonic() + 10
    while (left := leftovers()) != (0, 0) and time.monotonic() < deadline:
        time.sleep(0.1)
    said = stress.stderr.strip().splitlines()
    ok = left == (0, 0) and stress.returncode == 1 and said == [
        f"pitfall-lab: pytest ran over {seconds}s and was stopped"]
    print(f"stress --timeout {seconds}: exit {stress.returncode}, said {said}; "
          f"left: {left[0]} processes, {left[1]} data dirs", flush=True)
    return ok


if __name__ == "__main__":
    sys.exit(main())
