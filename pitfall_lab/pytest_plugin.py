"""The lab's pytest plugin for a user's own suite, registered through the ``pytest11`` entry
point.

Always on, and free until a test fails: a failing test whose error matches one of the
catalogue's pitfalls gets a short "pitfall-lab" section next to its traceback
(pitfall_lab.explain).

With ``--pitfall-lab``, the suite's own runs gate on the pitfalls only a run can show:

- S10: a test that enqueues an ORM instance as an rq job argument fails, at the enqueue;
- S11: a test that leaves a Session in a failed transaction (a flush failed and nobody rolled
  back) gets an error at its teardown;
- S09: database writes or DDL while the test modules were being imported (the app's import-time
  work) are listed at the end, with the line of code that issued them, and fail the run.
"""
from __future__ import annotations

import os

import pytest


class PitfallError(AssertionError):
    """A pitfall caught in the act by ``--pitfall-lab``."""


def pytest_addoption(parser):
    parser.getgroup("pitfall-lab").addoption(
        "--pitfall-lab-guard", nargs="?", const="warn", choices=("warn", "strict"),
        help="install pitfall_lab.guard: warn (or, =strict, raise) when a pooled connection is "
             "used across a fork (S07, S07b) or a Session by two threads at once (S08)")
    parser.getgroup("pitfall-lab").addoption(
        "--pitfall-lab", action="store_true",
        help="fail on the catalogue's pitfalls as they happen: ORM instances as rq job arguments "
             "(S10), sessions left in a failed transaction (S11), database writes at import (S09)")


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
        try:
            from rq.job import Job
        except ImportError:  # no rq: nothing to watch
            return
        from sqlalchemy import inspect
        from sqlalchemy.orm import InstanceState

        create = Job.create.__func__

        def checked_create(cls, func, args=None, kwargs=None, *rest, **options):
            for value in [*(args or ()), *(kwargs or {}).values()]:
                if isinstance(inspect(value, raiseerr=False), InstanceState):
                    name = getattr(func, "__name__", func)
                    raise PitfallError(
                        f"S10 orm_object_job_arg: {name} is enqueued with a "
                        f"{type(value).__name__} instance, which reaches the job pickled and "
                        "detached; pass its id and load it in the job. See `pitfall-lab show "
                        "orm_object_job_arg`.")
            return create(cls, func, args, kwargs, *rest, **options)

        Job.create = classmethod(checked_create)

    def pytest_runtest_setup(self, item):
        self.importing = False

    @pytest.hookimpl(trylast=True)  # after the test's fixtures have been torn down
    def pytest_runtest_teardown(self, item):
        from sqlalchemy.orm import session as orm_session

        for session in list(getattr(orm_session, "_sessions", {}).values()):
            transaction = session.get_transaction()
            if transaction is not None and not transaction.is_active \
                    and id(session) not in self.reported:
                self.reported.add(id(session))
                pytest.fail(
                    "S11 poisoned_session_jobs: this test left a Session in a failed transaction "
                    "(a flush failed and nothing rolled it back); every later use of that session "
                    "raises PendingRollbackError. Roll back, or give each unit of work its own "
                    "session. See `pitfall-lab show poisoned_session_jobs`.", pytrace=False)

    def pytest_terminal_summary(self, terminalreporter):
        if self.import_writes:
            terminalreporter.section("pitfall-lab", sep="-")
            terminalreporter.line(
                f"S09 startup_side_effect: {len(self.import_writes)} database write(s) while the "
                "test modules were imported: once per worker process in production. See "
                "`pitfall-lab show startup_side_effect`.")
            for write in self.import_writes[:10]:
                terminalreporter.line(f"  {write}")

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session):
        if self.import_writes and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
