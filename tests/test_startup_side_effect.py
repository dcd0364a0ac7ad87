"""S09: with the app loaded in every worker (the seed's chosen fix for S07), its import-time
work runs once per worker."""
import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import sql, wsgi_servers

S = scenario.load("startup_side_effect")


def start_logs_after_serving(variant, server, tmp_path, pg_database) -> str:
    report = wsgi_servers.under_load(server, variant.copy_to(tmp_path),
                                     {"DATABASE_URL": pg_database}, tmp_path / "server.log")
    assert (report.ok, report.wrong) == (200, 0), report
    rows = sql.scalar(pg_database, "SELECT count(*) FROM system_log "
                                   "WHERE description = 'server started'")
    return f"'server started' rows: {rows}"


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_every_worker_logs_the_start(variant, wsgi_server, tmp_path, pg_database, observe):
    assert observe(start_logs_after_serving(variant, wsgi_server, tmp_path, pg_database)) == \
        S.symptom("2 workers")


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_the_start_is_logged_once(variant, wsgi_server, tmp_path, pg_database, observe):
    assert observe(start_logs_after_serving(variant, wsgi_server, tmp_path, pg_database)) == \
        "'server started' rows: 1"
