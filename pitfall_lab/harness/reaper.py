"""Stop a server and delete its data when the process that owns it exits, however it exits.

    python -m pitfall_lab.harness.reaper OWNER_PID SERVER_PID [PATH]
    python -m pitfall_lab.harness.reaper OWNER_PID 0 PATH     # data made before its server starts

Started in a session of its own (Ctrl-C does not reach it). It waits, without polling, for
OWNER_PID or SERVER_PID to exit. If the server goes first, the owner's own teardown stopped it;
the reaper only waits for the owner to delete PATH if it is still there. If the owner goes first,
it sends SIGTERM to the server's process group, SIGKILL after
five seconds, and deletes PATH. It is the net under fixture teardown, for an interrupted or
killed test session.
"""
from __future__ import annotations

import os
import select
import shutil
import signal
import sys
import time


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def signal_server(pid: int, sig: int) -> None:
    try:
        os.killpg(os.getpgid(pid), sig) if os.getpgid(pid) == pid else os.kill(pid, sig)
    except ProcessLookupError:
        pass


def pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except ProcessLookupError:
        return None


def main(owner: int, server: int, path: str | None) -> None:
    if server == 0:  # no server yet, only its data: delete it when the owner is gone
        owner_fd = pidfd(owner)
        if owner_fd is not None:
            select.select([owner_fd], [], [])
        if path:
            shutil.rmtree(path, ignore_errors=True)
        return
    owner_fd, server_fd = pidfd(owner), pidfd(server)
    if server_fd is None:
        return
    if owner_fd is not None:
        # A pidfd is readable once its process has exited. The server going first means the
        # owner's teardown stopped it and is cleaning up: nothing for the reaper to do.
        ready, _, _ = select.select([owner_fd, server_fd], [], [])
        if owner_fd not in ready:
            if path:  # the teardown may still be interrupted before it deletes the data
                select.select([owner_fd], [], [])
                shutil.rmtree(path, ignore_errors=True)
            return
    if alive(server):
        signal_server(server, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while alive(server) and time.monotonic() < deadline:
            time.sleep(0.1)
        signal_server(server, signal.SIGKILL)
    if path:
        shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None)
