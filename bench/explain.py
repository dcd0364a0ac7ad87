"""Benchmark `pitfall-lab explain` as a user runs it: a fresh process, start-up included, on a
200-line traceback (the goal: at most 0.2 s of wall time), and what it imports.

    python bench/explain.py            # 20 runs
    python bench/explain.py --runs 50
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRAME = '''  File "/srv/app/venv/lib/python3.11/site-packages/sqlalchemy/engine/base.py", line {n}, in _execute_context
    self.dialect.do_execute(cursor, statement, parameters, context)
'''


def long_traceback(lines: int = 200) -> str:
    """A deep traceback of about ``lines`` lines ending in a PendingRollbackError (S11)."""
    head = "Traceback (most recent call last):\n"
    tail = ("sqlalchemy.exc.PendingRollbackError: This Session's transaction has been rolled back "
            "due to a previous exception during flush. To begin a new transaction with this "
            "Session, first issue Session.rollback(). Original exception was: (psycopg2.errors."
            "UniqueViolation) duplicate key value violates unique constraint \"contact_email_key\"\n"
            "12:40:03 Worker rq:worker:4f2a1c: job failed\n")
    frames = "".join(FRAME.format(n=1000 + i) for i in range((lines - 3) // 2))
    return head + frames + tail


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    exe = Path(sys.executable).parent / "pitfall-lab"
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as trace:
        trace.write(long_traceback())
        trace.flush()
        lines = len(Path(trace.name).read_text().splitlines())
        walls = []
        for _ in range(args.runs):
            started = time.perf_counter()
            run = subprocess.run([str(exe), "explain", trace.name], capture_output=True, text=True,
                                 timeout=30)
            walls.append(time.perf_counter() - started)
            if run.returncode != 0 or "S11" not in run.stdout:
                sys.exit(f"bench: explain did not find S11 (exit {run.returncode})")
        probe = subprocess.run(
            [sys.executable, "-c", "import sys\nfrom pitfall_lab import cli\n"
             f"sys.argv = ['pitfall-lab', 'explain', {trace.name!r}]\n"
             "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in ('flask', 'sqlalchemy', 'flask_sqlalchemy', 'werkzeug') "
             "if m in sys.modules))"], capture_output=True, text=True, timeout=30)
    print(f"pitfall-lab explain, {lines}-line traceback, {args.runs} runs (fresh process each): "
          f"min {min(walls):.3f}s, median {statistics.median(walls):.3f}s, "
          f"max {max(walls):.3f}s; under 0.2 s in {sum(w <= 0.2 for w in walls)}/{args.runs}")
    print(f"imported of Flask, SQLAlchemy, Flask-SQLAlchemy, Werkzeug: "
          f"{probe.stdout.strip().splitlines()[-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
