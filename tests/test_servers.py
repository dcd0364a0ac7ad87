"""A missing server skips its scenarios with an install hint locally, and fails them in CI."""
import re

import pytest

INNER = """
from pitfall_lab.harness import servers

def test_needs_redis():
    servers.missing("redis")
"""


HINT = "redis is not installed: pip install -e '.[test,servers]'"


@pytest.mark.parametrize("ci, outcome, line", [
    (None, {"skipped": 1}, rf"SKIPPED .* {re.escape(HINT)}"),
    ("true", {"failed": 1}, rf".*{re.escape(HINT)}.*\(CI=true: a missing server is a failure\)"),
])
def test_missing_server(pytester, monkeypatch, ci, outcome, line):
    if ci:
        monkeypatch.setenv("CI", ci)
    else:
        monkeypatch.delenv("CI", raising=False)
    pytester.makepyfile(INNER)
    result = pytester.runpytest_inprocess("-rs")
    result.assert_outcomes(**outcome)
    result.stdout.re_match_lines([line])


def test_redis_keeps_an_idle_client(redis_url):
    """The session's Redis never closes an idle client: Celery's control client, cached for the
    session, reads on a pooled connection that may have been idle between two tests for longer
    than any timeout (it raised 'Connection closed by server' after 30 s)."""
    import redis

    with redis.Redis.from_url(redis_url) as client:
        assert client.config_get("timeout") == {"timeout": "0"}
