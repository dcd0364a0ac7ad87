"""Where the doctor finds the app, as `flask` and the deployment find it: the command lines of
gunicorn, uWSGI, waitress and flask; uWSGI and gunicorn configs, Dockerfiles, docker-compose,
.env and .flaskenv read as python-dotenv reads them; and the user's environment as the user has
it (exported FLASK_* variables kept; setup.py, noxfile.py and conftest.py never imported)."""
import os
from pathlib import Path

import pytest

from pitfall_lab import doctor
from pitfall_lab.doctor import discover, output
from pitfall_lab.doctor import project as proj
from pitfall_lab.guard import observe


@pytest.mark.parametrize("line, target", [
    ("gunicorn autoapp:app", "autoapp:app"),
    ('gunicorn -w 4 "app:create_app()"', "app:create_app()"),
    ("gunicorn -k gevent -b 0.0.0.0:$PORT --access-logfile - wsgi:application",
     "wsgi:application"),
    ("gunicorn --bind=:8000 --workers=2 project.wsgi:app --preload", "project.wsgi:app"),
    ("python -m gunicorn -c gunicorn.conf.py wsgi:app", "wsgi:app"),
    ("exec gunicorn -b :5000 --access-logfile - --error-logfile - microblog:app",
     "microblog:app"),
    ("uwsgi --http :5000 --module app:app --master", "app:app"),
    ("uwsgi --http-socket :9090 --wsgi-file run.py --callable application",
     "run.py:application"),
    ("uwsgi -w wsgi", "wsgi"),
    ("waitress-serve --port=8080 --call app:create_app", "app:create_app()"),
    ("waitress-serve --listen=*:8080 server:app", "server:app"),
    ("flask --app blog run --debug", "blog"),
    ("flask -A 'blog:create_app(\"dev\")' run", 'blog:create_app("dev")'),
    ("FLASK_APP=blog.py flask run -h 0.0.0.0", "blog.py"),
    ("python manage.py runserver", "manage.py"),
    ("python3 -u run.py", "run.py"),
    ('sh -c "gunicorn app:app"', "app:app"),
    ("flask db upgrade; flask translate compile; gunicorn microblog:app", "microblog:app"),
    ("flask db upgrade && exec uwsgi --ini uwsgi.ini --module api:app", "api:app"),
    ("celery -A tasks worker --loglevel=info", None),
    ("python -m rq.cli worker", None),
], ids=lambda v: str(v).split()[0] if v else "none")
def test_a_command_line_names_the_app_it_serves(line, target):
    assert discover.from_command(line) == target


@pytest.mark.parametrize("text, target", [
    ("[uwsgi]\nmodule = app:app\nmaster = true\n", "app:app"),
    ("[uwsgi]\nmodule = wsgi\ncallable = application\n", "wsgi:application"),
    ("[uwsgi]\nwsgi-file = run.py\ncallable = app\n", "run.py:app"),
    ("[other]\nmodule = nope:app\n[uwsgi]\nmount = /=api:app\n", "api:app"),
    ("[uwsgi]\nhttp = :8000\n", None),
], ids=["module", "module-callable", "wsgi-file", "mount", "none"])
def test_a_uwsgi_ini_names_its_app(text, target):
    assert discover.from_uwsgi_ini(text) == target


def test_gunicorn_conf_dockerfile_and_compose_name_the_app():
    assert discover.from_gunicorn_conf('bind = ":80"\nwsgi_app = "app:create_app()"\n') == \
        "app:create_app()"
    dockerfile = ('FROM python:3.11\nENV FLASK_APP=microblog.py\n'
                  'CMD ["gunicorn", "-b", ":5000", \\\n     "wsgi:app"]\n'
                  'ENTRYPOINT exec uwsgi --module api:app\n')
    assert list(discover.from_dockerfile(dockerfile)) == [
        (2, "microblog.py"), (3, "wsgi:app"), (5, "api:app")]
    compose = ('services:\n  web:\n    command: gunicorn -w 2 shop:app\n'
               '    environment:\n      - FLASK_APP=shop\n  api:\n'
               '    command: ["waitress-serve", "--call", "api:make"]\n')
    assert list(discover.from_compose(compose)) == [
        (3, "shop:app"), (5, "shop"), (7, "api:make()")]


def test_a_script_the_dockerfile_starts_is_read(tmp_path):
    (tmp_path / "boot.sh").write_text("#!/bin/sh\nflask db upgrade\nexec gunicorn -b :5000 \\\n"
                                      "  microblog:app\n")
    read = lambda rel: (tmp_path / rel).read_text()  # noqa: E731
    assert list(discover.from_dockerfile('ENTRYPOINT ["./boot.sh"]\n', read)) == [
        (1, "microblog:app")]


