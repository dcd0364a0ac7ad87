"""The lab's pytest plugin for a user's own suite, registered through the ``pytest11`` entry
point.

Always on, and free until a test fails: a failing test whose error matches one of the
catalogue's pitfalls gets a short "pitfall-lab" section next to its traceback
(pitfall_lab.explain).

With ``--pitfall-lab``, the suite's own runs gate on the pitfalls only a run can show:

- a test that enqueues an ORM instance as an rq job argument, or sends one to a Celery task
  (``delay``, ``apply_async``), fails at that call;
- a test that leaves a Session in a failed transaction (a flush failed and nobody rolled back)
  gets an error at its teardown;
- database writes or DDL while the test modules were being imported (the app's import-time
  work) are listed at the end, with the line of code that issued them, and fail the run.

What each of them detects, and the scenario it names, is ``pitfall_lab.guard.detectors``; the
texts are the scenarios' metadata.
"""
from __future__ import annotations

import os

import pytest


class PitfallError(AssertionError):
    """A pitfall caught in the act by ``--pitfall-lab``."""


def pytest_addoption(parser):
    from pitfall_lab.guard import detectors

    parser.getgroup("pitfall-lab").addoption(
        "--pitfall-lab-guard", nargs="?", const="warn", choices=("warn", "strict"),
        help="install pitfall_lab.guard: warn (or, =strict, raise) when a pooled connection is "
             "used across a fork or a Session by two threads at once "
             f"({', '.join(detectors.codes('guard'))})")
    parser.getgroup("pitfall-lab").addoption(
        "--pitfall-lab", action="store_true",
        help="fail on the catalogue's pitfalls as they happen: ORM instances as rq job arguments, "
             "sessions left in a failed transaction, database writes at import "
             f"({', '.join(detectors.codes('plugin'))})")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and call.excinfo is not None:
        from pitfall_lab import explain
        from pitfall_lab.harness import procs

        if call.excinfo.errisinstance(procs.HarnessError):  # the lab's machinery, no pitfall
            return

        hint = explain.hint(report.longreprtext)
        if hint:
            report.sections.append(("pitfall-lab", hint))


def pytest_configure(config):
    guard = config.getoption("--pitfall-lab-guard", default=None)
    if guard or config.getoption("--pitfall-lab", default=False):
        from pitfall_lab.guard import observe

        problem = observe.unsupported()
        if problem:
            raise pytest.UsageError(f"pitfall-lab: {problem}")
    if guard:
        from pitfall_lab import guard as lab_guard

        lab_guard.install(strict=guard == "strict")
    if config.getoption("--pitfall-lab", default=False):
        config.pluginmanager.register(Gate(config.rootpath), "pitfall-lab-gate")


class Gate:
    def __init__(self, root):
        self.root = os.path.realpath(str(root))
        self.importing = True  # until the first test starts: collection imports the modules
        self.import_writes: list[str] = []
        self.reported: set[int] = set()
        self._watch_statements()
        self._watch_enqueues()

    def _where(self) -> str:
        from pitfall_lab.guard import observe

        found = observe.user_frame(root=self.root)
        return f"{found[0]}:{found[1]}" if found else "(no line of the project's code)"

    def _watch_statements(self):
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        from pitfall_lab.guard import observe

        @event.listens_for(Engine, "before_cursor_execute")
        def statement(conn, cursor, sql, params, context, executemany):
            if self.importing and (observe.WRITE.match(sql) or observe.DDL.match(sql)):
                self.import_writes.append(f"{self._where()}: {' '.join(sql.split())[:120]}")

    def _watch_enqueues(self):
        from pitfall_lab.guard import detectors

        try:
            from rq.job import Job
        except ImportError:  # no rq: nothing to watch
            pass
        else:
            create = Job.create.__func__

            def checked_create(cls, func, args=None, kwargs=None, *rest, **options):
                finding = detectors.orm_instance_as_job_argument(func, args, kwargs)
                if finding:
                    raise PitfallError(finding.message)
                return create(cls, func, args, kwargs, *rest, **options)

            Job.create = classmethod(checked_create)
        try:
            from celery.app.task import Task
        except ImportError:  # no Celery: nothing to watch
            return
        apply_async = Task.apply_async  # delay() calls it too

        def checked_apply_async(task, args=None, kwargs=None, *rest, **options):
            finding = detectors.orm_instance_as_job_argument(task, args, kwargs, queue="celery")
            if finding:
                raise PitfallError(finding.message)
            return apply_async(task, args, kwargs, *rest, **options)

        Task.apply_async = checked_apply_async

    def pytest_runtest_setup(self, item):
        self.importing = False

    @pytest.hookimpl(trylast=True)  # after the test's fixtures have been torn down
    def pytest_runtest_teardown(self, item):
        from sqlalchemy.orm import session as orm_session

        from pitfall_lab.guard import detectors

        for session in list(getattr(orm_session, "_sessions", {}).values()):
            finding = detectors.session_left_failed(session)
            if finding and finding.key not in self.reported:
                self.reported.add(finding.key)
                pytest.fail(finding.message, pytrace=False)

    def pytest_terminal_summary(self, terminalreporter):
        from pitfall_lab.guard import detectors

        finding = detectors.writes_at_import(self.import_writes)
        if finding:
            terminalreporter.section("pitfall-lab", sep="-")
            terminalreporter.line(finding.message)
            for write in self.import_writes[:10]:
                terminalreporter.line(f"  {write}")

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session):
        if self.import_writes and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
