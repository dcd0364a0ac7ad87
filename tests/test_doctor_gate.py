"""The doctor where teams gate on it: --select, --fail-level, --quiet, [tool.pitfall-lab]
(ignore, per-path-ignores), the inline comment, --show-silenced, a baseline that survives
unrelated edits, and SARIF that validates against the official 2.1.0 schema."""
import json
import shutil
from pathlib import Path

import pytest

from pitfall_lab import doctor as lab_doctor
from pitfall_lab.guard import observe
from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs
from pitfall_lab.doctor import gate

# The doctor, the guard and the gate observe SQLAlchemy 1.4's events: on older versions they
# refuse in one line (tests/test_old_sqlalchemy.py), and these tests do not run.
pytestmark = pytest.mark.skipif(observe.unsupported() is not None,
                                reason=str(observe.unsupported()))

SAMPLES = Path(__file__).parent / "doctor_samples"
SCHEMA = Path(__file__).parent / "data" / "sarif" / "sarif-2.1.0-rtm.5.json"


def doctor(*args):
    return procs.run(["pitfall-lab", "doctor", *map(str, args)], cwd=scenario.ROOT, timeout=120)


@pytest.fixture
def project(tmp_path):
    """A copy of the single-file sample: S01 (error), S09 and S30 (warnings) at app.py:17."""
    root = tmp_path / "notes"
    shutil.copytree(SAMPLES / "single_file", root)
    return root


@pytest.fixture(scope="module")
def examined(tmp_path_factory):
    """The single-file sample examined once: configuration and comments change only what the
    gate does with the findings, not what the probes observe."""
    root = tmp_path_factory.mktemp("examined") / "notes"
    shutil.copytree(SAMPLES / "single_file", root)
    return lab_doctor.examine(root)


def gated_ids(report, config="", **options) -> list[str]:
    (report.root / "pyproject.toml").write_text(config)
    return [r.check.id for r in gate.apply(report, gate.read_config(report.root), **options)
            .findings]


def found(result) -> list[str]:
    return [r["id"] for r in json.loads(result.stdout)["results"]
            if r["verdict"] == "found" and not r["silenced"] and not r["in_baseline"]]


def test_list_checks_names_every_check_with_its_level_and_hint():
    result = doctor("--list-checks")
    assert result.returncode == 0
    assert "S07-connection-before-fork         error    A connection is open when a preloading " \
           "server forks" in result.stdout
    assert "hint: SQLALCHEMY_ENGINE_OPTIONS = {'pool_pre_ping': True" in result.stdout


def test_select_runs_those_checks_and_names_the_skipped(project):
    result = doctor(project, "--select", "S09")
    assert result.returncode == 0  # S09 is a warning; the default fail level is error
    assert "S09  found" in result.stdout and "S01-" not in result.stdout.split("skipped")[0]
    assert "skipped (--select): S01-reloader-import-write, S02-circular-import" in result.stdout


@pytest.mark.parametrize("level, failing", [
    ("error", ["S01-reloader-import-write"]),
    ("warning", ["S01-reloader-import-write", "S09-import-time-write",
                 "S30-schema-follows-models"]),
    ("info", ["S01-reloader-import-write", "S09-import-time-write",
              "S30-schema-follows-models"])])
def test_fail_level_decides_which_findings_fail_the_run(examined, level, failing):
    gated = gate.apply(examined, gate.Config(), fail_level=level)
    assert [r.check.id for r in gated.failing] == failing


def test_quiet_prints_nothing_when_nothing_is_found():
    result = doctor(SAMPLES / "clean", "--quiet")
    assert (result.returncode, result.stdout) == (0, "")
    assert "S09  found" in doctor(SAMPLES / "single_file", "--quiet").stdout


def test_ignore_and_per_path_ignores_in_process(examined):
    every = ["S01-reloader-import-write", "S09-import-time-write", "S30-schema-follows-models"]
    assert gated_ids(examined, '[tool.pitfall-lab]\nignore = ["S09-import-time-write"]\n') == [
        "S01-reloader-import-write", "S30-schema-follows-models"]
    assert gated_ids(examined, '[tool.pitfall-lab]\nper-path-ignores = { "other/*.py" = '
                               '["S01"] }\n') == every
    assert gated_ids(examined, "") == every


def test_ignore_and_per_path_ignores_silence_and_are_counted(project):
    (project / "pyproject.toml").write_text(
        '[tool.pitfall-lab]\nignore = ["S09", "S30"]\n'
        'per-path-ignores = { "app*.py" = ["S01-reloader-import-write"] }\n')
    result = doctor(project)
    assert result.returncode == 0, result.stdout
    assert "; 3 silenced" in result.stdout and "S09  found" not in result.stdout
    shown = doctor(project, "--show-silenced")
    assert "silenced by ignore in pyproject.toml" in shown.stdout
    assert "silenced by per-path-ignores 'app*.py' in pyproject.toml" in shown.stdout
    assert found(doctor(project, "--json")) == []