def test_dotenv_files_are_read_as_python_dotenv_reads_them(tmp_path):
    (tmp_path / ".env").write_text(
        "# comment\nexport SECRET='a#b'  # a comment\nURL=\"postgresql://${DB_HOST:-localhost}/x\"\n"
        "MULTI=\"one\ntwo\"\nESCAPED=\"tab\\there\"\nBARE=plain value # note\nFLASK_APP=from_env\n"
        "HOME_DIR=${HOME}\n")
    (tmp_path / ".flaskenv").write_text("FLASK_APP=from_flaskenv\nFLASK_RUN_PORT=8000\n")
    values = discover.dotenv(tmp_path, {"HOME": "/home/u", "FLASK_RUN_PORT": "9000"})
    assert {k: v for k, (v, _) in values.items()} == {
        "SECRET": "a#b", "URL": "postgresql://localhost/x", "MULTI": "one\ntwo",
        "ESCAPED": "tab\there", "BARE": "plain value", "FLASK_APP": "from_env",
        "HOME_DIR": "/home/u"}  # .env first; what is exported (FLASK_RUN_PORT) stays
    assert values["FLASK_APP"][1] == ".env:8" and values["MULTI"][1] == ".env:4"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_candidates_come_in_flask_and_deployment_order(tmp_path):
    write(tmp_path, {
        "Procfile": "release: flask db upgrade\nweb: gunicorn autoapp:app\n",
        "gunicorn.conf.py": 'wsgi_app = "gone:app"\n', "autoapp.py": "", "blog.py": "",
        "wsgi.py": "", "factory.py": "from flask import Flask\n\n\ndef build(debug=False):\n"
                                     "    return Flask(__name__)\n"})
    project = proj.read(tmp_path)
    absent = []
    found = discover.candidates(project, None, {"FLASK_APP": "blog"},
                                {"FLASK_APP": ("blog", ".flaskenv:1")}, absent)
    assert [str(c) for c in found] == [
        "blog (FLASK_APP, exported)", "autoapp:app (Procfile:2)", "wsgi.py (flask's default)",
        "factory:build() (factory.py: it makes a Flask app)"]
    assert [str(c) for c in absent] == ["gone:app (gunicorn.conf.py: wsgi_app)"]
    assert [str(c) for c in discover.candidates(project, "x:y", {}, {})] == ["x:y (--app)"]


def test_tool_files_are_never_modules_and_a_dotenv_file_is_copied(tmp_path):
    write(tmp_path, {"setup.py": "", "noxfile.py": "", "conftest.py": "", "pkg/__init__.py": "",
                     "pkg/conftest.py": "", "app.py": "", ".env": "A=1\n", "env/pyvenv.cfg": ""})
    project = proj.read(tmp_path)
    assert sorted(project.modules) == ["app", "pkg"]
    copy = project.copy_to(tmp_path.parent / "copy")
    assert (copy / ".env").is_file() and not (copy / "env").exists()


observed = pytest.mark.skipif(observe.unsupported() is not None,
                                       reason=str(observe.unsupported()))


@observed
def test_the_users_environment_stays_and_what_the_doctor_sets_is_said(tmp_path, monkeypatch):
    """An exported FLASK_* variable reaches the app (the doctor used to remove them); the
    header says which variables the doctor sets, and which exported ones it overrides;
    setup.py is never imported (it would write its marker)."""
    marker = tmp_path / "setup-ran"
    root = write(tmp_path / "project", {
        "app.py": "import os\n\nfrom flask import Flask\n\napp = Flask(__name__)\n"
                  "app.config['GZIP'] = os.environ['FLASK_GZIP_COMPRESSION']\n",
        "setup.py": f"open({str(marker)!r}, 'w').write('ran')\n"})
    monkeypatch.setenv("FLASK_GZIP_COMPRESSION", "1")
    monkeypatch.setenv("PYTHONHASHSEED", "7")
    report = doctor.examine(root)
    assert report.loaded, report.load_error
    assert not marker.exists()
    line = output.environment_line(report)
    assert line.startswith("environment: as exported; the doctor sets PITFALL_LAB_DOCTOR_DB "
                           "(the throwaway database, for the probe); PATH (this interpreter's "
                           "bin first); PYTHONDONTWRITEBYTECODE, PYTHONUNBUFFERED, PYTHONHASHSEED")
    assert "it overrides the exported" in line and "PYTHONHASHSEED" in line.rsplit(";", 1)[1]
    assert "FLASK_GZIP_COMPRESSION" not in line
    monkeypatch.delenv("FLASK_GZIP_COMPRESSION")
    report = doctor.examine(root)
    assert report.load_error["cause"] == "KeyError: 'FLASK_GZIP_COMPRESSION', app.py:6"
    assert os.environ.get("FLASK_GZIP_COMPRESSION") is None


