"""S25: a view catches the IntegrityError of a duplicate sign-up and goes on using the session
without rolling back. Three requests in one app process: ada, ada again, then grace."""
import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs

S = scenario.load("no_rollback_in_request")

SIGN_UPS = """
from app import create_app, db

app = create_app()
app.testing = True  # the view's exception reaches the client
with app.app_context():
    db.create_all()
client = app.test_client()
for name in ("ada", "ada", "grace"):
    try:
        response = client.post("/users", json={"name": name})
        print(f"POST /users {name}: {response.status_code} {response.get_json()}")
    except Exception as exc:
        print(f"POST /users {name}: {type(exc).__module__}.{type(exc).__name__}: {exc}"
              .splitlines()[0])
"""


def sign_up_three(variant, tmp_path, database_url) -> str:
    result = procs.python("-c", SIGN_UPS, cwd=variant.copy_to(tmp_path),
                          env={"DATABASE_URL": database_url})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_the_duplicate_answers_500_and_the_next_request_is_fine(variant, tmp_path,
                                                                database_url, dialect, observe):
    assert observe(sign_up_three(variant, tmp_path, database_url)) == \
        S.symptom("sign-ups", database_url=dialect)


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_the_duplicate_answers_409(variant, tmp_path, database_url, dialect, observe):
    grace = 2 if dialect == "sqlite" else 3  # PostgreSQL's sequence moved on
    assert observe(sign_up_three(variant, tmp_path, database_url)) == (
        "POST /users ada: 201 {'id': 1}\n"
        "POST /users ada: 409 {'error': 'ada is taken', 'id': 1}\n"
        f"POST /users grace: 201 {{'id': {grace}}}")
