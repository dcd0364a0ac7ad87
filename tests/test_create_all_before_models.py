"""S16: the app factory calls db.create_all() before anything has imported models.py."""
import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs

S = scenario.load("create_all_before_models")

# The app as `flask run` or a WSGI server would start it, in a fresh interpreter (what has been
# imported by then is the whole story), and the first request to it.
FIRST_REQUEST = """
import sqlalchemy as sa
from app import create_app
from database import db

app = create_app()
app.testing = True  # the view's exception reaches this script
try:
    response = app.test_client().get("/users")
    print(f"GET /users -> {response.status_code} {response.get_json()}")
except Exception as exc:
    print(f"GET /users -> {type(exc).__module__}.{type(exc).__name__}: {exc}".splitlines()[0])
with app.app_context():
    print(f"tables: {sa.inspect(db.engine).get_table_names()}")
"""


def first_request(variant, tmp_path) -> str:
    result = procs.python("-c", FIRST_REQUEST, cwd=variant.copy_to(tmp_path),
                          env={"DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}"})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_no_table_is_created(variant, tmp_path, observe):
    assert observe(first_request(variant, tmp_path)) == S.symptom("first request")


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_the_models_tables_are_created(variant, tmp_path, observe):
    assert observe(first_request(variant, tmp_path)) == \
        "GET /users -> 200 {'users': []}\ntables: ['user']"
