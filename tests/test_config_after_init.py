"""S28: configuration set after Flask-SQLAlchemy has read it.

suite_override: the app's own test suite overrides the database URI after create_app(), which
has already called db.init_app(app). The developer's dev.db holds their data (one user, ada); the
suite runs as `python -m pytest` in the project, then dev.db is read again.

init_before_config: a one-module app makes `db = SQLAlchemy(app)` before it sets the URI. It is
imported in a fresh interpreter, creates its tables and signs a user up; then app.db is read.

second_instance: models.py makes its own `db = SQLAlchemy()` for its models, app.py another one
with the app. The app creates its tables, signs a user up and lists the users.

migrate_never_initialised: the factory makes Migrate() and never calls migrate.init_app(app, db);
the developer types `flask db init`, then migrate and upgrade, as Flask-Migrate's docs say."""
import re
import sqlite3

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs

S = scenario.load("config_after_init")


def developer_data(project) -> None:
    with sqlite3.connect(project / "dev.db") as con:
        con.execute("CREATE TABLE user (id INTEGER PRIMARY KEY, name VARCHAR(80) NOT NULL UNIQUE)")
        con.execute("INSERT INTO user (name) VALUES ('ada')")
    con.close()


def dev_db(project) -> str:
    con = sqlite3.connect(project / "dev.db")
    try:
        return str([name for (name,) in con.execute("SELECT name FROM user ORDER BY id")])
    except sqlite3.OperationalError as exc:
        return f"sqlite3.OperationalError: {exc}"
    finally:
        con.close()


def run_the_suite(variant, tmp_path) -> str:
    project = variant.copy_to(tmp_path)
    developer_data(project)
    suite = procs.python("-m", "pytest", "-q", *procs.USER_SUITE_FLAGS, "-p", "no:pitfall_lab",
                         cwd=project)
    last = (suite.stdout.strip().splitlines() or ["(no output)"])[-1]
    summary = ", ".join(re.findall(r"\d+ (?:passed|failed|errors?)\b", last)) or last
    return f"suite: {summary}\ndev.db users after the suite: {dev_db(project)}"


@pytest.mark.parametrize("variant", [S.variant("repro-suite_override")], ids=str)
def test_the_suite_runs_on_the_developers_database(variant, tmp_path, observe):
    assert observe(run_the_suite(variant, tmp_path)) == S.symptom("app's own suite")


@pytest.mark.parametrize("variant", [S.variant("fix-factory_config")], ids=str)
def test_the_suite_runs_on_its_own_database(variant, tmp_path, observe):
    assert observe(run_the_suite(variant, tmp_path)) == \
        "suite: 1 passed\ndev.db users after the suite: ['ada']"


SIGN_UP = """
import warnings

warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    try:
        from app import app, db

        with app.app_context():
            db.create_all()
        response = app.test_client().post("/users", json={"name": "ada"})
        print(f"POST /users: {response.status_code} {response.get_json()}")
    except Exception as exc:
        print(f"import app: {type(exc).__module__}.{type(exc).__name__}: {exc}".splitlines()[0])
for w in caught:
    if "SQLALCHEMY_" in str(w.message):  # Flask-SQLAlchemy's own, about its configuration
        print(f"warning: {w.category.__name__}: {w.message}")
"""


def sign_up(variant, tmp_path) -> str:
    project = variant.copy_to(tmp_path)
    run = procs.python("-c", SIGN_UP, cwd=project)
    assert run.returncode == 0, run.stderr
    if not (project / "app.db").exists():
        return f"{run.stdout.strip()}\napp.db: not created"
    con = sqlite3.connect(project / "app.db")
    try:
        users = [name for (name,) in con.execute("SELECT name FROM user ORDER BY id")]
    finally:
        con.close()
    return f"{run.stdout.strip()}\napp.db users: {users}"


