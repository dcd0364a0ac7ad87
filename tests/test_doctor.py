"""pitfall-lab doctor on projects shaped as users write them: each sample's verdicts, the tree
left as it was, one line and exit 2 for what it cannot examine, the machine-readable outputs."""
import hashlib
import json
import sys
from pathlib import Path

import pytest

from pitfall_lab import doctor
from pitfall_lab.catalogue import scenario
from pitfall_lab.guard import observe
from pitfall_lab.harness import procs
from pitfall_lab.doctor import output

# The doctor, the guard and the gate observe SQLAlchemy 1.4's events: on older versions they
# refuse in one line (tests/test_old_sqlalchemy.py), and these tests do not run.
pytestmark = pytest.mark.skipif(observe.unsupported() is not None,
                                reason=str(observe.unsupported()))

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SAMPLES = Path(__file__).parent / "doctor_samples"
EXPECTED = tomllib.loads((SAMPLES / "expected.toml").read_text())
CODES = {s.id: s.code for s in scenario.load_all().values()}


def snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            if p.is_file() else "folder" for p in sorted(root.rglob("*"))}  # a new __pycache__ shows


@pytest.fixture(scope="module", params=sorted(EXPECTED))
def examined(request):
    root = SAMPLES / request.param
    before = snapshot(root)
    report = doctor.examine(root)
    return request.param, report, before, snapshot(root)


def test_each_sample_gets_its_expected_verdicts(examined):
    name, report, _, _ = examined
    found = sorted({CODES[r.check.scenario] for r in report.found})
    assert found == sorted(EXPECTED[name]["found"]), [(r.check.id, r.message) for r in report.found]
    for code in EXPECTED[name].get("could_not_check", []):
        assert any(CODES[r.check.scenario] == code and r.verdict == "could not check"
                   for r in report.results)
    for r in report.found:
        assert r.location and (report.root / r.location[0]).is_file(), r.check.id
    if "load_error" in EXPECTED[name]:
        return
    # Every module imports on its own: no probe reached the app's own database URL
    # (gunicorn_deploy and uwsgi_deploy name a PostgreSQL server that is not there).
    (imports,) = [r for r in report.results if r.check.id == "S02-circular-import"]
    assert imports.message.endswith("module(s) import on their own"), imports.message


def test_the_app_is_found_where_the_project_names_it(examined):
    """The header names the app target used and where it was read, never None."""
    name, report, _, _ = examined
    expected = EXPECTED[name]
    if "app" in expected:
        assert (report.app, report.app_source) == (expected["app"], expected["app_source"])
    assert report.app is not None
    assert output.app_line(report).startswith(
        f"app: {report.app} (from " if report.loaded else f"app: could not load {report.app} (")


def test_an_app_that_cannot_load_says_why_and_the_other_checks_run(examined):
    """The last exception, at the user's line relative to the project; the checks that need
    the app say so, with that cause; the others ran."""
    name, report, _, _ = examined
    cause = EXPECTED[name].get("load_error")
    if cause is None:
        assert report.loaded, report.load_error
        return
    assert report.load_error["cause"] == cause
    assert "/tmp" not in output.app_line(report) and str(report.root) not in cause
    for r in report.results:
        if CODES[r.check.scenario] in EXPECTED[name]["could_not_check"]:
            assert (r.verdict, r.message) == ("could not check", f"the app did not load ({cause})")
    data = output.as_json(report)
    path, line = cause.rsplit(", ", 1)[1].split(":")
    assert (data["loaded"], data["load_error"]["location"]) == (False, {"path": path,
                                                                       "line": int(line)})
    (result,) = [r for r in output.sarif(report)["runs"][0]["results"]
                 if r["ruleId"] == output.COULD_NOT_LOAD]
    assert result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": path}, "region": {"startLine": int(line)}}
    assert result["message"]["text"] == f"could not load the app: {cause.rsplit(', ', 1)[0]}"


def test_the_project_is_left_as_it_was(examined):
    _, _, before, after = examined
    assert after == before


def test_json_and_sarif_carry_every_finding_with_a_location(examined):
    _, report, _, _ = examined
    data = output.as_json(report)
    assert data["format"] == output.FORMAT
    assert [r["id"] for r in data["results"] if r["verdict"] == "found"] == [
        r.check.id for r in report.found]
    sarif = output.sarif(report)
    results = sarif["runs"][0]["results"]
    assert len(results) == len(report.found) + (not report.loaded)  # and one: could not load
    for result in results:
        location = result["locations"][0]["physicalLocation"]
        assert not Path(location["artifactLocation"]["uri"]).is_absolute()
        assert location["region"]["startLine"] >= 1 and result["partialFingerprints"]


