"""The doctor's migrations probe and its check (pitfall_lab/doctor/checks/schema.py): a project
whose migrations, made with the real `flask db` commands, leave out a column its model gained,
and the same project once the column's migration is made; the scenario's own repro and fix."""
import shutil

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.guard import observe
from pitfall_lab.harness import procs

S = scenario.load("schema_not_migrated")
EMAIL = "    email = db.Column(db.String(120))  # added after the first release\n"
pytestmark = pytest.mark.skipif(observe.unsupported() is not None,
                                reason=str(observe.unsupported()))


def verdict(path):
    from pitfall_lab import doctor

    (result,) = [r for r in doctor.examine(path).results if r.check.scenario == S.id]
    return result


def flask_db(project, *args) -> None:
    result = procs.run([str(procs.BIN / "flask"), "db", *args], cwd=project, env={
        "DATABASE_URL": f"sqlite:///{project / 'dev.db'}", "FLASK_APP": "app"})
    assert result.returncode == 0, f"flask db {' '.join(args)}:\n{result.stderr}"


@pytest.mark.parametrize("variant", S.variants, ids=str)
def test_the_verdict_on_each_variant(variant):
    result = verdict(variant.path)
    if variant.kind == "repro":
        assert result.verdict == "found", result.message
        assert result.location == ("app.py", 21)  # create_app()'s db.create_all()
    else:
        assert (result.verdict, result.message) == (
            "not found", "no migrations, and no table created while the app loads")


def test_migrations_that_leave_out_a_column_the_model_gained(tmp_path):
    project = shutil.copytree(S.variant("fix").path, tmp_path / "project")
    second = (project / "app.py").read_text()
    (project / "app.py").write_text(second.replace(EMAIL, ""))  # the first release
    flask_db(project, "init")
    flask_db(project, "migrate", "-m", "users")
    flask_db(project, "upgrade")
    (project / "app.py").write_text(second)  # the model gains email; no migration for it
    result = verdict(project)
    assert (result.verdict, result.evidence) == ("found", ["column user.email"]), result.message
    assert result.location == ("app.py", 14)  # the model's email = db.Column(...)
    flask_db(project, "migrate", "-m", "user email")
    assert verdict(project).message == ("flask db upgrade on a fresh database makes every table "
                                        "and column the models map (migrations/)")
