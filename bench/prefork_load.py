"""Benchmark a prefork_shared_connection variant under a heavier load, per server.

    python bench/prefork_load.py                                   # fix-dispose_after_fork, 2000 x 32
    python bench/prefork_load.py --variant repro-import_time_query --runs 20 --requests 200 --concurrency 16
    python bench/prefork_load.py --dburi postgresql+psycopg2://user@host/postgres

Each run: a fresh database, the server started from the variant's config (2 workers x 2 threads),
the echo load, then the server stopped. Prints per run and server: requests, ok, errors by kind,
wrong results (another request's value), exception lines the server logged, and the wall time.
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import load, servers, wsgi_servers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="fix-dispose_after_fork")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=3, help="per request, seconds")
    parser.add_argument("--dburi", help="an existing PostgreSQL server instead of a throwaway one")
    args = parser.parse_args()
    try:
        variant = scenario.load("prefork_shared_connection").variant(args.variant)
    except scenario.UnknownScenario as exc:
        print(f"prefork_load: {exc}", file=sys.stderr)
        return 2

    totals: dict[str, Counter] = {s: Counter() for s in wsgi_servers.SERVERS}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        tmp = Path(tmp)
        server_url = args.dburi or stack.enter_context(servers.postgresql())
        for run in range(1, args.runs + 1):
            for server in wsgi_servers.SERVERS:
                run_dir = tmp / f"{run}-{server}"
                run_dir.mkdir()
                with servers.fresh_database(server_url) as db:
                    app_dir = variant.copy_to(run_dir)
                    env = {"DATABASE_URL": db}
                    wsgi_servers.migrate(app_dir, env)
                    started = time.monotonic()
                    with wsgi_servers.serving(server, app_dir, env, run_dir / "server.log") as url:
                        report = load.echo(url, args.requests, args.concurrency, args.timeout)
                    wall = time.monotonic() - started
                logged = Counter(line.partition(":")[0] for line in
                                 wsgi_servers.logged_exceptions(run_dir / "server.log").elements())
                print(f"run {run} {server:<8} {report}; logged {dict(logged) or 'nothing'}; {wall:.1f}s",
                      flush=True)
                t = totals[server]
                t["runs"] += 1
                t["broken runs"] += bool(report.errors or report.wrong)
                t["errors"] += sum(report.errors.values())
                t["wrong"] += report.wrong
                for kind in logged:
                    t[f"runs logging {kind}"] += 1
    print(f"\n{variant}: {args.runs} run(s) of {args.requests} requests, {args.concurrency} at a time")
    for server, t in totals.items():
        print(f"  {server:<8} " + ", ".join(f"{k}: {v}" for k, v in t.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
