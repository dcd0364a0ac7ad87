"""Benchmark the lab itself against its floor: the fresh interpreters no run can skip.

    python bench/suite.py                        # floor, full suite (-n 0 and the default), ratios
    python bench/suite.py --floor                # only the floor (quick)
    python bench/suite.py -k reloader --runs 10  # `pytest -k reloader` as typed, ten times
    python bench/suite.py --each-scenario        # `pytest -k <id>` once per scenario, with ratios

Every scenario runs the user's code in fresh interpreters (apps, `flask` commands, cron scripts,
rq work horses, lazily loaded prefork workers), each importing Flask-SQLAlchemy. The floor of a
run is their number times one such import, divided by the cores; the benchmark counts them under
strace (distinct processes that open flask_sqlalchemy/__init__) and prints, per run:

- wall / floor: the goal is <= 1.3 for the full suite and <= 1.5 for one scenario (-k);
- parallel efficiency, CPU / (cores x wall): the goal is >= 0.85 for the full suite;
- the harness: the same command with every test deselected (pytest's start, its xdist workers
  and their collection), which the run pays before its first test and the floor does not count.
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs, runrecord, servers, wsgi_servers

ROOT = Path(__file__).resolve().parents[1]
CORES = os.cpu_count() or 1
OPENS_FLASK_SQLALCHEMY = re.compile(r'^(\d+) +openat\(.*/flask_sqlalchemy/(__init__\.py|__pycache__/'
                                    r'__init__\.)', re.M)


def timed(fn, repeat: int = 1) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def fresh_import() -> None:
    procs.python("-c", "import flask_sqlalchemy", cwd=ROOT)


def import_floor() -> float:
    """One fresh interpreter importing Flask-SQLAlchemy: the median of five, measured now (the
    machine's speed moves, so every ratio uses a floor measured just before its run)."""
    return statistics.median(timed(fresh_import, repeat=5))


def adopt_orphans() -> bool:
    """Become the subreaper of everything the run starts (Linux): a process whose parent dies
    first (a daemonized PostgreSQL, a prefork server's workers, an rq work horse) is then reaped
    here, and its CPU time counted, instead of by init, where it would be lost to the count."""
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0  # SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def reap_orphans(grace: float = 10.0) -> None:
    """Reap the adopted processes that have ended, waiting up to ``grace`` seconds for the
    last ones (the reapers exit once the run is gone)."""
    deadline = time.monotonic() + grace
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)


def pytest_run(args: list[str], expect: int = 0) -> tuple[float, float, dict]:
    """Run pytest with ``args`` as a user types them; its wall time, the CPU time of every
    process it started (see adopt_orphans), and its run record. A run that does not end with
    ``expect`` (a failing run) is no benchmark."""
    reap_orphans(grace=0)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    record = runrecord.run_pytest(["-q", *args], timeout=1800)
    wall = time.perf_counter() - started
    reap_orphans()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if record["exit_status"] != expect:
        sys.exit(f"bench: pytest {' '.join(args)} failed (exit {record['exit_status']}); "
                 "its time means nothing")
    return wall, cpu, record


def interpreters(args: list[str]) -> int | None:
    """How many fresh interpreters import Flask-SQLAlchemy in ``pytest args`` (one run under
    strace, which slows it: only the count is used)."""
    strace = shutil.which("strace")
    if not strace:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "trace"
        runrecord.run_pytest(["-q", *args], timeout=1800, launcher=[
            strace, "-f", "-qq", "-e", "trace=openat", "-e", "signal=none", "-o", str(trace)])
        reap_orphans()
        return len({pid for pid, _ in OPENS_FLASK_SQLALCHEMY.findall(trace.read_text())})


def harness(wall: float, count: int | None, floor: float,
            expression: str = "lab_harness_only") -> str:
    """`pytest -k EXPRESSION` with every test deselected (the same start and collection, no
    test: pytest exits 5), and what the tests add to it against their floor."""
    alone, cpu, _ = pytest_run(["-k", f"({expression}) and not ({expression})"], expect=5)
    line = f"harness alone (the same command, no test selected): wall {alone:.1f}s, CPU {cpu:.1f}s"
    if count:
        added = wall - alone
        line += f"; the tests add {added:.1f}s, {added / (count * floor / CORES):.2f}x the floor"
    return line


