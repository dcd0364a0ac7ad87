"""S30: the app's first release made the user table; the next one adds User.email. The test
plays both releases in one project folder, the way a developer does: the first app.py (the
variant's, without the email line) makes the schema and stores ada, then the edited app.py
runs: GET /users asks for every user's email, POST /users stores grace with hers. The repro
makes its schema with db.create_all() at start-up, which creates missing tables and never
alters one; the fix makes it with Flask-Migrate, run as the real `flask db` commands."""
import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs, servers, sql

S = scenario.load("schema_not_migrated")

# The line the second release added; the first release is the same app.py without it.
EMAIL = "    email = db.Column(db.String(120))  # added after the first release\n"

SEED = """
from app import User, create_app, db

app = create_app()
with app.app_context():
    db.session.add(User(name="ada"))
    db.session.commit()
"""

REQUESTS = """
from app import create_app

app = create_app()
app.testing = True  # the view's exception reaches the client
client = app.test_client()
for label, call in [
        ("GET /users", lambda: client.get("/users")),
        ("POST /users grace", lambda: client.post(
            "/users", json={"name": "grace", "email": "grace@example.com"}))]:
    try:
        response = call()
        print(f"{label}: {response.status_code} {response.get_json()}")
    except Exception as exc:
        print(f"{label}: {type(exc).__module__}.{type(exc).__name__}: {exc}".splitlines()[0])
"""

# SQLite, whose ALTER TABLE can add a nullable column (all this migration needs), and
# PostgreSQL.
DATABASES = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


def python(project, url, script):
    result = procs.python("-c", script, cwd=project, env={"DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def flask_db(project, url, *args) -> str:
    """`flask db ...` as a developer types it; the tables and columns Alembic found added or
    removed (not its notes, such as PostgreSQL's serial sequence)."""
    result = procs.run([str(procs.BIN / "flask"), "db", *args], cwd=project,
                       env={"DATABASE_URL": url, "FLASK_APP": "app"})
    assert result.returncode == 0, f"flask db {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return "\n".join(line.partition("] ")[2] for line in result.stderr.splitlines()
                     if "Detected added" in line or "Detected removed" in line)


def columns(url) -> list[str]:
    import sqlalchemy as sa

    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        return [c["name"] for c in sa.inspect(engine).get_columns("user")]
    finally:
        engine.dispose()


def first_release(variant, tmp_path):
    """The project folder with the first release's app.py; returns the edited one's text."""
    project = variant.copy_to(tmp_path)
    edited = (project / "app.py").read_text()
    assert EMAIL in edited
    (project / "app.py").write_text(edited.replace(EMAIL, ""))
    return project, edited


@DATABASES
@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_create_all_leaves_the_table_without_the_new_column(variant, database_url, dialect,
                                                             tmp_path, observe):
    project, edited = first_release(variant, tmp_path)
    python(project, database_url, SEED)  # create_app() made the table
    (project / "app.py").write_text(edited)
    responses = python(project, database_url, REQUESTS)  # create_app() runs create_all() again
    assert observe(f"{responses}\nuser columns: {columns(database_url)}") == \
        S.symptom("second release", variant=variant, database_url=dialect)


@pytest.fixture
def another_database(request, dialect, tmp_path):
    """A second, empty database on the same kind of server, for a fresh install."""
    if dialect == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    with servers.fresh_database(request.getfixturevalue("postgresql_server")) as url:
        yield url


@DATABASES
@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_a_migration_adds_the_column(variant, database_url, another_database, tmp_path,
                                     observe):
    project, edited = first_release(variant, tmp_path)
    flask_db(project, database_url, "init")
    first = flask_db(project, database_url, "migrate", "-m", "users")
    flask_db(project, database_url, "upgrade")
    python(project, database_url, SEED)
    (project / "app.py").write_text(edited)
    second = flask_db(project, database_url, "migrate", "-m", "user email")
    flask_db(project, database_url, "upgrade")
    responses = python(project, database_url, REQUESTS)
    assert observe(f"first release: {first}\nsecond release: {second}\n"
                   f"{responses}\nuser columns: {columns(database_url)}") == (
        "first release: Detected added table 'user'\n"
        "second release: Detected added column 'user.email'\n"
        "GET /users: 200 [{'email': None, 'name': 'ada'}]\n"
        "POST /users grace: 201 {'id': 2}\n"
        "user columns: ['id', 'name', 'email']")
    # The two revisions make the whole schema on a database that has none (a new install).
    flask_db(project, another_database, "upgrade")
    assert columns(another_database) == ["id", "name", "email"]
    assert sql.scalar(another_database, "SELECT version_num FROM alembic_version") == \
        sql.scalar(database_url, "SELECT version_num FROM alembic_version")
