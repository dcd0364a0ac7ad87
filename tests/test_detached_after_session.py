"""S26: scripts use the model instance a data-layer function returned after the app context it
was loaded in has ended: Flask-SQLAlchemy removed its session there, and the instance is
detached. Each script runs as a user or cron runs it, on a database with ada and two posts."""
import re

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs, sql

S = scenario.load("detached_after_session")
SCRIPTS = {"report": ["report.py"], "rename": ["rename.py", "1", "Ada Lovelace"]}

SEED = """
from app import Post, User, create_app, db
app = create_app()
with app.app_context():
    db.create_all()
    db.session.add(User(id=1, name="ada", posts=[Post(title="notes"), Post(title="engine")]))
    db.session.commit()
"""


def run_script(variant, tmp_path, database_url, case) -> str:
    app_dir = variant.copy_to(tmp_path)
    env = {"DATABASE_URL": database_url}
    seeded = procs.python("-c", SEED, cwd=app_dir, env=env)
    assert seeded.returncode == 0, seeded.stderr
    ran = procs.python(*SCRIPTS[case], cwd=app_dir, env=env)
    said = ran.stdout.strip() if ran.returncode == 0 else \
        re.sub(r" at 0x[0-9a-f]+>", " at 0x…>", ran.exception)
    stored = sql.scalars(database_url, 'SELECT name FROM "user"')
    return f"{said}\nstored: {stored}"


@pytest.mark.parametrize("case", SCRIPTS)
@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_the_instance_is_used_after_its_session_ended(variant, case, tmp_path, database_url,
                                                      observe):
    assert observe(run_script(variant, tmp_path, database_url, case)) == S.symptom(case)


@pytest.mark.parametrize("case, works", [
    ("report", "ada: notes, engine\nstored: ['ada']"),
    ("rename", "renamed to Ada Lovelace\nstored: ['Ada Lovelace']"),
], ids=list(SCRIPTS))
@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_plain_data_is_read_inside_the_context(variant, case, works, tmp_path, database_url,
                                               observe):
    assert observe(run_script(variant, tmp_path, database_url, case)) == works
