"""S07b: forked workers inherit the parent's open SQLite transaction and connection."""
import sqlite3

import pytest

from pitfall_lab import procs, scenario

S = scenario.load("fork_sqlite")


def run_import(variant, tmp_path) -> str:
    """Run the import script; return its output and what the database really holds."""
    db_path = tmp_path / "import.db"
    result = procs.python("import_users.py", cwd=variant.copy_to(tmp_path), timeout=60,
                          env={"DATABASE_URL": f"sqlite:///{db_path}", "SQLITE_TIMEOUT": "0.3"})
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(db_path) as con:
        batches = [name for (name,) in con.execute("SELECT name FROM batch ORDER BY id")]
        users = [name for (name,) in con.execute("SELECT name FROM user ORDER BY id")]
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    con.close()
    return f"{result.stdout}stored: batches {batches}, users {users}"


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_workers_lose_or_resurrect_data(variant, tmp_path, observe):
    assert observe(run_import(variant, tmp_path)) == S.symptom(variant.name)


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_every_worker_stores_its_chunk(variant, tmp_path, observe):
    assert observe(run_import(variant, tmp_path)) == (
        "worker 1: imported 2 users\n"
        "worker 2: imported 2 users\n"
        "batch done, 0 workers failed\n"
        "stored: batches ['nightly'], users ['ada', 'grace', 'linus', 'guido']")
