"""The runtime detectors: the pitfalls the guard catches in a user's running process and the
pytest plugin's ``--pitfall-lab`` gate catches in a user's test suite, as they happen.

Each detector is a function registered with :func:`register`, which names the scenario codes it
detects (by role: the function returns the role it saw) and the values its message is rendered
with. What it says is the scenario's own metadata, ``[guard]`` or ``[plugin]`` in
``scenarios/<id>.toml`` (``message`` with those {values}, and ``fix``), read only when a
detector fires. The registration lines below are the only places in the package that name the
scenarios a detector catches.

Runs inside a user's process: imports the catalogue only to render a message, SQLAlchemy only
inside the detectors that look at its objects.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Callable

TOOLS = ("guard", "plugin")


@dataclass(frozen=True)
class Detector:
    name: str
    tool: str  # "guard" (its warning: [guard]) or "plugin" (the gate's failure: [plugin])
    roles: tuple[tuple[str, str], ...]  # (what the function returns when it fires, code)
    values: tuple[str, ...]  # the fields its message is rendered with


@dataclass(frozen=True)
class Finding:
    detector: Detector
    code: str
    values: dict = field(hash=False)
    key: object = None  # the same key is reported once

    @property
    def message(self) -> str:
        return render(self.detector.tool, self.code, self.values)


REGISTRY: list[Detector] = []


def register(tool: str, *, values: tuple[str, ...] = (), **roles: str):
    """``@register("guard", values=("pid",), server="<code>")``: the function returns None, or
    (role, values, key) when it catches the pitfall; the registered function returns a
    :class:`Finding` (or None)."""
    if tool not in TOOLS or not roles:
        raise ValueError(f"register: a tool ({', '.join(TOOLS)}) and the scenario code(s)")

    def decorate(function: Callable) -> Callable[..., Finding | None]:
        detector = Detector(function.__name__, tool, tuple(roles.items()), tuple(values))
        REGISTRY.append(detector)

        def detect(*args, **kwargs) -> Finding | None:
            hit = function(*args, **kwargs)
            if hit is None:
                return None
            role, seen, key = hit
            return Finding(detector, roles[role], seen, key)
        detect.detector = detector
        detect.__name__ = detect.__qualname__ = function.__name__
        detect.__doc__ = function.__doc__
        return detect
    return decorate


def render(tool: str, code: str, values: dict) -> str:
    """``<code> <id>: <message>. Fix: <fix>. See `pitfall-lab show <id>`.`` from the scenario's
    [guard] or [plugin] table. A catalogue that cannot be read still gets the code and what was
    seen: this runs inside the user's process, where an error of its own would hide theirs."""
    try:
        from pitfall_lab.catalogue import scenario

        s = scenario.load(code)
        alert = getattr(s, tool)
        text = alert.message.format(**values)
    except Exception as exc:  # noqa: BLE001
        return (f"{code}: {', '.join(f'{k}={v}' for k, v in values.items())} "
                f"(pitfall-lab could not read this pitfall's [{tool}] text: {exc})")
    fix = f" Fix: {alert.fix}." if alert.fix else ""
    return f"{s.code} {s.id}: {text}.{fix} See `pitfall-lab show {s.id}`."


def codes(tool: str) -> list[str]:
    return [code for d in REGISTRY if d.tool == tool for _, code in d.roles]


# The guard: in the user's process.

@register("guard", values=("pid", "opened_by"), server="S07", sqlite="S07b", celery="S19")
def connection_crossed_fork(info: dict):
    """A pooled connection used in a process other than the one that opened it (the pool's
    connection record ``info``, stamped by the guard when the connection was made): in a
    Celery prefork pool child, a server's worker, or any forked process."""
    opened_by = info.get("pitfall_lab_pid")
    if opened_by is not None and opened_by != os.getpid():
        role = "sqlite" if info.get("pitfall_lab_sqlite") else \
            "celery" if _celery_pool_child() else "server"
        return role, {"pid": os.getpid(), "opened_by": opened_by}, (os.getpid(), id(info))
    return None


def _celery_pool_child() -> bool:
    """This process is a child of Celery's prefork pool (billiard names them ForkPoolWorker-N)."""
    import sys

    process = sys.modules.get("billiard.process")
    return process is not None and process.current_process().name.startswith("ForkPoolWorker")


@register("guard", values=("thread", "owner"), threads="S08")
def session_used_by_two_threads(session):
    """A Session used by a thread while another thread is in a transaction on it."""
    owner = session.info.get("pitfall_lab_thread")
    if owner is not None and owner != threading.get_ident():
        return ("threads", {"thread": threading.get_ident(), "owner": owner},
                (os.getpid(), id(session), threading.get_ident()))
    return None


# The plugin's gate: in the user's test suite.

@register("plugin", values=("function", "model"), argument="S10", task="S18")
def orm_instance_as_job_argument(func, args, kwargs, queue: str = "rq"):
    """An ORM instance among the arguments an rq job is created with, or a Celery task is sent
    with (``queue="celery"``)."""
    from sqlalchemy import inspect
    from sqlalchemy.orm import InstanceState

    for value in [*(args or ()), *(kwargs or {}).values()]:
        if isinstance(inspect(value, raiseerr=False), InstanceState):
            name = getattr(func, "__name__", None) or getattr(func, "name", None) or func
            return ("task" if queue == "celery" else "argument",
                    {"function": str(name).rsplit(".", 1)[-1], "model": type(value).__name__},
                    None)
    return None


@register("plugin", failed="S11")
def session_left_failed(session):
    """A Session whose transaction failed (a flush raised) and was never rolled back."""
    transaction = session.get_transaction()
    if transaction is not None and not transaction.is_active:
        return "failed", {}, id(session)
    return None


@register("plugin", values=("count",), startup="S09")
def writes_at_import(writes: list):
    """Database writes or DDL while the test modules were imported."""
    return ("startup", {"count": len(writes)}, None) if writes else None
