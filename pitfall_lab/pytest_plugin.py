"""The lab's pytest plugin for a user's own suite, registered through the ``pytest11`` entry
point: a failing test whose error matches one of the catalogue's pitfalls gets a short
"pitfall-lab" section next to its traceback (see pitfall_lab.explain). Other tests are left
alone, and nothing is imported until a test fails."""
from __future__ import annotations

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and call.excinfo is not None:
        from pitfall_lab import explain

        hint = explain.hint(report.longreprtext)
        if hint:
            report.sections.append(("pitfall-lab", hint))
