"""What the check modules share: the verdicts, the result type, and where a finding points."""
from __future__ import annotations

from pitfall_lab.doctor.registry import (COULD_NOT, FOUND, NOT_APPLICABLE, NOT_FOUND,  # noqa: F401
                                         Check, Result, Seen, register)


def at(frame) -> tuple[str, int] | None:
    return (frame[0], frame[1]) if frame else None


def where(loc) -> str:
    return f"{loc[0]}:{loc[1]}" if loc else "(no line of the project's code)"
