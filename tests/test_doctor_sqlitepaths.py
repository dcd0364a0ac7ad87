"""The doctor's static check for relative SQLite paths (pitfall_lab/doctor/checks/sqlitepaths.py):
the folder a relative path resolves in, by the installed Flask-SQLAlchemy, on small projects and
on the scenario's repro and fix."""
import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.guard import observe

S = scenario.load("sqlite_relative_path")
APP = '''from flask import Flask
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "{url}"
    db.init_app(app)
    return app
'''
FSA3 = int((scenario.installed("flask-sqlalchemy") or "0").split(".")[0]) >= 3

pytestmark = pytest.mark.skipif(observe.unsupported() is not None,
                                reason=str(observe.unsupported()))


def verdict(path):
    from pitfall_lab import doctor
    from pitfall_lab.doctor import registry

    (check,) = [c.id for c in registry.checks() if c.scenario == S.id]
    (result,) = doctor.examine(path, select={check}).results
    return result


@pytest.mark.parametrize("url, folders, expected", [
    ("sqlite:///data/app.db", [], "found"),
    ("sqlite:///data/app.db", ["instance/data" if FSA3 else "data"], "not found"),
    ("sqlite:///data/app.db", ["data" if FSA3 else "instance/data"], "found"),
    ("sqlite:///app.db", [], "not applicable"),
    ("sqlite:////var/lib/app/app.db", [], "not applicable"),
    ("postgresql://app@db/app", [], "not applicable"),
], ids=["no-folder", "folder-where-resolved", "folder-elsewhere", "no-folder-in-path",
        "absolute", "not-sqlite"])
def test_the_folder_where_the_installed_version_resolves_it(tmp_path, url, folders, expected):
    (tmp_path / "app.py").write_text(APP.format(url=url))
    for folder in folders:
        (tmp_path / folder).mkdir(parents=True)
    assert verdict(tmp_path).verdict == expected


@pytest.mark.parametrize("variant", S.variants, ids=str)
def test_the_verdict_on_each_variant(variant):
    result = verdict(variant.path)
    if variant.kind == "repro":
        assert (result.verdict, result.location) == ("found", ("app.py", 14)), result.message
    else:
        assert result.verdict == "not applicable", result.message
