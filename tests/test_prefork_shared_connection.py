"""S07: the app queries the database at import; a prefork server loads it once and forks, and
every worker inherits the same pooled PostgreSQL connection. Real uWSGI and gunicorn, 2 workers
x 2 threads, under a bounded concurrent load on loopback."""
from collections import Counter

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import load, wsgi_servers

S = scenario.load("prefork_shared_connection")


def serve_under_load(variant, server, tmp_path, pg_database) -> tuple[load.Report, Counter]:
    """Run 200 echo requests, 16 at a time; return the load report and the exception lines
    the server logged, counted. A request that waits on a connection another worker took over
    is never answered: the repros give up on it after a second."""
    log = tmp_path / "server.log"
    report = wsgi_servers.under_load(server, variant.copy_to(tmp_path),
                                     {"DATABASE_URL": pg_database}, log,
                                     timeout=1 if variant.kind == "repro" else 3)
    return report, wsgi_servers.logged_exceptions(log)


def describe(report, logged) -> str:
    lines = [str(report)] + [f"  logged x{n}: {line}" for line, n in sorted(logged.items())]
    return "\n".join(lines)


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_workers_share_one_connection(variant, wsgi_server, tmp_path, pg_database, observe):
    report, logged = serve_under_load(variant, wsgi_server, tmp_path, pg_database)
    observed = observe(describe(report, logged))
    declared = S.symptom("logged by the server", variant=variant, wsgi_server=wsgi_server)
    if not S.affected("logged by the server", variant=variant, wsgi_server=wsgi_server):
        assert observed == declared
        return
    assert sum(report.errors.values()) + report.wrong > 0
    for line in declared.splitlines():
        assert logged[line] > 0, line


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_each_worker_has_its_own_connections(variant, wsgi_server, tmp_path, pg_database,
                                             observe):
    report, logged = serve_under_load(variant, wsgi_server, tmp_path, pg_database)
    observe(describe(report, logged))
    assert (report.ok, report.wrong, sum(report.errors.values())) == (200, 0, 0)
    assert logged == Counter()
