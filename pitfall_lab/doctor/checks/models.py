"""SQLAlchemy instances and their declarative bases, as the app loaded them."""
from __future__ import annotations

import re

from pitfall_lab.doctor.checks._common import (FOUND, NOT_FOUND, Check, Result, Seen, at,
                                               register, where)

_QUERY = re.compile(r"\b[A-Z]\w*\.query\b")


@register(needs={"load", "source"}, base="S05")
def declarative_bases(seen: Seen, base: Check) -> list[Result]:
    """Two instances sharing a base is the mechanism; Model.query is what goes through the
    wrong one. Without a Model.query in the source, the shared base is said, not flagged."""
    instances = seen.load["instances"]
    queries = [f"{rel}:{n}" for rel, text in seen.project.sources.items()
               for n, line in enumerate(text.splitlines(), 1) if _QUERY.search(line)]
    for key in ("model", "metadata", "registry"):
        first: dict[int, dict] = {}
        for inst in instances:
            other = first.setdefault(inst[key], inst)
            if other is not inst and inst[key] != id(None):
                pair = f"{where(at(other['at']))} and {where(at(inst['at']))}"
                if not queries:
                    return [Result(base, NOT_FOUND, f"two SQLAlchemy instances share one "
                                                    f"{key} ({pair}), but no Model.query uses it")]
                return [Result(base, FOUND, f"two SQLAlchemy instances share one {key}, and "
                                            f"Model.query picks one of their sessions",
                               [pair, f"Model.query at {', '.join(queries[:3])}"],
                               at(inst["at"]))]
    return [Result(base, NOT_FOUND, f"{len(instances)} SQLAlchemy instance(s), each with its "
                                    "own base")]
