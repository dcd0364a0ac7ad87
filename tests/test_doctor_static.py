"""What the doctor reads plainly in the source (issue 27, item 6): interpreter options in the
lines that run the project's code (Procfile, crontab, Dockerfile); the database the project's
files configure and its engine options, for an app that makes no engine while loading."""
from pathlib import Path

import pytest

from pitfall_lab import doctor
from pitfall_lab.catalogue import scenario
from pitfall_lab.doctor import contexts, dburls, discover
from pitfall_lab.doctor import project as proj
from pitfall_lab.guard import observe

SAMPLES = Path(__file__).parent / "doctor_samples"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.mark.parametrize("line, command", [
    ("worker: python -u manage.py run_worker", ("script", "manage.py")),
    ("jobs: python3 -W ignore -m app.jobs", ("module", "app.jobs")),
    ("jobs: python -Wignore::DeprecationWarning -m app.jobs", ("module", "app.jobs")),
    ("0 3 * * * cd /srv && venv/bin/python3.11 -OO -X dev -B scripts/nightly.py",
     ("script", "scripts/nightly.py")),
    ("worker: python -u -m rq.cli worker", ("module", "rq.cli")),
    ("clock: python -c 'import app; app.tick()'", None),
], ids=["u-script", "W-module", "W-attached", "OO-X-B", "u-m", "c"])
def test_a_procfile_or_crontab_line_with_interpreter_options_is_a_command(tmp_path, line,
                                                                          command):
    name = "crontab" if line[0].isdigit() else "Procfile"
    project = proj.read(write(tmp_path, {name: line + "\n", "app.py": ""}))
    assert [(c.kind, c.target) for c in project.commands] == ([command] if command else [])
    if command:
        assert project.commands[0].source == f"{name}:1"


@pytest.mark.parametrize("line, target", [
    ("python -u run.py", "run.py"),
    ("python3 -W ignore run.py", "run.py"),
    ("python -X dev -u -m gunicorn -b :80 wsgi:app", "wsgi:app"),
    ("python -Wd -m flask --app blog run", "blog"),
    ("python3 -W ignore -m app.jobs", None),
], ids=["u", "W", "X-u-m-gunicorn", "Wd-m-flask", "W-m-jobs"])
def test_a_served_line_with_interpreter_options_names_its_app(line, target):
    assert discover.from_command(line) == target
    assert [t for _, t in discover.from_dockerfile(f"CMD {line}\n")] == (
        [target] if target else [])


# --- the database the files configure, for an engine made on first use ---------------------

def configured(tmp_path: Path, files: dict[str, str]) -> list[str]:
    return [f"{c.dialect} {c}" for c in dburls.configured(proj.read(write(tmp_path, files)))]


@pytest.mark.parametrize("files, found", [
    ({"config.py": "import os\nclass Config:\n    SQLALCHEMY_DATABASE_URI = os.environ.get(\n"
                   "        'DATABASE_URL', 'postgres://u:pw@db/app')\n"},
     ["postgresql config.py:4: postgres://u:***@db/app"]),
    ({"app.py": "import os\napp.config['SQLALCHEMY_DATABASE_URI'] = os.getenv('DB_URL') or "
                "'mysql+pymysql://u@h/app'\n"},
     ["mysql app.py:2: mysql+pymysql://u@h/app"]),
    ({"app.py": "app.config.update(SQLALCHEMY_DATABASE_URI='sqlite:///x.db')\n"},
     ["sqlite app.py:1: sqlite:///x.db"]),
    ({"settings.py": "import os\nURL = os.environ.get('DATABASE_URL', "
                     "'postgresql+psycopg2://localhost/x')\n"},
     ["postgresql settings.py:2: postgresql+psycopg2://localhost/x"]),
    ({"app.py": "", ".env.example": "# copy to .env\nDATABASE_URL=postgres://u:p@localhost/x\n",
      "docker-compose.yml": "services:\n  db:\n    image: postgres:15-alpine\n"},
     ["postgresql .env.example:2: postgres://u:***@localhost/x",
      "postgresql docker-compose.yml:3: a service runs the image postgres:15-alpine"]),
    ({"app.py": "", "app.json": '{"name": "x", "addons": ["heroku-postgresql:mini"]}'},
     ["postgresql app.json:1: the add-on heroku-postgresql:mini"]),
    ({"app.py": "'''Set DATABASE_URL, e.g. postgres://u@h/x.'''\nGREETING = 'mysql://no'\n",
      "tests/test_app.py": "import os\nos.environ['DATABASE_URL'] = 'postgresql://t/x'\n"},
     []),
], ids=["config-class-default", "getenv-or", "config-update", "module-default",
        "env-example-compose", "app-json", "docstring-test-other-name"])
