"""S15: `flask init-db` and a plain-SQLAlchemy script both say sqlite:///app.db; Flask-SQLAlchemy 3
puts it in the instance folder, the script opens ./app.db."""
import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs

S = scenario.load("instance_folder_sqlite")


def init_db_then_report(variant, tmp_path) -> str:
    """Run the app's `flask init-db`, then the report script, from the project root as a cron
    job or a shell would; what the report printed (or its error) and the database files left."""
    app_dir = variant.copy_to(tmp_path)
    init = procs.run(["flask", "init-db"], cwd=app_dir, env={"FLASK_APP": "app"})
    assert (init.returncode, init.stdout.strip()) == (0, "initialised the database"), init.stderr
    report = procs.python("report.py", cwd=app_dir)
    said = report.stdout.strip() if report.returncode == 0 else report.exception
    files = sorted(str(p.relative_to(app_dir)) for p in app_dir.rglob("*.db"))
    return f"report.py: {said}\ndatabase files: {', '.join(files)}"


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_the_script_opens_another_database(variant, tmp_path, observe):
    assert observe(init_db_then_report(variant, tmp_path)) == S.symptom("report.py")


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_app_and_script_share_one_file(variant, tmp_path, observe):
    assert observe(init_db_then_report(variant, tmp_path)) == \
        "report.py: users: 1\ndatabase files: app.db"