@observed
def test_an_app_that_demands_its_url_under_another_name_gets_the_throwaway_one(tmp_path):
    """os.getenv("DATABASE_URI") into SQLALCHEMY_DATABASE_URI: on Flask-SQLAlchemy 3 the load
    fails without it ('Either SQLALCHEMY_DATABASE_URI or SQLALCHEMY_BINDS must be set'), and
    the doctor loads it again with the throwaway database under that name too."""
    root = write(tmp_path / "project", {
        "app.py": "import os\n\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
                  "app = Flask(__name__)\n"
                  "app.config['SQLALCHEMY_DATABASE_URI'] = os.getenv('DATABASE_URI')\n"
                  "db = SQLAlchemy(app)\n"})
    report = doctor.examine(root)
    assert report.loaded, report.load_error


def test_a_worker_service_script_is_not_the_app():
    """In docker-compose, `python script.py` names the app only in a service that serves
    (ports: or expose:), as a Procfile's web: line does; a server's command line names it in
    any service. The old format, services at the top level, is read the same way."""
    compose = ('services:\n  web:\n    command: python run.py\n    ports:\n      - "80:80"\n'
               '  worker:\n    command: ["python", "-u", "worker.py"]\n'
               '  api:\n    expose: ["8000"]\n    command: sh -c "flask db upgrade && python api.py"\n'
               '  tasks:\n    command: gunicorn tasks:app\n')
    assert list(discover.from_compose(compose)) == [
        (3, "run.py"), (10, "api.py"), (12, "tasks:app")]
    old = 'web:\n  command: python run.py\n  ports:\n   - 80:80\nworker:\n  command: python w.py\n'
    assert list(discover.from_compose(old)) == [(2, "run.py")]



@pytest.mark.parametrize("line, target", [
    ('sh -c "flask db upgrade && gunicorn app:app"', "app:app"),
    ("bash -c 'flask db upgrade; exec gunicorn -b :80 wsgi:app'", "wsgi:app"),
    ('/bin/sh -c "python manage.py migrate && python run.py"', "manage.py"),
    ("gunicorn shop.app:create_app\\(\\) -b 0.0.0.0:$PORT -w 3", "shop.app:create_app()"),
    ("flask db upgrade&&gunicorn api:app &", "api:app"),
], ids=["sh-and", "bash-semicolon", "sh-python", "escaped-factory", "no-spaces"])
def test_a_shell_line_is_split_as_the_shell_splits_it(line, target):
    """Several commands inside `sh -c "..."` (docker-compose, Dockerfile), split at the shell's
    operators outside quotes; backslashes undone (cookiecutter-flask's Procfile)."""
    assert discover.from_command(line) == target

@pytest.mark.parametrize("target, mapped", [
    ("/srv/board/board/__init__.py", "board"),
    ("/home/web/app/__init__.py:create_app()", "app:create_app()"),
    ("/app/wsgi.py", "wsgi.py"),
    ("/code/board", "board"),
    ("/srv/elsewhere.py", "/srv/elsewhere.py"),
    ("board:app", "board:app"),
], ids=["package-init", "with-factory", "module-file", "package-folder", "not-here", "relative"])
def test_an_absolute_path_is_read_as_the_projects_own(tmp_path, target, mapped):
    """FLASK_APP or a command names the app by its path in the container (where the project
    is mounted or copied) or on the host: its longest tail in the project is the target."""
    write(tmp_path, {"board/__init__.py": "", "app/__init__.py": "", "wsgi.py": ""})
    assert discover.in_project_path(tmp_path, target) == mapped


@observed
def test_the_app_named_by_its_container_path_loads_not_the_worker():
    """Sample compose_worker: the web service names the app by its container path only, and a
    worker service runs a script that fails without its queue's address. The doctor loads the
    app (it used to load the worker's script and say the app could not load)."""
    report = doctor.examine(Path(__file__).parent / "doctor_samples" / "compose_worker")
    assert (report.app, report.app_source) == ("board", "docker-compose.yml:12")
    assert report.loaded, report.load_error
    assert not report.found, [(r.check.id, r.message) for r in report.found]
