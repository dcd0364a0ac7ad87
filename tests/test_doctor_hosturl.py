"""The doctor's hosturl probe and its check: the app loaded with DATABASE_URL as a host hands it
out (postgres://...), its engines made, and the URL each one asked for
(pitfall_lab/doctor/checks/engine.py). On the scenario's own repro and fix, a copy without its
Procfile, a project that never names DATABASE_URL, and one that refuses the URL while loading."""
import shutil

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.guard import observe

S = scenario.load("postgres_url_scheme")
pytestmark = pytest.mark.skipif(observe.unsupported() is not None,
                                reason=str(observe.unsupported()))


def verdict(path):
    from pitfall_lab import doctor

    (result,) = [r for r in doctor.examine(path).results if r.check.scenario == S.id]
    return result


@pytest.mark.parametrize("variant", S.variants, ids=str)
def test_the_verdict_on_each_variant(variant):
    result = verdict(variant.path)
    if variant.kind == "fix":
        assert (result.verdict, result.message) == (
            "not found", "DATABASE_URL=postgres://doctor:doctor@127.0.0.1:9/host_url becomes "
                         "postgresql://...")
    elif S.affected("deploy"):  # SQLAlchemy 1.4 and later
        assert result.verdict == "found", result.message
        assert result.message.endswith(
            "Can't load plugin: sqlalchemy.dialects:postgres; deployed with Procfile (Heroku, "
            "Dokku)")
        # db.init_app(app) makes the engine on Flask-SQLAlchemy 3; 2.x makes it on first use,
        # and the line that reads the variable is shown
        three = int(scenario.installed("flask-sqlalchemy").split(".")[0]) >= 3
        assert result.location == (("app.py", 19) if three else ("app.py", 17))
    else:
        assert result.verdict == "not found"


def test_without_a_host_that_hands_it_out_it_is_not_a_finding(tmp_path):
    project = shutil.copytree(S.variant("repro").path, tmp_path / "app")
    (project / "Procfile").unlink()
    result = verdict(project)
    assert result.verdict == "not found"
    if S.affected("deploy"):
        assert result.message.endswith("; no host that hands one out is configured here "
                                       "(Procfile, app.json, heroku.yml, fly.toml)")


def test_a_project_that_never_names_database_url(tmp_path):
    (tmp_path / "app.py").write_text(
        "from flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
        "app = Flask(__name__)\napp.config['SQLALCHEMY_DATABASE_URI'] = 'sqlite:///app.db'\n"
        "db = SQLAlchemy(app)\n")
    result = verdict(tmp_path)
    assert (result.verdict, result.message) == ("not applicable",
                                                "the project never names DATABASE_URL")


def test_an_app_that_refuses_the_hosts_url_while_loading(tmp_path):
    (tmp_path / "app.py").write_text(
        "import os\n\nfrom flask import Flask\nfrom flask_sqlalchemy import SQLAlchemy\n\n"
        "url = os.environ.get('DATABASE_URL', 'sqlite:///app.db')\n"
        "if url.startswith('postgres://'):\n"
        "    raise RuntimeError('DATABASE_URL must start with postgresql://')\n"
        "app = Flask(__name__)\napp.config['SQLALCHEMY_DATABASE_URI'] = url\n"
        "db = SQLAlchemy(app)\n")
    result = verdict(tmp_path)
    assert (result.verdict, result.message) == (
        "could not check", "with DATABASE_URL=postgres://doctor:doctor@127.0.0.1:9/host_url the "
        "app did not load: RuntimeError: DATABASE_URL must start with postgresql:// at app.py:8")