def test_an_inline_comment_silences_the_line_it_is_on(examined):
    app = examined.root / "app.py"
    original = app.read_text()
    lines = original.splitlines()
    lines[16] += "  # pitfall-lab: ignore[S01]"  # app.py:17, where both findings point
    app.write_text("\n".join(lines) + "\n")
    try:
        assert gated_ids(examined) == ["S09-import-time-write", "S30-schema-follows-models"]
    finally:
        app.write_text(original)


@pytest.mark.parametrize("config, line", [
    ('[tool.pitfall-lab]\nignore = ["S42"]\n',
     "pyproject.toml: [tool.pitfall-lab] ignore: unknown check 'S42'"),
    ('[tool.pitfall-lab]\ncolour = "red"\n',
     "pyproject.toml: [tool.pitfall-lab]: unknown key 'colour' (known: ignore, per-path-ignores)"),
    ('[tool.pitfall-lab\nignore = []\n', "pyproject.toml: not valid TOML"),
    ('[tool.pitfall-lab]\nignore = "S09"\n',
     "pyproject.toml: [tool.pitfall-lab] ignore: must be a list of check ids"),
], ids=["unknown-id", "unknown-key", "malformed", "not-a-list"])
def test_bad_configuration_is_one_line(examined, config, line):
    (examined.root / "pyproject.toml").write_text(config)
    with pytest.raises(gate.ConfigError) as caught:
        gate.read_config(examined.root)
    assert len(str(caught.value).splitlines()) == 1 and line in str(caught.value)


def test_bad_configuration_exits_2_before_anything_runs(project):
    (project / "pyproject.toml").write_text('[tool.pitfall-lab]\nignore = ["S42"]\n')
    result = doctor(project)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1


def test_an_unknown_id_in_a_comment_or_select_is_an_error(project):
    assert doctor(project, "--select", "S07,S99").stderr.strip() == (
        "pitfall-lab: --select: unknown check 'S99' (pitfall-lab doctor --list-checks names them)")
    app = project / "app.py"
    lines = app.read_text().splitlines()
    lines[16] += "  # pitfall-lab: ignore[S77]"  # app.py:17, where the findings point
    app.write_text("\n".join(lines) + "\n")
    result = doctor(project)
    assert result.returncode == 2 and "app.py:17: unknown check 'S77'" in result.stderr


def test_a_baseline_survives_unrelated_edits_and_catches_a_new_pitfall(project, tmp_path):
    baseline = tmp_path / "baseline.json"
    written = doctor(project, "--write-baseline", baseline)
    assert written.returncode == 0 and "wrote" in written.stderr
    app = project / "app.py"
    app.write_text("# one\n# two\n# three\n# four\n# five\n" + app.read_text())
    result = doctor(project, "--baseline", baseline, "--json")
    assert (result.returncode, found(result)) == (0, [])
    summary = json.loads(result.stdout)["summary"]
    assert (summary["in_baseline"], summary["baseline_gone"]) == (3, 0)
    # A second pitfall: a cron job run by path, which cannot import the app it needs.
    (project / "tools").mkdir()
    (project / "tools" / "count_notes.py").write_text(
        "from app import Note, app\n\nif __name__ == '__main__':\n"
        "    with app.app_context():\n        print(Note.query.count())\n")
    (project / "crontab").write_text("0 6 * * * cd /srv/notes && python tools/count_notes.py\n")
    result = doctor(project, "--baseline", baseline, "--json")
    assert (result.returncode, found(result)) == (1, ["S03-script-import"])


def test_a_baseline_says_how_many_entries_are_gone(project, tmp_path):
    baseline = tmp_path / "baseline.json"
    doctor(project, "--write-baseline", baseline)
    app = project / "app.py"
    app.write_text(app.read_text().replace("debug=True)", "debug=True, use_reloader=False)"))
    result = doctor(project, "--baseline", baseline)
    assert "1 baseline entries gone" in result.stdout


def test_a_file_that_is_not_a_baseline_is_one_line(project, tmp_path):
    bad = tmp_path / "baseline.json"
    bad.write_text("[]")
    result = doctor(project, "--baseline", bad)
    assert result.returncode == 2
    assert result.stderr.startswith(f"pitfall-lab: {bad}: not a baseline written by")


def test_sarif_is_the_same_from_run_to_run():
    first, second = (doctor(SAMPLES / "gunicorn_deploy", "--format", "sarif") for _ in range(2))
    assert first.stdout == second.stdout  # byte for byte: no timestamps, stable order


@pytest.mark.parametrize("sample", ["uwsgi_deploy", "rq_app", "single_file", "broken_app_script"])
def test_sarif_validates_against_the_schema(sample):
    log = json.loads(doctor(SAMPLES / sample, "--format", "sarif").stdout)
    import jsonschema  # here, not at collection: every pytest process collects this module

    jsonschema.validate(log, json.loads(SCHEMA.read_text()))
    run = log["runs"][0]
    assert run["results"]
    for result in run["results"]:
        assert result["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1
        assert result["partialFingerprints"]["pitfallLab/v1"]
    for rule in run["tool"]["driver"]["rules"]:
        assert rule["shortDescription"] and rule["fullDescription"]
        assert rule["helpUri"].startswith("https://")
