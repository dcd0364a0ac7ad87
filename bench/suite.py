"""Benchmark the lab itself: the whole suite at -n 0 and -n 2, the time per scenario, and the
floor no test run can beat (a fresh interpreter importing Flask-SQLAlchemy; each server's
start-up).

    python bench/suite.py                        # everything
    python bench/suite.py --floor                # only the floor (quick)
    python bench/suite.py -k reloader --runs 10  # `pytest -k reloader` (-n auto) ten times
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from pitfall_lab import procs, scenario, servers, wsgi_servers

ROOT = Path(__file__).resolve().parents[1]


def timed(fn, repeat: int = 1) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def fresh_import() -> None:
    procs.python("-c", "import flask_sqlalchemy", cwd=ROOT)


def suite(workers: str, record: Path) -> float:
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", workers,
                          f"--lab-json={record}"], cwd=ROOT, capture_output=True, text=True,
                         timeout=1800)
    wall = time.perf_counter() - started
    summary = run.stdout.strip().splitlines()[-1:] or ["(no output)"]
    if run.returncode != 0:
        sys.exit(f"bench: the suite failed at -n {workers}, its time means nothing: {summary[0]}")
    print(f"  -n {workers}: {summary[0]}")
    return wall


def floor() -> dict[str, list[float]]:
    out = {"python -c 'import flask_sqlalchemy' (fresh interpreter)": timed(fresh_import,
                                                                          repeat=10)}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)

        def postgres():
            servers.embedded_postgresql(tmp / f"pg{time.monotonic_ns()}").cleanup()
        out["PostgreSQL (embedded) initdb + start + stop"] = timed(postgres, repeat=3)

        def redis():
            proc = procs.LiveProcess([servers.redis_executable(), "--port", str(procs.free_port()),
                                      "--save", ""], cwd=tmp)
            proc.wait_for_log("Ready to accept connections")
            proc.stop()
        out["Redis start until ready"] = timed(redis, repeat=5)

        if servers.executable("mariadbd"):
            def mariadb():
                with servers.mariadb(tmp / f"maria{time.monotonic_ns()}"):
                    pass
            out["MariaDB install-db + start + stop"] = timed(mariadb, repeat=2)

        app = scenario.load("prefork_shared_connection").variant("fix-lazy_apps")
        pg = servers.embedded_postgresql(tmp / "pg")
        url = pg.get_uri().replace("postgresql://", "postgresql+psycopg2://", 1)
        try:
            for server in wsgi_servers.SERVERS:
                def serve():
                    with servers.fresh_database(url) as db:
                        run = tmp / f"{server}{time.monotonic_ns()}"
                        run.mkdir()
                        app_dir = app.copy_to(run)
                        wsgi_servers.migrate(app_dir, {"DATABASE_URL": db})
                        with wsgi_servers.serving(server, app_dir, {"DATABASE_URL": db},
                                                  run / "log"):
                            pass
                out[f"{server} start until it answers HTTP, then stop"] = timed(serve, repeat=3)
        finally:
            pg.cleanup()
    return out


def selection(expression: str, runs: int) -> None:
    """Time `pytest -k EXPRESSION` as a user types it, next to the interpreter floor measured
    just before each run: on a shared machine the floor itself moves."""
    walls, floors = [], []
    for _ in range(runs):
        floors.append(statistics.median(timed(fresh_import, repeat=3)))
        started = time.perf_counter()
        run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-k", expression], cwd=ROOT,
                             capture_output=True, text=True, timeout=600)
        walls.append(time.perf_counter() - started)
        if run.returncode != 0:
            sys.exit(f"bench: pytest -k {expression!r} failed: {run.stdout.strip()[-300:]}")
        print(f"  {walls[-1]:5.2f}s  (floor just before: {floors[-1]:.2f}s)")
    print(f"pytest -k {expression!r}, {runs} runs: min {min(walls):.2f}s, "
          f"median {statistics.median(walls):.2f}s, max {max(walls):.2f}s; "
          f"under 5 s in {sum(w < 5 for w in walls)}/{runs}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--floor", action="store_true", help="only measure the floor")
    parser.add_argument("-k", dest="expression", help="only time `pytest -k EXPRESSION`")
    parser.add_argument("--runs", type=int, default=10, help="with -k: how many times")
    args = parser.parse_args()
    if args.expression:
        selection(args.expression, args.runs)
        return 0
    print("floor (min / median of the repeats):")
    for name, times in floor().items():
        print(f"  {min(times):6.2f}s / {statistics.median(times):6.2f}s  {name}")
    if args.floor:
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        serial, parallel = Path(tmp) / "n0.json", Path(tmp) / "n2.json"
        wall0, wall2 = suite("0", serial), suite("2", parallel)
        print(f"\nfull suite: -n 0 {wall0:.1f}s, -n 2 {wall2:.1f}s, speed-up {wall0 / wall2:.2f}x")
        per = defaultdict(float)
        for row in json.loads(serial.read_text())["tests"]:
            per[row["nodeid"].split("::")[0].rpartition("/")[2]] += row["duration"]
        print("time per test module at -n 0 (sum of its tests' setup, call and teardown):")
        for module, seconds in sorted(per.items(), key=lambda kv: -kv[1]):
            print(f"  {seconds:6.1f}s  {module}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
