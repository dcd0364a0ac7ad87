"""The doctor's output is the same on every run and speaks of the user's project only: paths
relative to the project (never the throwaway copy's /tmp/pitfall-lab-doctor-...), a throwaway
database named as such, --json and SARIF byte-identical between two runs; and --dburi works on
the default install, where pytest is not."""
import json
import sys

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.guard import observe
from pitfall_lab.harness import procs

pytestmark = pytest.mark.skipif(observe.unsupported() is not None,
                                reason=str(observe.unsupported()))

# An app that takes its URL from DATABASE_URL (so it gets the throwaway one), connects at
# import, and is preloaded by gunicorn: its finding names that engine.
APP = '''import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
db = SQLAlchemy(app)


class Setting(db.Model):
    key = db.Column(db.String(40), primary_key=True)


with app.app_context():
    db.create_all()
    kept = db.engine.connect()  # open until the app ends: past the fork
'''
# Makes `import pytest` fail, in the doctor and in every probe it starts (PYTHONPATH is passed
# on to the user's code): the default install, without the test extra.
NO_PYTEST = '''import sys


class NoPytest:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("pytest", "_pytest"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NoPytest())
'''


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "settings"
    root.mkdir()
    (root / "app.py").write_text(APP)
    (root / "gunicorn.conf.py").write_text('preload_app = True\nwsgi_app = "app:app"\n')
    return root


def doctor(*args, env=None):
    return procs.run(["pitfall-lab", "doctor", *map(str, args)], cwd=scenario.ROOT, timeout=180,
                     env=env)


@pytest.mark.parametrize("fmt", [["--json"], ["--format", "sarif"]], ids=["json", "sarif"])
def test_two_runs_give_the_same_bytes_and_no_path_of_the_copy(project, fmt):
    first, second = doctor(project, *fmt), doctor(project, *fmt)
    assert first.returncode == second.returncode == 1, first.stderr  # S07b is an error
    assert first.stdout == second.stdout
    assert "pitfall-lab-doctor-" not in first.stdout and "/tmp" not in first.stdout.replace(
        json.dumps(str(project))[1:-1], "")
    if fmt == ["--json"]:
        (result,) = [r for r in json.loads(first.stdout)["results"] if r["code"] == "S07b"]
        # where the engine is made: SQLAlchemy(app) on Flask-SQLAlchemy 3, first use on 2.x
        line = result["location"]["line"]
        assert (result["location"], result["evidence"]) == (
            {"path": "app.py", "line": line},
            [f"engine sqlite://<the doctor's throwaway database> created at app.py:{line}"])


def test_the_table_names_the_app_target_used(project):
    result = doctor(project)
    assert result.stdout.splitlines()[1] == "app: app:app (from gunicorn.conf.py: wsgi_app)"


def test_dburi_works_where_pytest_is_not_installed(project, tmp_path, pg_database):
    hide = tmp_path / "nopytest"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text(NO_PYTEST)
    env = {"PYTHONPATH": str(hide)}
    hidden = procs.run([sys.executable, "-c", "import pytest"], cwd=tmp_path, env=env)
    assert "ModuleNotFoundError: No module named 'pytest'" in hidden.stderr
    first = doctor(project, "--dburi", pg_database, "--json", env=env)
    assert first.returncode == 1, first.stderr
    assert "Traceback" not in first.stderr
    data = json.loads(first.stdout)
    assert data["loaded"] is True
    assert {r["code"] for r in data["results"] if r["verdict"] == "found"} >= {"S07", "S09"}
    assert doctor(project, "--dburi", pg_database, "--json", env=env).stdout == first.stdout


def test_the_install_metadata_and_the_doctor_agree_on_sqlalchemy():
    """The install allows SQLAlchemy 1.3.24 (the lab's v1 set runs on it); the doctor observes
    1.4 and later, which its extra requires and its refusal names."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    meta = tomllib.loads((scenario.ROOT / "pyproject.toml").read_text())["project"]
    assert "sqlalchemy>=1.3.24" in meta["dependencies"]
    assert meta["optional-dependencies"]["doctor"] == [f"sqlalchemy>={observe.SUPPORTED}"]
    readme = (scenario.ROOT / "README.md").read_text()
    assert "pip install 'flask-sqlalchemy-pitfall-lab[doctor]'" in readme


@pytest.mark.parametrize("dburi, line", [
    ("postgresql+psycopg2://lab:secret@127.0.0.1:1/x",
     "--dburi postgresql+psycopg2://lab:***@127.0.0.1:1/x: cannot connect: connection to server "
     "at \"127.0.0.1\", port 1 failed: Connection refused"),
    ("garbage", "--dburi 'garbage': not a SQLAlchemy URL (dialect+driver://user:password@host/db)"),
], ids=["refused", "not-a-url"])
def test_a_dburi_it_cannot_use_is_one_line_and_exit_2(project, dburi, line):
    """Never a traceback, and never exit 1 (which a CI gate reads as a finding)."""
    result = doctor(project, "--dburi", dburi)
    assert (result.returncode, result.stderr.splitlines()) == (
        2, [f"pitfall-lab: could not check: {line}"])
    result = doctor(project, "--dburi", dburi, "--json")
    assert (result.returncode, json.loads(result.stdout)["error"]) == (
        2, f"could not check: {line}")


def test_a_result_without_a_line_points_at_the_projects_own_first_file(tmp_path):
    """SARIF needs a location for the could-not-load result: the project's first module, never
    a file of its virtualenv (.venv sorts before every name)."""
    from pitfall_lab import doctor as lab_doctor
    from pitfall_lab.doctor import output

    (tmp_path / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (tmp_path / ".venv" / "lib" / "a.py").write_text("")
    (tmp_path / "jobs.py").write_text("def run():\n    return 1\n")
    report = lab_doctor.examine(tmp_path)
    (result,) = [r for r in output.sarif(report)["runs"][0]["results"]
                 if r["ruleId"] == output.COULD_NOT_LOAD]
    assert result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "jobs.py"}, "region": {"startLine": 1}}
