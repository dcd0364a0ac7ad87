"""S12: the server ends a pooled connection (pg_terminate_backend, MariaDB KILL or its idle
timeout); the next request that gets it from the pool fails."""
import json

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs

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
        else:
            app_connections = sa.text("SELECT id FROM information_schema.processlist "
                                      "WHERE db = DATABASE() AND id <> CONNECTION_ID()")
            if sys.argv[1] == "kill":
                for (pid,) in con.execute(app_connections):
                    con.execute(sa.text(f"KILL {pid}"))
            else:  # wait_timeout: the server closes the idle connection by itself; see it go
                for _ in range(200):
                    if not con.execute(app_connections).fetchall():
                        break
                    con.execute(sa.text("DO SLEEP(0.05)"))

answers = [request()]
end_app_connections()
answers += [request(), request()]
print(json.dumps(answers))
"""
BACKENDS = ["postgresql-psycopg2", "postgresql-psycopg", "mariadb-kill", "mariadb-wait_timeout"]


@pytest.fixture(params=BACKENDS)
def backend(request):
    """(name, database URL for the app, admin URL, how the app's connections end)."""
    name = request.param
    if name.startswith("postgresql"):
        url = request.getfixturevalue("pg_database")
        url = url.replace("postgresql+psycopg2://", f"postgresql+{name.partition('-')[2]}://", 1)
        return name, url, url, "pg_terminate_backend"
    url = request.getfixturevalue("mariadb_database")
    how = name.partition("-")[2]
    # The server default is 8 hours of idleness; the app's sessions get one second here.
    app_url = f"{url}?init_command=SET+SESSION+wait_timeout%3D1" if how == "wait_timeout" else url
    return name, app_url, url, how


def three_requests(variant, tmp_path, backend) -> list[str]:
    _, url, admin_url, how = backend
    result = procs.python("-c", PROBE, how, cwd=variant.copy_to(tmp_path),
                          env={"DATABASE_URL": url, "ADMIN_URL": admin_url})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_the_request_after_the_kill_fails(variant, tmp_path, backend, observe):
    answers = three_requests(variant, tmp_path, backend)
    observe("\n".join(answers))
    assert answers == ["200 {'accounts': 0}", S.symptom(backend[0]), "200 {'accounts': 0}"]


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_pre_ping_serves_every_request(variant, tmp_path, backend, observe):
    answers = three_requests(variant, tmp_path, backend)
    observe("\n".join(answers))
    assert answers == ["200 {'accounts': 0}"] * 3
