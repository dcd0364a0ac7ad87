"""What the lab's observers of a user's running code share (the doctor's probe, the pytest
plugin's gate, the runtime guard): the line of the user's own code on the current stack, and
what kind of statement a SQL string is."""
from __future__ import annotations

import os
import re
import sysconfig
import traceback

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|MERGE|UPSERT)\b", re.I)
DDL = re.compile(r"^\s*(CREATE|DROP|ALTER|TRUNCATE)\b", re.I)
_LIBRARIES = tuple({os.path.realpath(sysconfig.get_paths()[k])
                    for k in ("stdlib", "purelib", "platlib")})
_LAB = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))  # the pitfall_lab package


SUPPORTED = "1.4"  # the lowest SQLAlchemy they observe; pyproject.toml's [doctor] extra says it


def unsupported() -> str | None:
    """Why the observers cannot run in this environment, or None: they listen to events that
    SQLAlchemy 1.4 introduced (do_orm_execute, sqlalchemy.engine.create)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("sqlalchemy")
    except PackageNotFoundError:
        return "SQLAlchemy is not installed in this environment"
    if tuple(int(part) for part in found.split(".")[:2]) < tuple(map(int, SUPPORTED.split("."))):
        return ("the doctor, the guard and the gate observe SQLAlchemy 1.4 and later (they "
                f"support SQLAlchemy >={SUPPORTED}, as the [doctor] extra installs: pip install "
                "'flask-sqlalchemy-pitfall-lab[doctor]'; the lab's scenarios also run on "
                f"1.3.24); this environment has SQLAlchemy {found}")
    return None


def user_frame(frames=None, root: str | None = None):
    """The innermost frame of the user's code, as (filename, line): not Python's or a
    library's, not the lab's, and under ``root`` when one is given (then relative to it)."""
    for frame in reversed(frames if frames is not None else traceback.extract_stack()):
        if frame.filename.startswith("<"):  # <string>, <frozen ...>
            continue
        path = os.path.realpath(frame.filename)
        if path.startswith(_LIBRARIES) or path.startswith(_LAB) or "site-packages" in path:
            continue
        if root is None:
            return frame.filename, frame.lineno or 0
        if path.startswith(root + os.sep):
            return os.path.relpath(path, root), frame.lineno or 0
    return None