def ratios(label: str, wall: float, cpu: float, count: int | None, floor: float) -> str:
    line = f"{label}: wall {wall:.1f}s, CPU {cpu:.1f}s, parallel efficiency {cpu / (CORES * wall):.0%}"
    if count is None:
        return line + " (install strace to count interpreters for the floor)"
    if count == 0:
        return line + " (no interpreter imports Flask-SQLAlchemy: no floor)"
    bound = count * floor / CORES
    return line + (f"; {count} interpreters x {floor:.2f}s / {CORES} cores = floor {bound:.1f}s, "
                   f"wall/floor {wall / bound:.2f}")


def servers_floor() -> dict[str, list[float]]:
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)

        def postgres():
            with servers.postgresql():
                pass
        out["PostgreSQL (embedded) initdb + start + stop"] = timed(postgres, repeat=3)

        def redis():
            with servers.redis(tmp / f"redis{time.monotonic_ns()}"):
                pass
        out["Redis start until ready, stop"] = timed(redis, repeat=3)

        if servers.executable("mariadbd"):
            def mariadb():
                with servers.mariadb(tmp / f"maria{time.monotonic_ns()}"):
                    pass
            out["MariaDB install-db + start + stop"] = timed(mariadb, repeat=2)

        app = scenario.load("prefork_shared_connection").variant("fix-lazy_apps")
        with servers.postgresql() as url:
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
    return out


def selection(expression: str, runs: int) -> None:
    """Time `pytest -k EXPRESSION` as a user types it, against its own floor."""
    count = interpreters(["-k", expression])
    walls = []
    for _ in range(runs):
        floor = import_floor()
        wall, cpu, _ = pytest_run(["-k", expression])
        walls.append(wall)
        print("  " + ratios(f"pytest -k {expression}", wall, cpu, count, floor))
        print("    " + harness(wall, count, floor, expression))
    print(f"pytest -k {expression!r}, {runs} runs: min {min(walls):.2f}s, "
          f"median {statistics.median(walls):.2f}s, max {max(walls):.2f}s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--floor", action="store_true", help="only measure the floor")
    parser.add_argument("-k", dest="expression", help="only time `pytest -k EXPRESSION`")
    parser.add_argument("--runs", type=int, default=3, help="with -k: how many times")
    parser.add_argument("--each-scenario", action="store_true",
                        help="time `pytest -k <scenario>` once for every scenario")
    args = parser.parse_args()
    if not adopt_orphans():
        print("note: not a subreaper here; CPU counts only the processes pytest waited for")
    if args.expression:
        selection(args.expression, args.runs)
        return 0
    if args.each_scenario:
        for sid in scenario.load_all():
            selection(sid, 1)
        return 0
    print("floor (min / median of the repeats):")
    print(f"  {import_floor():6.2f}s median  python -c 'import flask_sqlalchemy' (fresh interpreter)")
    for name, times in servers_floor().items():
        print(f"  {min(times):6.2f}s / {statistics.median(times):6.2f}s  {name}")
    if args.floor:
        return 0
    count = interpreters([])
    wall0, cpu0, serial = pytest_run(["-n", "0"])
    print(ratios("full suite, -n 0", wall0, cpu0, count, import_floor()))
    wall, cpu, _ = pytest_run([])
    floor = import_floor()
    print(ratios("full suite, as the README runs it", wall, cpu, count, floor))
    print("  " + harness(wall, count, floor))
    per = defaultdict(float)
    for row in serial["tests"]:
        per[row["nodeid"].split("::")[0].rpartition("/")[2]] += row["duration"]
    print("time per test module at -n 0 (sum of its tests' setup, call and teardown):")
    for module, seconds in sorted(per.items(), key=lambda kv: -kv[1]):
        print(f"  {seconds:6.1f}s  {module}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
