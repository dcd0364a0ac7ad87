"""The lab's own pytest options: a bad value stops pytest before any test runs, with one line
that names it (a password hidden) and pytest's usage-error exit code."""
import sys

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs, runrecord

USAGE_ERROR = pytest.ExitCode.USAGE_ERROR


def lab_pytest(*args, workers="0", collect_only=True):
    return procs.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", workers,
                      *(["--collect-only", "-q"] if collect_only else []), *args],
                     cwd=scenario.ROOT)


@pytest.mark.parametrize("args, line", [
    (["--dburi", "postgresql+psycopg2://nobody:secret@127.0.0.1:1/x"],
     'ERROR: --dburi postgresql+psycopg2://nobody:***@127.0.0.1:1/x: cannot connect: '
     'connection to server at "127.0.0.1", port 1 failed: Connection refused'),
    (["--dburi", "garbage"],
     "ERROR: --dburi 'garbage': not a SQLAlchemy URL (dialect+driver://user:password@host/db)"),
    (["--dburi", "mysql+pymysql://root@127.0.0.1:1/x"],
     "ERROR: --dburi mysql+pymysql://root@127.0.0.1:1/x: the lab's --dburi takes a PostgreSQL "
     "server (postgresql+psycopg2://user@host/db)"),
    (["--lab-variant", "fix-nope"], "ERROR: --lab-variant fix-nope: no scenario has that variant"),
], ids=["dburi-refused", "dburi-garbage", "dburi-not-postgresql", "lab-variant-unknown"])
def test_a_bad_option_is_one_line_before_any_test(args, line):
    result = lab_pytest(*args)
    assert result.returncode == USAGE_ERROR
    assert [text for text in result.stderr.splitlines() if text.strip()] == [line]
    assert "secret" not in result.stdout + result.stderr


def test_an_unknown_variant_is_an_error_with_xdist_too():
    result = lab_pytest("--lab-variant", "repro-checkout", workers="2")
    assert result.returncode == USAGE_ERROR
    assert [text for text in result.stderr.splitlines() if text.strip()] == [
        "ERROR: --lab-variant repro-checkout: no scenario has that variant"]


@pytest.mark.parametrize("args, line", [
    (["-k", "shared_base and"], "ERROR: Wrong expression passed to '-k': shared_base and: "
                                "at column 16: expected not OR left parenthesis OR identifier; "
                                "got end of input"),
    (["-m", "fix or (repro"], "ERROR: Wrong expression passed to '-m': fix or (repro: at column "
                              "14: expected right parenthesis; got end of input"),
    (["-m", "shared_bse"], "ERROR: Unknown marker(s) in '-m' expression: shared_bse. Use "
                           "'pytest --markers' to see available markers."),
    (["tests/test_shared_bse.py"], "ERROR: file or directory not found: tests/test_shared_bse.py"),
], ids=["k-malformed", "m-malformed", "m-unknown-marker", "path-not-found"])
def test_a_bad_selection_is_one_line_before_the_workers_start(args, line):
    """Not --collect-only, which runs without xdist: each worker would read the selection as it
    collects, and xdist would lose a missing path ("no tests ran") or report the lost workers
    as an INTERNALERROR traceback."""
    if "Unknown marker" in line and int(pytest.__version__.split(".")[0]) < 9:
        pytest.skip("pytest < 9 accepts an unknown marker in -m (it selects nothing)")
    result = lab_pytest(*args, workers="2", collect_only=False)
    assert result.returncode == USAGE_ERROR
    assert [text for text in (result.stdout + result.stderr).splitlines() if text.strip()] == [
        line]


def test_lab_variant_keeps_the_tests_of_that_variant_alone():
    result = lab_pytest("--lab-variant", "fix-explicit_session")
    assert result.returncode == 0, result.stderr
    ids = [line for line in result.stdout.splitlines() if "::" in line]
    assert ids and all(i.endswith("[fix-explicit_session]") for i in ids)


def test_lab_json_creates_its_folder(tmp_path):
    """As the README's CI gate and nox write it, into reports/, which a fresh clone lacks."""
    record = tmp_path / "reports" / "ours.json"
    result = lab_pytest(f"--lab-json={record}", "-k", "create_all_before_models")
    assert result.returncode == 0, result.stderr
    assert len(runrecord.load(record)["collected"]) == 2


def test_lab_json_where_it_cannot_be_written_is_one_line(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("")
    for path, problem in [(notes / "r.json", f"{notes} is not a folder"),
                          (tmp_path, "a folder, not a file")]:
        result = lab_pytest(f"--lab-json={path}")
        assert result.returncode == USAGE_ERROR
        assert [text for text in result.stderr.splitlines() if text.strip()] == [
            f"ERROR: --lab-json {path}: {problem}"]
