"""Child processes: every one in its own process group, with a timeout, always reaped."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

BIN = Path(sys.executable).parent
# A traceback's last line ("pkg.Error: message") or click's "Error: ..." line.
_EXC_LINE = re.compile(r"^(?:[A-Za-z_][\w.]*(?:Error|Exception|Exit|Warning)|Error): .*")


# How the tests run a user's own suite (an inner pytest): no cache, and without two plugins
# that this environment has and a user's suite would not: hypothesis's, which imports all of
# hypothesis (0.6 s) at the end of every session, and pytest-redis's, which imports the Redis
# client (0.2 s) at its start (the lab's own pytest options, which say the same, do not reach
# an inner suite).
USER_SUITE_FLAGS = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:pytest_redis")


def exception_lines(text: str) -> list[str]:
    """The lines of a traceback text that name an exception and its message."""
    return [line for line in text.splitlines() if _EXC_LINE.match(line)]


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a user's shell would give: this venv first on PATH, nothing inherited
    that changes how Flask or Python find the app."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FLASK_", "WERKZEUG_", "PYTHON", "PYTEST_"))}
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", PYTHONDONTWRITEBYTECODE="1",
               PYTHONUNBUFFERED="1", PYTHONHASHSEED="0")
    env.update(extra or {})
    return env


def kill_group(proc: subprocess.Popen, grace: float = 3.0) -> None:
    """SIGTERM the process group, SIGKILL what is left after ``grace`` seconds, reap the leader."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(wait)
            # The leader is gone; children it left in the group still get the next signal.
        except subprocess.TimeoutExpired:
            continue
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(10)


@dataclass
class Result:
    args: list[str]
    cwd: Path
    returncode: int
    stdout: str
    stderr: str

    @property
    def exceptions(self) -> list[str]:
        """The exception lines the child printed to stderr, its working dir shown as <workdir>."""
        return exception_lines(self.stderr.replace(str(self.cwd), "<workdir>"))

    @property
    def exception(self) -> str | None:
        """The last exception line, the one a user reads first."""
        return self.exceptions[-1] if self.exceptions else None


def run(args: list[str], cwd: Path, timeout: float = 60, env: dict | None = None,
        input: str | None = None) -> Result:
    """Run a command to completion; on timeout kill its whole group and raise TimeoutError."""
    proc = subprocess.Popen(args, cwd=cwd, env=child_env(env), text=True, start_new_session=True,
                            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc, grace=0)
        out, err = proc.communicate()
        raise TimeoutError(f"{' '.join(map(str, args))} ran over {timeout}s\n{out}\n{err}") from None
    finally:
        kill_group(proc, grace=0)
    return Result([str(a) for a in args], Path(cwd), proc.returncode, out, err)


def python(*args: str, cwd: Path, **kw) -> Result:
    """Run this interpreter afresh, the way ``python ...`` runs it for a user."""
    return run([sys.executable, *args], cwd=cwd, **kw)


def free_port() -> int:
    """A free loopback port: the lab's one way to find one (port-for, as the servers use)."""
    from port_for import get_port

    return get_port(None)


class LiveProcess:
    """A long-running child (a dev server, a worker) whose merged output is read as it comes."""

    def __init__(self, args: list[str], cwd: Path, env: dict | None = None,
                 on_line: Callable[[str], None] | None = None, stdin: bool = False):
        self.args = [str(a) for a in args]
        self.on_line = on_line
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self.proc = subprocess.Popen(self.args, cwd=cwd, env=child_env(env), text=True,
                                     start_new_session=True,
                                     stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
            if self.on_line:
                self.on_line(line.rstrip("\n"))
        with self._changed:
            self._changed.notify_all()

    def send(self, line: str) -> None:
        """Write one line to the child's standard input (started with ``stdin=True``)."""
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    @property
    def log(self) -> str:
        with self._changed:
            return "\n".join(self.lines)

    def wait_for_log(self, pattern: str, timeout: float = 15, count: int = 1) -> list[str]:
        """Wait until ``count`` output lines match the regex ``pattern``; return them."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                hits = [line for line in self.lines if regex.search(line)]
                if len(hits) >= count:
                    return hits
                left = deadline - time.monotonic()
                if left <= 0 or (not self._reader.is_alive() and self.proc.poll() is not None):
                    raise TimeoutError(
                        f"{pattern!r} seen {len(hits)}/{count} times from {' '.join(self.args)} "
                        f"(exit {self.proc.poll()}); output:\n" + "\n".join(self.lines))
                self._changed.wait(min(left, 0.5))

    def wait(self, timeout: float = 30) -> int:
        """Wait for the process to exit by itself; its exit status."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"{' '.join(self.args)} still running after {timeout}s; output:\n"
                               + self.log) from None

    def children(self) -> list[int]:
        """PIDs of the process's direct children (Linux /proc)."""
        pid = self.proc.pid
        return [int(c) for c in open(f"/proc/{pid}/task/{pid}/children").read().split()]

    def stop(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        kill_group(self.proc)
        self._reader.join(5)
        self.proc.stdout.close()
