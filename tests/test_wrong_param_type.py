"""S27: a view stores what a form sent, or a model instance, where a column wants a datetime or
an id. What happens depends on the dialect: SQLAlchemy's SQLite types check their input,
PostgreSQL parses the text itself, and each DBAPI refuses an object it cannot adapt."""
import re

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs, sql

S = scenario.load("wrong_param_type")

POST_FORM = """
from app import User, create_app, db

app = create_app()
app.testing = True  # the view's exception reaches the client
with app.app_context():
    db.create_all()
    db.session.add(User(id=1, name="ada"))
    db.session.commit()
form = {"title": "launch", "starts_at": "2024-05-01T10:00"}  # an <input type="datetime-local">
try:
    response = app.test_client().post("/users/1/events", data=form)
    print(f"{response.status_code} {response.get_json()}")
except Exception as exc:
    print(f"{type(exc).__module__}.{type(exc).__name__}: {exc}".splitlines()[0])
"""


def post_event(variant, tmp_path, url) -> str:
    posted = procs.python("-c", POST_FORM, cwd=variant.copy_to(tmp_path),
                          env={"DATABASE_URL": url})
    assert posted.returncode == 0, posted.stderr
    said = re.sub(r" at 0x[0-9a-f]+>", " at 0x…>", posted.stdout.strip())
    stored = [(title, str(starts_at)[:19], owner) for title, starts_at, owner in  # SQLite's
              sql.rows(url, "SELECT title, starts_at, owner_id FROM event")]    # text has µs
    return f"POST /users/1/events: {said}\nstored: {stored}"


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_the_wrong_type_fails_or_passes_by_dialect(variant, database_url, dialect,
                                                   tmp_path, observe):
    assert observe(post_event(variant, tmp_path, database_url)) == \
        S.symptom("post event", variant=variant, database_url=dialect)


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_parsed_values_are_stored_on_both(variant, database_url, tmp_path, observe):
    assert observe(post_event(variant, tmp_path, database_url)) == (
        "POST /users/1/events: 201 {'id': 1}\n"
        "stored: [('launch', '2024-05-01 10:00:00', 1)]")