def pitfall_lab(*args):
    return procs.run(["pitfall-lab", *args], cwd=scenario.ROOT, timeout=120)


def test_the_cli_prints_the_table_and_exits_1_on_a_finding():
    result = pitfall_lab("doctor", str(SAMPLES / "single_file"))
    assert result.returncode == 1, result.stderr
    assert "S01  found" in result.stdout and "fix: Seed in a `flask` command" in result.stdout
    assert "\x1b[" not in result.stdout  # colour only on a terminal


def test_a_clean_project_exits_0_and_json_is_alone_on_stdout():
    result = pitfall_lab("doctor", str(SAMPLES / "clean"), "--json")
    assert result.returncode == 0, result.stderr
    assert not [r for r in json.loads(result.stdout)["results"] if r["verdict"] == "found"]


@pytest.mark.parametrize("files, args, line", [
    ({}, ["/nonexistent/project"], "pitfall-lab: not a project: /nonexistent/project: not a directory"),
    ({"README.md": "# notes\n"}, [], "pitfall-lab: not a project: {root}: no Python files"),
], ids=["missing", "no-python"])
def test_what_it_cannot_examine_is_one_line_and_exit_2(tmp_path, files, args, line):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    result = pitfall_lab("doctor", *(args or [str(tmp_path)]))
    assert result.returncode == 2
    assert [text for text in result.stderr.splitlines() if text.strip()] == [
        line.format(root=tmp_path.resolve())]
    result = pitfall_lab("doctor", *(args or [str(tmp_path)]), "--json")
    assert result.returncode == 2
    assert json.loads(result.stdout)["error"] == line.format(root=tmp_path.resolve()).split(
        ": ", 1)[1]


@pytest.mark.parametrize("files, line", [
    ({"util.py": "def add(a, b):\n    return a + b\n", "Procfile": "web: gunicorn api:app\n"},
     "app: could not load: no app found; tried api:app (Procfile:1): not a module of the "
     "project; try --app MODULE:NAME"),
    ({"util.py": "from flask import Flask\n\n\ndef make(name):\n    return Flask(name)\n",
      ".flaskenv": "FLASK_APP=util\n"},
     "app: could not load: no app found; tried util (.flaskenv:1): Failed to find Flask "
     "application or factory in module 'util'. Use 'util:name' to specify one.; try --app "
     "MODULE:NAME"),
    ({"app.py": "from flask import Flask\n\n\ndef create_app():\n    raise RuntimeError("
               "'SECRET_KEY is not set')\n"},
     "app: could not load app.py (from flask's default): RuntimeError: SECRET_KEY is not set at "
     "app.py:5"),
    ({"app.py": "from flask import Flask\nfrom config import Config\n\napp = Flask(__name__)\n",
      "config.py": "from itsdangerous import TimedJSONWebSignatureSerializer\n"},
     "app: could not load app.py (from flask's default): ImportError: cannot import name "
     "'TimedJSONWebSignatureSerializer' from 'itsdangerous' ({itsdangerous}) at config.py:1"),
], ids=["no-app", "no-app-in-flaskenv", "factory-raises", "import-error-cause"])
def test_an_app_that_cannot_load_is_one_line_and_exit_2_with_the_checks_that_ran(
        tmp_path, files, line):
    """Flask's "While importing 'config', an ImportError was raised" is cut to its cause."""
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    import itsdangerous
    if "itsdangerous" in line and hasattr(itsdangerous, "TimedJSONWebSignatureSerializer"):
        pytest.skip("this itsdangerous still has TimedJSONWebSignatureSerializer")
    line = line.format(itsdangerous=itsdangerous.__file__)
    result = pitfall_lab("doctor", str(tmp_path))
    assert result.returncode == 2
    assert [text for text in result.stderr.splitlines() if text.strip()] == [
        f"pitfall-lab: {line}"]
    assert result.stdout.splitlines()[1] == line
    assert "S31  not found" in result.stdout and "/tmp/pitfall-lab-doctor" not in result.stdout
    result = pitfall_lab("doctor", str(tmp_path), "--json")
    assert result.returncode == 2
    data = json.loads(result.stdout)
    assert data["loaded"] is False and data["load_error"]["message"] in line
    assert {r["verdict"] for r in data["results"] if r["code"] == "S09"} == {"could not check"}
