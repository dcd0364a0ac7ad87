"""S22: the host hands the app DATABASE_URL=postgres://...; SQLAlchemy 1.4 removed that name for
the PostgreSQL dialect. Where it fails depends on when Flask-SQLAlchemy makes the engine."""
import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs

S = scenario.load("postgres_url_scheme")

# The app's life in a fresh interpreter: made, its tables created and a note stored (a deploy's
# first steps), then one request. Each step says how it went; the first exception ends it.
PROBE = """
import warnings
from app import Note, create_app, db

steps = []
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    try:
        app = create_app()
        steps.append("create_app: ok")
        with app.app_context():
            db.create_all()
            db.session.add(Note(text="hello"))
            db.session.commit()
        steps.append("create_all and a first note: ok")
        response = app.test_client().get("/notes")
        steps.append(f"GET /notes: {response.status_code} {response.get_json()}")
    except Exception as exc:
        steps.append(f"{type(exc).__module__}.{type(exc).__name__}: {exc}".splitlines()[0])
steps += [f"warning: {w.category.__name__}: {w.message}" for w in seen
          if "postgres" in str(w.message)]
print("\\n".join(steps))
"""


def hosted(url: str) -> str:
    """The lab's PostgreSQL URL as a host hands it out: postgres://, no driver named."""
    return "postgres://" + url.split("://", 1)[1]


def start(variant, tmp_path, pg_database) -> str:
    result = procs.python("-c", PROBE, cwd=variant.copy_to(tmp_path),
                          env={"DATABASE_URL": hosted(pg_database)})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_a_postgres_url_fails_where_the_engine_is_made(variant, tmp_path, pg_database, observe):
    assert observe(start(variant, tmp_path, pg_database)) == S.symptom("deploy")


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_the_rewritten_url_serves_the_note(variant, tmp_path, pg_database, observe):
    assert observe(start(variant, tmp_path, pg_database)) == (
        "create_app: ok\n"
        "create_all and a first note: ok\n"
        "GET /notes: 200 {'notes': ['hello']}")
