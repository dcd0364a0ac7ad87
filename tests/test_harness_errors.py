"""When the lab's own machinery fails (a process that does not end within its limit), no tool
reports a verdict on the pitfall: pytest counts an error, `run` and `stress` say "harness
error" with exit 3, REPORT.md shows the cell as a harness error, and the plugin adds no hint.

The failure is real: PITFALL_LAB_TIMEOUT_FACTOR=0.001 gives every harness process a thousandth
of its limit, and no Python process that imports Flask ends in 60 ms."""

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs, report, runrecord

TOO_SHORT = {procs.FACTOR_VARIABLE: "0.001"}


def pitfall_lab(*args):
    return procs.run(["pitfall-lab", *args], cwd=scenario.ROOT, env=TOO_SHORT, timeout=120)


def test_pytest_counts_an_error_and_the_report_a_harness_error():
    lines = []
    record = runrecord.run_pytest(["-n", "0", "-k", "shared_base and repro"], env=TOO_SHORT,
                                  on_line=lines.append, timeout=120)
    (row,) = [r for r in record["tests"] if r["when"] == "call"]
    assert row["outcome"] == "failed"
    assert row["harness"].startswith("harness: python -c <"), row
    assert row["harness"].endswith("ran over 0.06s and was stopped")
    assert lines[-1].endswith("1 error in " + lines[-1].rsplit(" in ", 1)[1]), lines[-3:]
    assert any(line.startswith("ERROR tests/test_shared_base.py::") for line in lines)
    cell = report.render([record]).split("(`shared_base`)")[1]
    assert "| repro | **HARNESS ERROR** (" in cell
    assert "NOT REPRODUCED" not in cell


def test_run_says_harness_error_and_exits_3():
    result = pitfall_lab("run", "shared_base", "--variant", "repro")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "[harness error, " in result.stdout
    assert "NOT as declared" not in result.stdout


def test_stress_counts_harness_errors_apart_from_its_tally():
    result = pitfall_lab("stress", "shared_base", "--runs", "2", "-n", "0")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "shared_base::test_a_query_uses_db_b_session[repro]: reproduced 0/0, " \
           "harness error 2/2" in result.stdout.splitlines()


def test_a_bad_timeout_factor_is_one_line():
    result = procs.run(["pitfall-lab", "list"], cwd=scenario.ROOT,
                       env={procs.FACTOR_VARIABLE: "fast"})
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (f"pitfall-lab: {procs.FACTOR_VARIABLE}='fast': a number greater "
                             "than 0 (3 gives every process three times as long)\n")


# What rq's burst worker printed when redis-py 8.2 kept it alive past the harness's limit: its
# text names rq and a killed work horse, which the plugin would read as S14.
STUCK_WORKER = (
    "rq worker --burst --url redis://127.0.0.1:6399/0 ran over 60s\\n"
    "12:00:01 Worker 5c1f: default: jobs.import_subscribers() (abc)\\n"
    "12:00:01 Work-horse terminated unexpectedly; waitpid returned 9 (signal 9); job "
    "moved to FailedJobRegistry\\n"
    "12:00:02 Worker 5c1f: done, quitting")

USER_SUITE = f'''
from pitfall_lab.harness.procs import HarnessError


def test_a_timeout_of_the_users_own():
    raise TimeoutError("{STUCK_WORKER}")


def test_a_harness_timeout():
    raise HarnessError("{STUCK_WORKER}")
'''


def test_the_plugin_gives_no_pitfall_hint_for_a_harness_error(pytester):
    pytester.makepyfile(test_user=USER_SUITE)
    result = pytester.runpytest_subprocess(*procs.USER_SUITE_FLAGS, "-rf")
    result.assert_outcomes(failed=2)
    out = result.stdout.str()
    own, harness = out.split("test_a_harness_timeout _")
    assert "looks like S14 job_killed_midway" in own  # the same text, not from the harness
    assert "pitfall-lab" not in harness.split("short test summary info")[0]
