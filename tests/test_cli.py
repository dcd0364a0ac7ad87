"""The pitfall-lab command: it selects each variant's tests by the test's parameter, and bad
input gets one line on stderr and a non-zero exit. Test ids here name scenarios by code, never
by id, so that `pytest -k <scenario>` selects that scenario's own tests alone."""
import re
import shutil
from collections import defaultdict
from pathlib import Path

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs, runrecord

SCENARIOS = list(scenario.load_all().values())


def pitfall_lab(*args, env=None):
    return procs.run(["pitfall-lab", *args], cwd=scenario.ROOT, env=env)


@pytest.fixture(scope="module")
def collected() -> list[dict]:
    """Every test of the lab, as one collection labels it: node id, scenario, variant."""
    return runrecord.run_pytest(["-q", "-n", "0", "--collect-only"], timeout=120)["collected"]


def selected(collected, s, selects) -> set[str]:
    return {r["nodeid"].split("::", 1)[1] for r in collected
            if r["scenario"] == s.id and selects(s.variant(r["variant"]))}


def test_demo_plans_exactly_each_steps_tests(collected):
    """Every scenario's demo, planned in one call: each step lists exactly its tests."""
    result = pitfall_lab("demo", *(s.id for s in SCENARIOS), "--collect-only")
    assert result.returncode == 0, result.stderr
    planned, code, step = defaultdict(set), None, None
    for line in result.stdout.splitlines():
        title = re.match(r"(S\d\d[a-z]?)  ", line)
        heading = re.match(r"(\d+)\. The (repro|fix)", line)
        if title:
            code = title.group(1)
        elif heading:
            step = int(heading.group(1))
        elif line.startswith("   would run "):
            planned[code, step].add(line.removeprefix("   would run "))
    for s in SCENARIOS:
        assert planned[s.code, 1] == selected(collected, s, lambda v: v.kind == "repro") != set()
        for n, fix in enumerate(s.fixes, 2):
            assert planned[s.code, n] == selected(collected, s, lambda v: v == fix) != set(), fix


@pytest.mark.parametrize("sid, variants", [
    *((s.id, [str(v) for v in s.variants]) for s in SCENARIOS),  # every scenario x variant
    ("stale_connection", ["repro"]),  # a fixture parameter in every test id
    ("threads_share_session", ["fix", "repro"]),
    ("prefork_shared_connection", ["repro-register_at_fork", "fix-lazy_apps"]),
    ("reloader_double_insert", ["repro", "fix-init_db_command"]),  # several repros
], ids=lambda p: scenario.load(p).code if isinstance(p, str) else
    "every-variant" if len(p) > 2 else "+".join(p))
def test_run_collects_exactly_the_named_variants(sid, variants, collected):
    s = scenario.load(sid)
    result = pitfall_lab("run", sid, "--collect-only", *(f"--variant={v}" for v in variants))
    assert result.returncode == 0, result.stderr
    listed = dict(re.findall(r"^(\S+): \d+ test\(s\)\n((?:  .*\n)*)", result.stdout, re.M))
    assert list(listed) == variants
    for name in variants:
        expected = selected(collected, s, lambda v: runrecord.selects(v, [name]))
        assert set(listed[name].split()) == expected != set(), name


def test_k_scenario_selects_that_scenario_alone(collected):
    """-k matches node ids: a scenario's id appears in its own module's tests only, so that
    -k <scenario> and -m <scenario> select the same tests."""
    ids = [r["nodeid"] for r in collected]
    for s in SCENARIOS:
        by_k = {n for n in ids if s.id.lower() in n.lower()}
        assert by_k == {r["nodeid"] for r in collected if r["scenario"] == s.id} != set(), s.id


def test_every_scenario_test_is_labelled_with_its_variant(collected):
    scenario_rows = [r for r in collected if r["scenario"]]
    assert scenario_rows and all(r["variant"] for r in scenario_rows)


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


