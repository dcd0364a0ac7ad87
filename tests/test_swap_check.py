"""tools/swap_check.py: with the repro's and the fix's code swapped, every test fails, except
one that observed what the metadata declares not affected for the code it then ran."""
import importlib.util

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs

TOOL = scenario.ROOT / "tools" / "swap_check.py"
PREFORK = scenario.load("prefork_shared_connection")
ALIKE = "200 requests: 200 ok, 0 errors, 0 wrong results"  # register_at_fork under gunicorn


@pytest.fixture(scope="module")
def swap_check():
    spec = importlib.util.spec_from_file_location("swap_check", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_test_of_a_scenario_fails_with_the_code_swapped():
    result = procs.python(str(TOOL), "create_all_before_models", cwd=scenario.ROOT, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "create_all_before_models: 2/2 tests failed with repro and fix swapped"]


@pytest.mark.parametrize("variant, server, observed, alike", [
    ("repro-register_at_fork", "gunicorn", ALIKE, True),  # declared not affected: the fix's
    ("repro-register_at_fork", "uwsgi", ALIKE, False),  # code passes there, and only there
    ("repro-register_at_fork", "gunicorn", "200 requests: 199 ok, 1 errors", False),
    ("fix-lazy_apps", "gunicorn", ALIKE, False),  # runs the first repro: affected on gunicorn
], ids=["declared", "other-server", "other-text", "fix-test"])
def test_a_test_passes_swapped_only_where_declared_not_affected(swap_check, variant, server,
                                                                observed, alike):
    row = {"variant": variant, "params": {"variant": variant, "wsgi_server": server},
           "observed": observed}
    assert swap_check.declared_alike(PREFORK, row) is alike
