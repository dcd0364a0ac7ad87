"""S12: the server ends a pooled connection (pg_terminate_backend, MariaDB KILL or its idle
timeout); the next request that gets it from the pool fails."""
import json

import pytest

from pitfall_lab import procs, scenario

S = scenario.load("stale_connection")

# Runs in a fresh interpreter next to the variant's app.py. Three requests; between the first
# and the second, an admin connection ends the app's pooled connection on the server side.
PROBE = """
import json, os, sys
import sqlalchemy as sa
from app import create_app, db

app = create_app()
app.testing = True  # a view's exception reaches the client
with app.app_context():
    db.create_all()
admin = sa.create_engine(os.environ["ADMIN_URL"], poolclass=sa.pool.NullPool,
                         isolation_level="AUTOCOMMIT")

def request():
    try:
        response = app.test_client().get("/accounts/count")
        return f"{response.status_code} {response.get_json()}"
    except Exception as exc:
        return f"{type(exc).__module__}.{type(exc).__name__}: {exc}".splitlines()[0]

def end_app_connections():
    with admin.connect() as con:
        if sys.argv[1] == "pg_terminate_backend":
            con.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        elif sys.argv[1] == "kill":
            for (pid,) in con.execute(sa.text("SELECT id FROM information_schema.processlist "
                                              "WHERE db = DATABASE() AND id <> CONNECTION_ID()")):
                con.execute(sa.text(f"KILL {pid}"))

answers = [request()]
end_app_connections()
answers += [request(), request()]
print(json.dumps(answers))
"""
BACKENDS = {
    "postgresql-psycopg2": "pg_terminate_backend",
    "postgresql-psycopg": "pg_terminate_backend",
}


@pytest.fixture(params=list(BACKENDS))
def backend(request, pg_database):
    """(database URL for the app, admin URL, how to end the app's connections)."""
    driver = request.param.partition("-")[2]
    url = pg_database.replace("postgresql+psycopg2://", f"postgresql+{driver}://", 1)
    return request.param, url, url, BACKENDS[request.param]


def three_requests(variant, tmp_path, backend) -> list[str]:
    _, url, admin_url, how = backend
    result = procs.python("-c", PROBE, how, cwd=variant.copy_to(tmp_path),
                          env={"DATABASE_URL": url, "ADMIN_URL": admin_url})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_the_request_after_the_kill_fails(variant, tmp_path, backend, observe):
    answers = observe(three_requests(variant, tmp_path, backend))
    assert answers == ["200 {'accounts': 0}", S.symptom(backend[0]), "200 {'accounts': 0}"]


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_pre_ping_serves_every_request(variant, tmp_path, backend, observe):
    assert observe(three_requests(variant, tmp_path, backend)) == ["200 {'accounts': 0}"] * 3
