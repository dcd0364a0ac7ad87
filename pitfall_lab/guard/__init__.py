"""A runtime guard for the pitfalls that show only in the deployed process, the warning
SQLAlchemy does not give (pymongo's "MongoClient opened before fork" is the model):

- a pooled connection used in a process other than the one that opened it (a worker forked by
  a preloading server, a work horse forked by rq, a Celery prefork pool child, os.fork in a
  script);
- one Session used by two threads at the same time.

``guard.detectors`` holds what it detects, each detector registered with the scenarios it
catches; the warnings' texts are those scenarios' metadata.

Turn it on in the app with one call, ``pitfall_lab.guard.install()`` (``strict=True`` raises
:class:`PitfallError` instead of warning); in a test suite with ``pytest --pitfall-lab-guard``
(``=strict``); or, without touching the code, with ``PITFALL_LAB_GUARD=1`` (or ``strict``) and
the folder ``python -m pitfall_lab.guard`` prints on PYTHONPATH: its sitecustomize installs the
guard in every interpreter that starts, a server's workers included. Off, it changes nothing:
no listener is installed.

May import the catalogue, ``guard.observe`` (what the guard, the plugin's gate and the
doctor's probe share) and ``guard.detectors``; it runs inside a user's process, so it imports
nothing it does not use (the catalogue only when it warns).
"""
from __future__ import annotations

import os
import sys
import threading
import warnings

from pitfall_lab.guard import detectors, observe

ENV = "PITFALL_LAB_GUARD"
_HERE = os.path.dirname(os.path.realpath(__file__))
_state = {"installed": False, "strict": False, "seen": set()}


class PitfallWarning(RuntimeWarning):
    pass


class PitfallError(RuntimeError):
    pass


def _report(finding: detectors.Finding | None) -> None:
    if finding is None or finding.key in _state["seen"]:
        return  # once per connection or session and process: a warning, not a flood
    _state["seen"].add(finding.key)
    message = finding.message
    if _state["strict"]:
        raise PitfallError(message)
    filename, lineno = observe.user_frame() or ("<unknown>", 0)
    warnings.warn_explicit(PitfallWarning(message), PitfallWarning, filename, lineno)


def _stamp(dbapi_connection, connection_record):
    connection_record.info["pitfall_lab_pid"] = os.getpid()
    connection_record.info["pitfall_lab_sqlite"] = \
        type(dbapi_connection).__module__.startswith("sqlite3")


def _on_checkout(dbapi_connection, connection_record, proxy):
    _report(detectors.connection_crossed_fork(connection_record.info))


def _on_execute(conn, cursor, statement, parameters, context, executemany):
    # A connection checked out before the fork is used without a new checkout: the statement
    # is where that shows.
    _report(detectors.connection_crossed_fork(conn.connection.info))


def _on_transaction_create(session, transaction):
    if transaction.parent is None:
        session.info["pitfall_lab_thread"] = threading.get_ident()


def _on_transaction_end(session, transaction):
    if transaction.parent is None:
        session.info.pop("pitfall_lab_thread", None)


def _check_thread(session) -> None:
    _report(detectors.session_used_by_two_threads(session))


def _on_orm_execute(state):
    _check_thread(state.session)


def _on_flush(session, flush_context, instances):
    _check_thread(session)


def _on_attach(session, instance):
    # session.add() in the second thread: the first use SQLAlchemy lets through before its own
    # state checks refuse a commit() that overlaps another thread's.
    _check_thread(session)


def install(strict: bool = False) -> None:
    """Turn the guard on in this process (and the processes it forks); RuntimeError where
    SQLAlchemy is too old to observe."""
    problem = observe.unsupported()
    if problem:
        raise RuntimeError(problem)
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session
    from sqlalchemy.pool import Pool

    _state["strict"] = strict
    if _state["installed"]:
        return
    _state["installed"] = True
    event.listen(Pool, "connect", _stamp)
    event.listen(Pool, "checkout", _on_checkout)
    event.listen(Engine, "before_cursor_execute", _on_execute)
    event.listen(Session, "after_transaction_create", _on_transaction_create)
    event.listen(Session, "after_transaction_end", _on_transaction_end)
    event.listen(Session, "before_flush", _on_flush)
    event.listen(Session, "do_orm_execute", _on_orm_execute)
    event.listen(Session, "before_attach", _on_attach)


def install_from_env() -> bool:
    """Install when PITFALL_LAB_GUARD is 1/true/yes (warn) or strict; otherwise do nothing."""
    value = os.environ.get(ENV, "").strip().lower()
    if value in ("1", "true", "yes", "warn", "strict"):
        problem = observe.unsupported()
        if problem:
            print(f"pitfall-lab guard: off: {problem}", file=sys.stderr)
            return False
        install(strict=value == "strict")
        return True
    return False


def autostart_path() -> str:
    """A folder whose sitecustomize.py runs install_from_env() in every interpreter that has it
    on PYTHONPATH: the way to reach a server's workers without touching the app."""
    return os.path.join(_HERE, "_autostart")