def test_the_configured_database_is_read_from_the_files(tmp_path, files, found):
    assert configured(tmp_path, files) == found


def test_engine_options_are_read_from_the_source(tmp_path):
    project = proj.read(write(tmp_path, {
        "config.py": "class Config:\n    SQLALCHEMY_ENGINE_OPTIONS = {'pool_pre_ping': True,\n"
                     "                                 'pool_recycle': 0}\n",
        "db.py": "e = create_engine(url, pool_recycle=280)\nSQLALCHEMY_POOL_RECYCLE = 90\n",
        "off.py": "OPTIONS = {'pool_pre_ping': False}\n"}))
    assert [str(o) for o in dburls.engine_options(project)] == [
        "pool_pre_ping at config.py:2", "pool_recycle at db.py:1", "pool_recycle at db.py:2"]


@pytest.mark.skipif(observe.unsupported() is not None, reason=str(observe.unsupported()))
def test_a_postgresql_default_without_pre_ping_is_found_on_every_version_set():
    """Flask-SQLAlchemy 2.x makes the engine on first use: the load probe sees none, and the
    verdict comes from the files; 3.x makes it in init_app, and the probe sees its URL."""
    report = doctor.examine(SAMPLES / "lazy_engine_pg", select={"S12-no-pre-ping"})
    (result,) = report.results
    assert result.verdict == "found", result.message
    if int(scenario.installed("flask-sqlalchemy").split(".")[0]) >= 3:
        assert result.message == ("engine postgres://shop:***@db.example.com:5432/shop has no "
                                  "pool_pre_ping")
        assert result.location == ("shop/__init__.py", 12)
        return
    assert result.message == (
        f"no engine is made while loading (Flask-SQLAlchemy "
        f"{scenario.installed('flask-sqlalchemy')} makes it on first use); the project is "
        "configured for PostgreSQL, and no engine option sets pool_pre_ping")
    assert result.evidence[:4] == [
        "configured: config.py:8: postgres://shop:***@db.example.com:5432/shop",
        "configured: .env.example:2: postgres://shop:***@localhost:5432/shop",
        "configured: docker-compose.yml:6: postgres://shop:***@db:5432/shop",
        "configured: docker-compose.yml:8: a service runs the image postgres:15"]
    assert result.location == ("config.py", 8)


@pytest.mark.parametrize("options, verdict, said", [
    ("", "found", "no engine option sets pool_pre_ping"),
    ("    SQLALCHEMY_ENGINE_OPTIONS = {'pool_pre_ping': True}\n", "not found",
     "its engine options set pool_pre_ping at config.py:3"),
], ids=["no-option", "pre-ping"])
def test_the_verdict_from_the_files(tmp_path, options, verdict, said):
    """No engine while loading (here: the app never makes one), so the files decide."""
    from pitfall_lab.doctor import registry
    from pitfall_lab.doctor.checks import engine

    project = proj.read(write(tmp_path, {
        "config.py": "class Config:\n    SQLALCHEMY_DATABASE_URI = 'postgres://db/x'\n" + options}))
    (check,) = [c for c in registry.checks() if c.id == "S12-no-pre-ping"]
    result = engine.from_source(project, check)
    assert result.verdict == verdict and result.message.endswith(said), result.message


# --- a worker inside one pushed context, written out or implied by a CLI framework ----------

WORKER = "    Worker(['default'], connection=redis).work()\n"


@pytest.mark.parametrize("source, how", [
    ("from flask_script import Manager\nmanager = Manager(create_app)\n\n\n@manager.command\n"
     "def run_worker():\n" + WORKER,
     "inside a Flask-Script command (@manager.command), which Flask-Script runs in "
     "app.test_request_context() (m.py:6 run_worker)"),
    ("from flask_script import Manager\nmanager = Manager(app)\n\n\n"
     "@manager.option('-q', '--queue')\ndef work(queue):\n" + WORKER,
     "inside a Flask-Script command (@manager.option), which Flask-Script runs in "
     "app.test_request_context() (m.py:6 work)"),
    ("from flask_script import Command\n\n\nclass RunWorker(Command):\n    def run(self):\n    "
     + WORKER,
     "inside the run() of a Flask-Script Command, which Flask-Script runs in "
     "app.test_request_context() (m.py:5 run)"),
    ("import click\nfrom flask.cli import with_appcontext\n\n\n@click.command()\n"
     "@with_appcontext\ndef worker():\n" + WORKER,
     "inside a command under @with_appcontext, which runs it in an app context (m.py:7 worker)"),
    ("from flask.cli import AppGroup\njobs = AppGroup('jobs')\n\n\n@jobs.command('work')\n"
     "def work():\n" + WORKER,
     "inside a command of the AppGroup jobs, which Flask runs in an app context (m.py:6 work)"),
    ("def start():\n" + WORKER + "\n\n@bp.cli.command('worker')\ndef worker():\n    start()\n",
     "inside a Flask command (@bp.cli.command), which Flask runs in an app context (m.py:6 "
     "worker), through start()"),
    ("app.app_context().push()\n\nif __name__ == '__main__':\n" + WORKER,
     "after app.app_context().push() at m.py:1, which is never popped before it"),
    ("def main():\n    ctx = app.test_request_context()\n    ctx.push()\n" + WORKER,
     "after ctx.push() at m.py:3, which is never popped before it"),
], ids=["script-command", "script-option", "script-class", "with-appcontext", "app-group",
        "blueprint-cli-one-call-deep", "pushed-at-module", "pushed-by-name"])
