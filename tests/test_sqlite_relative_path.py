"""S23: a relative SQLite path, sqlite:///data/notes.db. On a fresh deploy `flask init-db` must
create the file; on a deploy that keeps the database the app has used so far (data/notes.db next
to app.py, where Flask-SQLAlchemy 2.x resolved the path), the app must read it."""
import sqlite3

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs

S = scenario.load("sqlite_relative_path")
CASES = ["fresh deploy", "existing database"]

REQUEST = """
from app import create_app
app = create_app()
app.testing = True  # the view's exception reaches the client
try:
    response = app.test_client().get("/notes")
    print(f"{response.status_code} {response.get_json()}")
except Exception as exc:
    print(f"{type(exc).__module__}.{type(exc).__name__}: {exc}".splitlines()[0])
"""


def keep_the_database(project) -> None:
    """The database the app made before (one note), where Flask-SQLAlchemy 2.x put it."""
    (project / "data").mkdir()
    with sqlite3.connect(project / "data" / "notes.db") as con:
        con.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, text VARCHAR(200) NOT NULL)")
        con.execute("INSERT INTO note (text) VALUES ('hello')")
    con.close()


def deploy(variant, tmp_path, case) -> str:
    project = variant.copy_to(tmp_path)
    if case == "fresh deploy":
        init = procs.run(["flask", "init-db"], cwd=project, env={"FLASK_APP": "app"})
        return f"flask init-db: {init.stdout.strip() if init.returncode == 0 else init.exception}"
    keep_the_database(project)
    served = procs.python("-c", REQUEST, cwd=project)
    assert served.returncode == 0, served.stderr
    return f"GET /notes: {served.stdout.strip()}"


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.replace(" ", "_"))
@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_the_relative_path_names_a_folder_that_is_not_there(variant, case, tmp_path, observe):
    assert observe(deploy(variant, tmp_path, case)) == S.symptom(case)


@pytest.mark.parametrize("case, works", [
    ("fresh deploy", "flask init-db: initialised the database"),
    ("existing database", "GET /notes: 200 {'notes': ['hello']}"),
], ids=[case.replace(" ", "_") for case in CASES])
@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_the_absolute_path_finds_its_folder(variant, case, works, tmp_path, observe):
    assert observe(deploy(variant, tmp_path, case)) == works
