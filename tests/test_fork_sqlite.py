"""S07b: forked workers inherit the parent's open SQLite transaction and connection."""
import json
import sqlite3
from pathlib import Path

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs

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


# Exploration: how many workers, what each imports, and what the parent's pool holds when the
# batch starts, fed to ONE long-lived process per test (tests/probes/fork_imports.py) that runs
# the variant's own import_batch() once per example and forks its workers each time.
PROBE = Path(__file__).parent / "probes" / "fork_imports.py"
TODAY = [["ada", "grace"], ["linus", "guido"]]


class Batches:
    def __init__(self, variant, tmp_path, dev_server):
        self.probe = dev_server(["python", str(PROBE)], cwd=variant.copy_to(tmp_path), stdin=True,
                                env={"DATABASE_URL": f"sqlite:///{tmp_path / 'import.db'}",
                                     "SQLITE_TIMEOUT": "0.3"})
        self.examples = 0

    def run(self, chunks, pool) -> tuple[list[str], dict]:
        """The batch's printed lines (its workers' and its own), and what the database holds."""
        start = len(self.probe.lines)
        self.examples += 1
        self.probe.send(json.dumps({"chunks": chunks, "pool": pool}))
        self.probe.wait_for_log(r'^\{"batches": ', count=self.examples, timeout=60)
        lines = self.probe.lines[start:]
        return lines[:-1], json.loads(lines[-1])


def every_worker_stores_its_chunk(batches):
    """The fix's promise as a property: each worker imports its chunk, the batch is recorded
    once, and the database is intact, whatever the parent held when the batch began."""
    from hypothesis import example, given
    from hypothesis import strategies as st

    names = st.lists(st.sampled_from(["ada", "grace", "linus", "guido", "barbara"]), max_size=3)

    @given(chunks=st.lists(names, min_size=1, max_size=4), pool=st.sampled_from(["idle", "none"]))
    @example(chunks=TODAY, pool="idle")  # today's script: create_all() left a pooled connection
    def each_chunk_is_stored(chunks, pool):
        printed, stored = batches.run(chunks, pool)
        expected = [f"worker {n}: imported {len(names)} users" for n, names in enumerate(chunks, 1)]
        expected.append("batch done, 0 workers failed")
        wrong = [line for line in printed if line not in expected][:2]
        assert not wrong, "\n".join(wrong)
        assert stored == {"batches": ["nightly"], "users": [n for c in chunks for n in c],
                          "intact": True}, stored
    return each_chunk_is_stored


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_explored_batches_lose_or_resurrect_data(variant, tmp_path, dev_server, hypothesis,
                                                 exploring, observe):
    with pytest.raises(AssertionError) as failure:
        every_worker_stores_its_chunk(Batches(variant, tmp_path, dev_server))()
    first = observe(str(failure.value).splitlines()[0])
    if exploring:  # generated batches only
        assert first.startswith("worker 1: sqlalchemy.exc.OperationalError: "), first
    else:  # today's batch first
        assert first == S.symptom(variant.name).splitlines()[0]


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_every_explored_batch_stores_every_chunk(variant, tmp_path, dev_server, hypothesis,
                                                 observe):
    batches = Batches(variant, tmp_path, dev_server)
    every_worker_stores_its_chunk(batches)()
    observe(f"{batches.examples} batches, one process: every worker stored its chunk")
