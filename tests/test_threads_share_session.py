"""S08: two threads use one Session; the interleaving is forced, the run is in a child process
(an unsynchronised race can crash the interpreter: that must fail one test, not the run)."""
import json
from pathlib import Path

import pytest

from pitfall_lab import procs, scenario

S = scenario.load("threads_share_session")
PROBE = Path(__file__).parent / "probes" / "two_threads.py"
INTERLEAVINGS = ["checkout", "flush"]


def two_requests(variant, tmp_path, interleaving) -> str:
    app_dir = variant.copy_to(tmp_path)
    result = procs.python(str(PROBE), interleaving, cwd=app_dir, timeout=60,
                          env={"DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}"})
    assert result.returncode == 0, f"probe exited {result.returncode}:\n{result.stderr}"
    seen = json.loads(result.stdout)
    return f"A: {seen['A']}\nB: {seen['B']}\nstored: {seen['users']}"


@pytest.mark.parametrize("interleaving", INTERLEAVINGS)
@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_shared_session_breaks_under_concurrent_requests(variant, interleaving, tmp_path,
                                                         observe):
    assert observe(two_requests(variant, tmp_path, interleaving)) == S.symptom(interleaving)


@pytest.mark.parametrize("interleaving, expected", [
    pytest.param("checkout", "A: 200 {'name': 'ada'}\nB: 200 {'name': 'grace'}\n"
                 "stored: ['ada', 'grace']", id="checkout"),
    pytest.param("flush", "A: 201 {'id': 4}\nB: 201 {'id': 3}\n"
                 "stored: ['ada', 'grace', 'guido', 'linus']", id="flush"),
])
@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_a_session_per_request_serves_both(variant, interleaving, expected, tmp_path, observe):
    assert observe(two_requests(variant, tmp_path, interleaving)) == expected
