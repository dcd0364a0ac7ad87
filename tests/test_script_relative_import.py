"""S03: the token clean-up script that cron runs by path cannot import the app's package."""
import sqlite3
from datetime import datetime, timedelta

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import cron

S = scenario.load("script_relative_import")
FORTY_DAYS = timedelta(days=40)
MINUTE, DAY = timedelta(minutes=1), timedelta(days=1)
# From brand new to a year old, with a token either side of the cut-off; the job runs a second
# or two after the rows are written, so none is closer to the cut-off than six minutes.
AGES = [timedelta(0), MINUTE, DAY, 39 * DAY, FORTY_DAYS - 6 * MINUTE, FORTY_DAYS + 6 * MINUTE,
        41 * DAY, 90 * DAY, 365 * DAY]
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
def test_cron_job_deletes_exactly_the_tokens_older_than_40_days(variant, tmp_path, observe):
    app_dir, db_path = variant.copy_to(tmp_path), tmp_path / "tokens.db"
    tokens = seed_tokens(db_path, AGES)
    result = run_cron_job(app_dir, db_path)
    assert result.returncode == 0, result.stderr
    observe(result.stdout.strip())
    assert token_ids(db_path) == {tid for tid, age in tokens.items() if age < FORTY_DAYS}
