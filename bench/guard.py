"""The cost of pitfall_lab.guard: per pooled connection checkout and per session operation,
off and on, in one process (SQLite in memory, so that the database costs next to nothing).

    python bench/guard.py            # 20,000 of each, best of 5
"""
from __future__ import annotations

import argparse
import sys
import time


def per_op(fn, n: int, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, time.perf_counter() - started)
    return best / n * 1e6  # microseconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20_000)
    args = parser.parse_args()
    from sqlalchemy import create_engine, select, text
    from sqlalchemy.orm import Session
    from sqlalchemy.pool import QueuePool

    from pitfall_lab import guard

    engine = create_engine("sqlite://", poolclass=QueuePool)
    session = Session(engine)

    def checkout():
        engine.connect().close()

    def session_op():
        session.execute(select(text("1"))).scalar()

    off = per_op(checkout, args.n), per_op(session_op, args.n)
    guard.install()
    engine.dispose()  # connections stamped by the guard from here on
    on = per_op(checkout, args.n), per_op(session_op, args.n)
    for name, before, after in (("connection checkout + checkin", off[0], on[0]),
                                ("session.execute(select 1)", off[1], on[1])):
        print(f"{name}: off {before:.1f} us, on {after:.1f} us, "
              f"+{after - before:.1f} us ({(after - before) / before:+.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
