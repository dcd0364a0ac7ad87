"""S04: a cron script queries the database outside an app context that knows the db."""
import sqlite3

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import cron

S = scenario.load("outside_app_context")
USERS = ["ada", "grace", "linus"]


@pytest.fixture
def shop_db(tmp_path):
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE user (id INTEGER PRIMARY KEY, name VARCHAR(80) NOT NULL)")
        con.executemany("INSERT INTO user (name) VALUES (?)", [(name,) for name in USERS])
    con.close()
    return {"DATABASE_URL": f"sqlite:///{path}"}


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_script_fails_without_a_registered_app_context(variant, tmp_path, shop_db, observe):
    result = cron.run(variant.copy_to(tmp_path), env=shop_db)
    assert result.returncode == 1
    assert result.stdout == ""
    assert observe(result.exception) == S.symptom(variant.name)


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_script_counts_the_users(variant, tmp_path, shop_db, observe):
    result = cron.run(variant.copy_to(tmp_path), env=shop_db)
    assert result.returncode == 0, result.stderr
    assert observe(result.stdout.strip()) == f"{len(USERS)} users"
