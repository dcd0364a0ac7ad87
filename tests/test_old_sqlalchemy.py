"""On SQLAlchemy older than 1.4 (version set v1) the doctor, the guard and the gate cannot
observe a user's code: each says so in one line and exits non-zero, and never half-runs."""
import sys

import pytest

from pitfall_lab.guard import observe
from pitfall_lab.harness import procs

pytestmark = pytest.mark.skipif(observe.unsupported() is None,
                                reason="this environment's SQLAlchemy is 1.4 or later")


def test_doctor_says_could_not_check(tmp_path):
    (tmp_path / "app.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    result = procs.run(["pitfall-lab", "doctor", str(tmp_path)], cwd=tmp_path)
    assert (result.returncode, result.stderr.splitlines()) == (
        2, [f"pitfall-lab: could not check: {observe.unsupported()}"])


@pytest.mark.parametrize("flag", ["--pitfall-lab", "--pitfall-lab-guard"])
def test_the_gate_and_the_guard_flag_are_a_usage_error(pytester, flag):
    pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")
    result = pytester.runpytest_subprocess(*procs.USER_SUITE_FLAGS, flag)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [line for line in result.errlines if line] == [
        f"ERROR: pitfall-lab: {observe.unsupported()}"]


def test_the_guard_from_the_environment_says_it_is_off(tmp_path):
    from pitfall_lab import guard

    result = procs.run([sys.executable, "-c", "pass"], cwd=tmp_path, env={
        "PITFALL_LAB_GUARD": "1", "PYTHONPATH": guard.autostart_path()})
    assert (result.returncode, result.stderr.splitlines()) == (
        0, [f"pitfall-lab guard: off: {observe.unsupported()}"])
