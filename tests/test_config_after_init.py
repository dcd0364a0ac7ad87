"""S28: the app's own test suite overrides the database URI after create_app(), which has
already called db.init_app(app). The developer's dev.db holds their data (one user, ada); the
suite runs as `python -m pytest` in the project, then dev.db is read again."""
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


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_the_suite_runs_on_the_developers_database(variant, tmp_path, observe):
    assert observe(run_the_suite(variant, tmp_path)) == S.symptom("app's own suite")


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_the_suite_runs_on_its_own_database(variant, tmp_path, observe):
    assert observe(run_the_suite(variant, tmp_path)) == \
        "suite: 1 passed\ndev.db users after the suite: ['ada']"
