"""pitfall-lab report: verdicts from run records, exit 1 when anything stopped behaving as
declared, one line and exit 2 for a file that is not a run record."""
import json

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs, runrecord

SHARED = scenario.load("shared_base")


def record(tmp_path, name, rows, exit_status=0):
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({
        "format": runrecord.FORMAT, "collected": [], "version_set": name, "python": "3.11.7", "date": "2026-11-22 00:00 UTC",
        "wall_seconds": 1.0, "exit_status": exit_status,
        "libraries": scenario.installed_versions(), "tests": rows}))
    return path


def row(test, outcome, observed):
    variant = test.split("[")[1].rstrip("]")
    return {"nodeid": f"tests/test_shared_base.py::{test}", "scenario": "shared_base",
            "variant": variant, "when": "call", "outcome": outcome,
            "duration": 0.5, "observed": observed, "error": None if outcome == "passed" else "E"}


def report(tmp_path, *paths):
    out = tmp_path / "REPORT.md"
    result = procs.run(["pitfall-lab", "report", *map(str, paths), "-o", str(out)],
                       cwd=scenario.ROOT)
    return result, out.read_text() if out.exists() else ""


def test_cells_say_what_each_variant_did(tmp_path):
    good = record(tmp_path, "good", [
        row("test_a_query_uses_db_b_session[repro]", "passed", "GET /a -> RuntimeError: boom"),
        row("test_each_app_reads_its_own_rows[fix-base_per_instance]", "passed", "GET /a -> 200"),
    ])
    result, text = report(tmp_path, good)
    assert result.returncode == 0, result.stderr
    assert "| repro | reproduced (0.5s)<br>`GET /a -> RuntimeError: boom` |" in text
    assert "| fix-base_per_instance | fixed (0.5s)<br>`GET /a -> 200` |" in text
    assert "| fix-explicit_session | not run |" in text


def test_a_declared_skip_shows_its_reason(tmp_path):
    skipped = {**row("test_each_app_reads_its_own_rows[fix-base_per_instance]", "skipped", None),
               "when": "setup", "skip": "Skipped: declared in scenarios/shared_base.toml: why"}
    result, text = report(tmp_path, record(tmp_path, "old", [skipped]))
    assert result.returncode == 0, result.stderr
    assert "| fix-base_per_instance | skipped as declared: why |" in text


def test_a_repro_that_stopped_reproducing_fails_the_gate(tmp_path):
    bad = record(tmp_path, "bad", [
        row("test_a_query_uses_db_b_session[repro]", "failed", "GET /a -> 200 ['a0']"),
        row("test_each_app_reads_its_own_rows[fix-explicit_session]", "failed", "GET /a -> 500"),
    ], exit_status=1)
    result, text = report(tmp_path, bad)
    assert result.returncode == 1
    assert "failures on bad" in result.stdout
    assert "| repro | **NOT REPRODUCED** (0.5s)<br>`GET /a -> 200 ['a0']` |" in text
    assert "| fix-explicit_session | **FIX BROKEN** (0.5s)" in text


def test_a_declared_unaffected_version_says_not_affected(tmp_path):
    s = scenario.load("threads_share_session")
    (unaffected,) = [sym for sym in s.symptoms if not sym.affected]
    rec = record(tmp_path, "old", [{
        "nodeid": "tests/test_threads_share_session.py::test_x[checkout-repro]",
        "scenario": "threads_share_session", "variant": "repro", "when": "call",
        "outcome": "passed", "duration": 1.0, "observed": scenario.expand(unaffected.text),
        "error": None}])
    _, text = report(tmp_path, rec)
    assert "| repro | not affected (1.0s)" in text


@pytest.mark.parametrize("content", ["[]", "not json", '{"tests": 3}',
                                     '{"tests": [], "format": 1}'])
def test_a_file_that_is_not_a_run_record_is_a_one_line_error(tmp_path, content):
    path = tmp_path / "broken.json"
    path.write_text(content)
    result, _ = report(tmp_path, path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        result.stderr.strip()] and "not a run record written by pytest --lab-json" in result.stderr