def test_a_worker_inside_an_implied_or_pushed_context(tmp_path, source, how):
    found = contexts.worker_context(proj.read(write(tmp_path, {"m.py": source})))
    assert found is not None and found.how == how


@pytest.mark.parametrize("source", [
    "import click\n\n\n@click.command()\ndef worker():\n" + WORKER,
    "class W(SimpleWorker):\n    def execute_job(self, job, queue):\n"
    "        with app.app_context():\n            return super().execute_job(job, queue)\n\n\n"
    "if __name__ == '__main__':\n" + WORKER,
    "def main():\n    with app.app_context():\n        db.create_all()\n" + WORKER,
    "def main():\n    ctx = app.app_context()\n" + WORKER,
    "def main():\n    ctx = app.app_context()\n    ctx.push()\n    db.create_all()\n"
    "    ctx.pop()\n" + WORKER,
], ids=["plain-click", "context-per-job", "context-closed-before", "never-pushed",
        "pushed-then-popped"])
def test_a_worker_outside_any_context_is_not_one(tmp_path, source):
    assert contexts.worker_context(proj.read(write(tmp_path, {"m.py": source}))) is None


# --- a write path the empty throwaway database stops early ----------------------------------

@pytest.mark.skipif(observe.unsupported() is not None, reason=str(observe.unsupported()))
def test_a_write_the_failed_query_never_reached_is_said():
    """The app catches its own query's 'no such table' (its tables come from migrations) and
    loads: the seed after it never ran, which S01 and S09 say instead of a plain 'not found'."""
    report = doctor.examine(SAMPLES / "seed_before_migrate")
    assert report.loaded, report.load_error
    said = ("not found, but the app's query failed while loading (sqlite3.OperationalError: no "
            "such table: setting, at app.py:19): a write after it was never reached")
    assert {r.check.code: (r.verdict, r.message) for r in report.results
            if r.check.code in ("S01", "S09")} == {"S01": ("not found", said),
                                                   "S09": ("not found", said)}


@pytest.mark.skipif(observe.unsupported() is not None, reason=str(observe.unsupported()))
@pytest.mark.parametrize("kind", ["repro", "fix"])
def test_a_url_from_the_environment_is_the_dburi_servers(kind, pg_database):
    """The stale-connection repro takes its URL from DATABASE_URL alone; with --dburi naming a
    PostgreSQL server it is found on every version set (on Flask-SQLAlchemy 2.x from the
    files: no engine while loading), and its fix (pool_pre_ping) is not."""
    s = scenario.load("stale_connection")
    (variant,) = [v for v in s.variants if v.kind == kind]
    report = doctor.examine(variant.path, dburi=pg_database, select={"S12-no-pre-ping"})
    (result,) = report.results
    assert result.verdict == ("found" if kind == "repro" else "not found"), result.message
    if int(scenario.installed("flask-sqlalchemy").split(".")[0]) < 3:
        said = ("the URL is DATABASE_URL from the environment, and --dburi names a PostgreSQL "
                "server")
        assert any(said in e for e in result.evidence + [result.message]), result


@pytest.mark.skipif(observe.unsupported() is not None, reason=str(observe.unsupported()))
def test_the_configured_database_is_read_when_the_app_cannot_load(tmp_path):
    """S12 needs only the source: when the app does not load, the files still say."""
    root = write(tmp_path, {
        "config.py": "class Config:\n    SQLALCHEMY_DATABASE_URI = 'postgres://shop@db/shop'\n",
        "app.py": "from flask import Flask\nimport local_settings\n\napp = Flask(__name__)\n"})
    report = doctor.examine(root, select={"S12-no-pre-ping"})
    assert not report.loaded
    (result,) = report.results
    assert (result.verdict, result.message) == (
        "found", "the app did not load (ModuleNotFoundError: No module named 'local_settings', "
                 "app.py:2); the project is configured for PostgreSQL, and no engine option "
                 "sets pool_pre_ping")
    assert result.location == ("config.py", 2)
