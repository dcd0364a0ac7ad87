"""The pitfall-lab command: bad input gets one line on stderr and exit 2."""
import shutil
from pathlib import Path

import pytest

from pitfall_lab import procs, scenario


def pitfall_lab(*args, env=None):
    return procs.run(["pitfall-lab", *args], cwd=scenario.ROOT, env=env)


def test_list_names_every_scenario_and_its_variants():
    result = pitfall_lab("list")
    assert result.returncode == 0
    for s in scenario.load_all().values():
        assert f"{s.code:<4} {s.id}" in result.stdout
        assert f"variants: {', '.join(str(v) for v in s.variants)}" in result.stdout


def test_show_prints_the_symptom_and_each_fix_as_a_diff():
    result = pitfall_lab("show", "circular_import")
    assert result.returncode == 0
    assert "ImportError: cannot import name 'User' from partially initialized module" in result.stdout
    assert "--- repros/circular_import/app.py\n+++ fixes/circular_import/app.py" in result.stdout
    assert "+++ fixes/circular_import/database.py" in result.stdout


def test_run_prints_what_each_variant_did():
    result = pitfall_lab("run", "shared_base", "--variant", "repro")
    assert result.returncode == 0, result.stderr
    assert "test_a_query_uses_db_b_session[repro]  [as declared" in result.stdout
    assert "observed: GET /a -> " in result.stdout
    assert "[fix-" not in result.stdout


def test_demo_runs_the_repro_shows_the_fix_and_runs_it():
    result = pitfall_lab("demo", "circular_import")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    steps = ["1. The repro", "PASSED  test_python_app_py_fails_to_import[repro]",
             "+++ fixes/circular_import/app.py", "PASSED  test_python_app_py_serves_users[fix]",
             "The lesson"]
    positions = [out.index(step) for step in steps]
    assert positions == sorted(positions)
    assert "ImportError: cannot import name 'User' from partially initialized module" in out


@pytest.mark.parametrize("args, message", [
    (["show", "nope"], "pitfall-lab: unknown scenario 'nope' (known: "),
    (["run", "nope"], "pitfall-lab: unknown scenario 'nope' (known: "),
    (["run", "shared_base", "--variant", "fix-nope"],
     "pitfall-lab: scenario 'shared_base' has no variant 'fix-nope' (known: repro, "),
])
def test_unknown_names_are_one_line_errors(args, message):
    result = pitfall_lab(*args)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(message)


def test_broken_metadata_is_a_one_line_error(tmp_path: Path):
    for name in ("scenarios", "repros", "fixes"):
        shutil.copytree(scenario.ROOT / name, tmp_path / name)
    path = tmp_path / "scenarios" / "shared_base.toml"
    path.write_text(path.read_text().replace('code = "S05"', 'code = "five"'))
    for args in (["list"], ["show", "shared_base"]):
        result = pitfall_lab(*args, env={"PITFALL_LAB_ROOT": str(tmp_path)})
        assert result.returncode == 2
        assert result.stderr.splitlines() == [
            f"pitfall-lab: {path}: code: 'five' does not match ^S\\d\\d[a-z]?$"]
