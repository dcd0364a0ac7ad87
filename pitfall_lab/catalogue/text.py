"""Cutting an observed line to a width the way a reader can trust: at a word boundary, never
inside a URL or any other word, with an ellipsis where something was left out."""
from __future__ import annotations

ELLIPSIS = " …"


def shorten(line: str, width: int) -> str:
    """``line`` if it fits in ``width`` characters; else its words up to the last whole one that
    fits, then an ellipsis. A first word longer than ``width`` (a URL) is kept whole."""
    if len(line) <= width:
        return line
    cut = line.rfind(" ", 0, width - len(ELLIPSIS) + 1)
    if cut <= 0:
        first = line.split(" ", 1)
        return first[0] + (ELLIPSIS if len(first) > 1 else "")
    return line[:cut].rstrip() + ELLIPSIS