@pytest.mark.parametrize("sid", ["no_such_table", "memory_sqlite_threads"], ids=["S06", "S17"])
def test_show_lists_every_cause_of_the_same_error(sid):
    out = pitfall_lab("show", sid).stdout
    family = [s for s in SCENARIOS if s.family == "no such table"]
    assert {s.code for s in family} == {"S06", "S15", "S16", "S17", "S28"}
    listed = out.partition("Every cause of 'no such table' in the lab\n")[2].partition("\n\n")[0]
    starts = [line for line in listed.splitlines() if line.startswith(("* ", "- "))]
    assert [line[2:].split(":")[0] for line in starts] == [f"{s.code} {s.id}" for s in family]
    assert [line[0] for line in starts] == ["*" if s.id == sid else "-" for s in family]


def test_list_lines_up_its_columns():
    width = max(len(s.id) for s in SCENARIOS)
    lines = [line for line in pitfall_lab("list").stdout.splitlines() if re.match(r"S\d", line)]
    assert len(lines) == len(SCENARIOS)
    assert {line.index(s.title) for line, s in zip(lines, SCENARIOS)} == {4 + 1 + width + 2}


def test_show_never_breaks_a_url_or_a_flag():
    out = pitfall_lab("show", "prefork_shared_connection").stdout
    assert "--py-call-osafterfork" in out
    s = scenario.load("prefork_shared_connection")
    for url in s.references:
        assert f"- {url}\n" in out


def test_show_says_which_variant_and_server_each_symptom_is_for():
    out = pitfall_lab("show", "prefork_shared_connection").stdout
    assert "[logged by the server] (all versions; variant repro-register_at_fork; wsgi server " \
           "gunicorn; not affected: it runs without the failure there)" in out
    assert "[logged by the server] (all versions; every repro)" in out


@pytest.mark.parametrize("command", [["show"], ["run", "--collect-only"],
                                     ["demo", "--collect-only"]], ids=lambda c: c[0])
def test_every_command_takes_a_code_or_an_id(command):
    by_id = pitfall_lab(command[0], "create_all_before_models", *command[1:])
    for code in ("S16", "s16"):
        by_code = pitfall_lab(command[0], code, *command[1:])
        assert (by_code.returncode, by_code.stdout) == (0, by_id.stdout), by_code.stderr


def test_stress_takes_a_code():
    result = pitfall_lab("stress", "S16", "--runs", "1", "-n", "0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "create_all_before_models::test_" in result.stdout


@pytest.mark.parametrize("args", [["run", "S05"], ["stress", "S05"], ["demo", "S05"]],
                         ids=lambda a: a[0])
def test_without_the_test_tools_the_commands_that_run_tests_say_what_to_install(args,
                                                                              monkeypatch):
    from click.testing import CliRunner

    from pitfall_lab import cli

    monkeypatch.setattr(runrecord, "missing_test_tools", lambda: ["pytest-repeat"])
    result = CliRunner().invoke(cli.main, args)
    assert result.exit_code == 2
    assert result.output == (f"pitfall-lab: {args[0]} runs the lab's tests, which need "
                             "pytest-repeat: pip install "
                             "'flask-sqlalchemy-pitfall-lab[test,servers]'\n")


def test_a_root_without_a_catalogue_is_one_line(tmp_path):
    result = procs.run(["pitfall-lab", "list"], cwd=tmp_path,
                       env={"PITFALL_LAB_ROOT": str(tmp_path)})
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (f"pitfall-lab: PITFALL_LAB_ROOT={tmp_path}: no scenarios/ folder "
                             "there; set PITFALL_LAB_ROOT to a checkout of the lab, or reinstall "
                             "it: pip install flask-sqlalchemy-pitfall-lab\n")


def test_version_names_the_installed_lab():
    from importlib.metadata import version

    result = pitfall_lab("--version")
    assert (result.returncode, result.stdout) == (
        0, f"pitfall-lab, version {version('flask-sqlalchemy-pitfall-lab')}\n")


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
    (["demo", "nope"], "pitfall-lab: unknown scenario 'nope' (known: "),
    (["run", "shared_base", "--variant", "fix-nope"],
     "pitfall-lab: scenario 'shared_base' has no variant 'fix-nope' (known: repro, "),
], ids=["show", "run", "demo", "run-variant"])
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
