"""Child processes: every one in its own process group, with a timeout, always reaped.

A process of the harness that does not start, end or speak within its limit raises
:class:`HarnessError`: the lab's own machinery failed, which says nothing about a pitfall.
Every limit here is scaled by ``PITFALL_LAB_TIMEOUT_FACTOR`` (default 1; 3 on a slow machine).
"""
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


FACTOR_VARIABLE = "PITFALL_LAB_TIMEOUT_FACTOR"


class HarnessError(TimeoutError):
    """The lab's own machinery failed: a process that did not end or speak within its limit, a
    server that did not start. ``str()`` starts with ``harness:``, names the process, and ends
    with its last output lines. Never a verdict on a pitfall: the lab's pytest wiring reports it
    as an error, and ``run``, ``stress``, ``demo`` and the report as a harness error."""

    def __init__(self, what: str, output: str = ""):
        tail = [line for line in output.splitlines() if line.strip()][-15:]
        super().__init__(f"harness: {what}" + ("\nlast output lines:\n" + "\n".join(tail)
                                              if tail else ""))


def describe(args) -> str:
    """A command line as one short line: the interpreter by its name, a script given inline
    (``-c``) by its line count."""
    shown = []
    for arg in map(str, args):
        if "\n" in arg.strip():
            arg = f"<{len(arg.strip().splitlines())}-line script>"
        elif arg == sys.executable:
            arg = "python"
        shown.append(arg)
    return " ".join(shown)


def timeout_factor() -> float:
    """``PITFALL_LAB_TIMEOUT_FACTOR`` as a number > 0; ValueError with one line otherwise."""
    raw = os.environ.get(FACTOR_VARIABLE, "1")
    try:
        factor = float(raw)
    except ValueError:
        factor = 0.0
    if not factor > 0:
        raise ValueError(f"{FACTOR_VARIABLE}={raw!r}: a number greater than 0 (3 gives every "
                         "process three times as long)")
    return factor


def limit(seconds: float) -> float:
    """A harness time limit on this machine: ``seconds`` scaled by the timeout factor."""
    return seconds * timeout_factor()


# How the tests run a user's own suite (an inner pytest): no cache, and without two plugins
# that this environment has and a user's suite would not: hypothesis's, which imports all of
# hypothesis (0.6 s) at the end of every session, and pytest-redis's, which imports the Redis
# client (0.2 s) at its start (the lab's own pytest options, which say the same, do not reach
# an inner suite).
USER_SUITE_FLAGS = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:pytest_redis")


def exception_lines(text: str) -> list[str]:
    """The lines of a traceback text that name an exception and its message."""
    return [line for line in text.splitlines() if _EXC_LINE.match(line)]


def child_env(extra: dict[str, str] | None = None, inherit: bool = False) -> dict[str, str]:
    """The environment a user's shell would give: this venv first on PATH, nothing inherited
    that changes how Flask or Python find the app; with ``inherit``, everything inherited (the
    doctor runs the user's code with the user's environment, see CHILD_SETS)."""
    env = {k: v for k, v in os.environ.items()
           if inherit or not k.startswith(("FLASK_", "WERKZEUG_", "PYTHON", "PYTEST_"))}
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", PYTHONDONTWRITEBYTECODE="1",
               PYTHONUNBUFFERED="1", PYTHONHASHSEED="0")
    env.update(extra or {})
    return env


# What child_env sets whatever the caller's environment, and why.
_PYTHON_AS_RUN = "no .pyc written, output unbuffered, hash seed 0"
CHILD_SETS = {"PATH": "this interpreter's bin first", "PYTHONDONTWRITEBYTECODE": _PYTHON_AS_RUN,
              "PYTHONUNBUFFERED": _PYTHON_AS_RUN, "PYTHONHASHSEED": _PYTHON_AS_RUN}


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
        input: str | None = None, inherit: bool = False) -> Result:
    """Run a command to completion; past its limit kill its whole group and raise
    HarnessError. ``inherit``: see child_env."""
    proc = subprocess.Popen(args, cwd=cwd, env=child_env(env, inherit), text=True,
                            start_new_session=True,
                            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    timeout = limit(timeout)
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc, grace=0)
        out, err = proc.communicate()
        raise HarnessError(f"{describe(args)} ran over {timeout:g}s and was stopped",
                           f"{out}\n{err}") from None
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
                 on_line: Callable[[str], None] | None = None, stdin: bool = False,
                 grace: float = 3.0):
        """``grace``: how long :meth:`stop` lets it end on SIGTERM before SIGKILL."""
        self.args = [str(a) for a in args]
        self.grace = grace
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
        """Wait until ``count`` output lines match the regex ``pattern``; return them. If the
        process ends first, AssertionError (it did something else than expected); if it is
        still running, silent, past the limit, HarnessError."""
        regex = re.compile(pattern)
        timeout = limit(timeout)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                hits = [line for line in self.lines if regex.search(line)]
                if len(hits) >= count:
                    return hits
                seen = f"{pattern!r} seen {len(hits)}/{count} times from {describe(self.args)}"
                if not self._reader.is_alive() and self.proc.poll() is not None:
                    raise AssertionError(f"{seen}: it exited ({self.proc.returncode}) first; "
                                         "output:\n" + "\n".join(self.lines))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise HarnessError(f"{seen} within {timeout:g}s, still running",
                                       "\n".join(self.lines))
                self._changed.wait(min(left, 0.5))

    def wait(self, timeout: float = 30) -> int:
        """Wait for the process to exit by itself; its exit status."""
        timeout = limit(timeout)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise HarnessError(f"{describe(self.args)} still running after {timeout:g}s",
                               self.log) from None

    def children(self) -> list[int]:
        """PIDs of the process's direct children (Linux /proc)."""
        pid = self.proc.pid
        return [int(c) for c in open(f"/proc/{pid}/task/{pid}/children").read().split()]

    def stop(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        kill_group(self.proc, grace=self.grace)
        self._reader.join(5)
        self.proc.stdout.close()
