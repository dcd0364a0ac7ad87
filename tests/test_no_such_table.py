"""S06: the write-up's two-app unittest suite, run whole as an inner pytest session per variant."""
import shutil
import xml.etree.ElementTree as ET

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs

S = scenario.load("no_such_table")


def run_inner_suite(variant, pytester):
    """Run the variant's test_apps.py as its own pytest session in a fresh interpreter, as
    `python -m pytest` would; return the run and, per inner test, its outcome and the first
    line of its error."""
    for path in variant.path.iterdir():
        if path.suffix == ".py":
            shutil.copy(path, pytester.path)
    result = pytester.runpytest_subprocess(*procs.USER_SUITE_FLAGS, "--junitxml=inner.xml",
                                           timeout=60)
    outcomes = []
    for case in ET.parse(pytester.path / "inner.xml").getroot().iter("testcase"):
        name = f"{case.get('classname').rpartition('.')[2]}.{case.get('name')}"
        problem = case.find("failure") if case.find("failure") is not None else case.find("error")
        if problem is None:
            outcomes.append(f"{name}: passed")
        else:
            outcomes.append(f"{name}: {problem.tag}: {problem.get('message').splitlines()[0]}")
    return result, "\n".join(outcomes)


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_inner_suite_fails_like_the_write_up(variant, pytester, observe):
    result, outcomes = run_inner_suite(variant, pytester)
    assert observe(outcomes) == S.symptom("inner suite", variant=variant)
    failed = outcomes.count(": failure: ")
    result.assert_outcomes(passed=4 - failed, failed=failed)


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_inner_suite_passes_whole(variant, pytester, observe):
    result, outcomes = run_inner_suite(variant, pytester)
    observe(outcomes)
    result.assert_outcomes(passed=4)
    assert outcomes.splitlines() == [f"Test{c}.test{n}: passed" for c in "AB" for n in (1, 2)]
