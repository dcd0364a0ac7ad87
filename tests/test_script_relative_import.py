"""S03: the token clean-up script that cron runs by path cannot import the app's package."""
import sqlite3
from datetime import datetime, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pitfall_lab import cron, scenario

S = scenario.load("script_relative_import")
FORTY_DAYS = timedelta(days=40)
# The job runs a second or two after the rows are written: keep ages clear of the cut-off.
AGES = st.lists(
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)).filter(
        lambda age: abs(age - FORTY_DAYS) > timedelta(minutes=5)),
    max_size=12)
DDL = """CREATE TABLE token_blocklist (
    id VARCHAR(36) PRIMARY KEY, jti VARCHAR(36) NOT NULL, type VARCHAR(10) NOT NULL,
    created_at DATETIME DEFAULT (CURRENT_TIMESTAMP) NOT NULL)"""


def seed_tokens(db_path, ages) -> dict[str, timedelta]:
    now = datetime.now()
    tokens = {f"token-{i}": age for i, age in enumerate(ages)}
    with sqlite3.connect(db_path) as con:
        con.execute(DDL)
        con.executemany(
            "INSERT INTO token_blocklist (id, jti, type, created_at) VALUES (?, ?, 'access', ?)",
            [(tid, f"jti-{tid}", (now - age).strftime("%Y-%m-%d %H:%M:%S.%f"))
             for tid, age in tokens.items()])
    con.close()
    return tokens


def token_ids(db_path) -> set[str]:
    with sqlite3.connect(db_path) as con:
        ids = {row[0] for row in con.execute("SELECT id FROM token_blocklist")}
    con.close()
    return ids


def run_cron_job(app_dir, db_path):
    return cron.run(app_dir, env={"DATABASE_URL": f"sqlite:///{db_path}"})


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_cron_job_cannot_import_and_deletes_nothing(variant, tmp_path, observe):
    app_dir, db_path = variant.copy_to(tmp_path), tmp_path / "tokens.db"
    tokens = seed_tokens(db_path, [timedelta(days=90), timedelta(days=3)])
    result = run_cron_job(app_dir, db_path)
    assert result.returncode == 1
    assert observe(result.exception) == S.symptom(variant.name)
    assert token_ids(db_path) == set(tokens)


@pytest.mark.parametrize("variant", S.fixes, ids=str)
@settings(max_examples=6)
@given(ages=AGES)
@example(ages=[FORTY_DAYS + timedelta(minutes=6), FORTY_DAYS - timedelta(minutes=6)])
def test_cron_job_deletes_exactly_the_tokens_older_than_40_days(
        variant, tmp_path_factory, observe, ages):
    run_dir = tmp_path_factory.mktemp(str(variant))
    app_dir, db_path = variant.copy_to(run_dir), run_dir / "tokens.db"
    tokens = seed_tokens(db_path, ages)
    result = run_cron_job(app_dir, db_path)
    assert result.returncode == 0, result.stderr
    observe(result.stdout.strip())
    assert token_ids(db_path) == {tid for tid, age in tokens.items() if age < FORTY_DAYS}