@pytest.mark.parametrize("variant", [S.variant("repro-init_before_config")], ids=str)
def test_an_app_configured_after_init_does_not_start(variant, tmp_path, observe):
    assert observe(sign_up(variant, tmp_path)) == S.symptom("start the app")


@pytest.mark.parametrize("variant", [S.variant("fix-config_first")], ids=str)
def test_an_app_configured_before_init_starts(variant, tmp_path, observe):
    assert observe(sign_up(variant, tmp_path)) == \
        "POST /users: 201 {'id': 1}\napp.db users: ['ada']"


TWO_REQUESTS = """
from app import app, db

app.testing = True  # the view's exception reaches the client
with app.app_context():
    db.create_all()
client = app.test_client()
for label, call in [("POST /users ada", lambda: client.post("/users", json={"name": "ada"})),
                    ("GET /users", lambda: client.get("/users"))]:
    try:
        response = call()
        print(f"{label}: {response.status_code} {response.get_json()}")
    except Exception as exc:
        print(f"{label}: {type(exc).__module__}.{type(exc).__name__}: {exc}".splitlines()[0])
"""


def sign_up_and_list(variant, tmp_path) -> str:
    project = variant.copy_to(tmp_path)
    run = procs.python("-c", TWO_REQUESTS, cwd=project)
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


@pytest.mark.parametrize("variant", [S.variant("repro-second_instance")], ids=str)
def test_the_models_instance_is_not_the_apps(variant, tmp_path, observe):
    assert observe(sign_up_and_list(variant, tmp_path)) == S.symptom("models' own instance")


@pytest.mark.parametrize("variant", [S.variant("fix-one_instance")], ids=str)
def test_the_models_instance_is_the_apps(variant, tmp_path, observe):
    assert observe(sign_up_and_list(variant, tmp_path)) == \
        "POST /users ada: 201 {'id': 1}\nGET /users: 200 {'users': ['ada']}"


def flask(project, *args) -> str:
    """`flask ...` typed in the project: its exit code and the lines that say what happened."""
    result = procs.run([str(procs.BIN / "flask"), *args], cwd=project, env={"FLASK_APP": "app"})
    said = [line.partition("] ")[2] for line in result.stderr.splitlines()
            if "Detected added" in line]
    said += procs.exception_lines(result.stderr)
    return f"flask {' '.join(args)}: exit {result.returncode}" + "".join(
        f"\n  {line}" for line in said)


POST_ADA = """
from app import create_app

app = create_app()
app.testing = True  # the view's exception reaches the client
try:
    response = app.test_client().post("/users", json={"name": "ada"})
    print(f"POST /users ada: {response.status_code} {response.get_json()}")
except Exception as exc:
    print(f"POST /users ada: {type(exc).__module__}.{type(exc).__name__}: {exc}".splitlines()[0])
"""


def migrate_then_sign_up(variant, tmp_path) -> str:
    project = variant.copy_to(tmp_path)
    said = [flask(project, "db", "init")]
    if (project / "migrations").is_dir():
        said += [flask(project, "db", "migrate", "-m", "users"), flask(project, "db", "upgrade")]
    else:
        said.append("migrations/: not created")
    run = procs.python("-c", POST_ADA, cwd=project)
    assert run.returncode == 0, run.stderr
    said.append(run.stdout.strip())
    return "\n".join(said)


@pytest.mark.parametrize("variant", [S.variant("repro-migrate_never_initialised")], ids=str)
def test_flask_db_is_missing(variant, tmp_path, observe):
    assert observe(migrate_then_sign_up(variant, tmp_path)) == S.symptom("flask db")


@pytest.mark.parametrize("variant", [S.variant("fix-migrate_init_app")], ids=str)
def test_flask_db_makes_the_schema(variant, tmp_path, observe):
    assert observe(migrate_then_sign_up(variant, tmp_path)) == (
        "flask db init: exit 0\n"
        "flask db migrate -m users: exit 0\n  Detected added table 'user'\n"
        "flask db upgrade: exit 0\n"
        "POST /users ada: 201 {'id': 1}")
