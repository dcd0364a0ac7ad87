"""S31: an app written for Flask-SQLAlchemy 2.x and SQLAlchemy 1.3/1.4, one call per API that
Flask-SQLAlchemy 3.0 or SQLAlchemy 2.0 changed: paginate(page, 20), Model.query.get(id),
session.execute("SELECT ..."), engine.execute(...) and db.create_all(app=app). Each case is one
request (or the deploy's init_db.py) in a fresh interpreter; the SQLAlchemy and Flask-SQLAlchemy
warnings the request raised are part of what is observed. The doctor's static check reads the
same cases from the metadata."""
import sqlite3

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs

S = scenario.load("upgrade_api_change")

# One request per changed API (None: the deploy step, python init_db.py).
CASES = {"paginate": "/users?page=2", "query_get": "/users/3", "textual_sql": "/stats",
         "engine_execute": "/health", "create_all_app": None}

REQUEST = """
import sys
import warnings

from app import User, create_app, db

app = create_app()
app.testing = True  # the view's exception reaches the client


def said(exc):
    return f"{type(exc).__module__}.{type(exc).__name__}: {exc}".splitlines()[0]


try:
    with app.app_context():
        db.create_all()
        db.session.add_all([User(name=f"user{n:02d}") for n in range(1, 26)])
        db.session.commit()
except Exception as exc:
    print(f"create_all: {said(exc)}")
    raise SystemExit(0)
path = sys.argv[1]
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
        response = app.test_client().get(path)
        print(f"GET {path}: {response.status_code} {response.get_json()}")
    except Exception as exc:
        print(f"GET {path}: {said(exc)}")
for w in caught:  # the libraries' own: Flask 2.2 warns about Flask-SQLAlchemy 2.5's imports
    if w.category.__module__.split(".")[0] in ("sqlalchemy", "flask_sqlalchemy"):
        name = f"{w.category.__module__}.{w.category.__name__}"
        print(f"warning: {name}: {w.message}".splitlines()[0])
"""

FIXED = {
    "paginate": "GET /users?page=2: 200 {'names': ['user21', 'user22', 'user23', 'user24', "
                "'user25'], 'page': 2, 'total': 25}",
    "query_get": "GET /users/3: 200 {'name': 'user03'}",
    "textual_sql": "GET /stats: 200 {'users': 25}",
    "engine_execute": "GET /health: 200 {'database': 'ok'}",
    "create_all_app": "python init_db.py: tables created\ntables: ['user']",
}


def run_case(variant, tmp_path, case) -> str:
    project = variant.copy_to(tmp_path)
    env = {"DATABASE_URL": f"sqlite:///{project / 'app.db'}"}  # absolute: S15 and S23 aside
    if CASES[case] is not None:
        result = procs.python("-c", REQUEST, CASES[case], cwd=project, env=env)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()
    result = procs.python("init_db.py", cwd=project, env=env)
    said = (procs.exception_lines(result.stderr) if result.returncode else
            result.stdout.strip().splitlines()) or ["(no output)"]
    con = sqlite3.connect(project / "app.db")
    try:
        tables = [name for (name,) in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    finally:
        con.close()
    return f"python init_db.py: {said[-1]}\ntables: {tables}"


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_the_legacy_call_on_these_versions(variant, case, tmp_path, observe):
    assert observe(run_case(variant, tmp_path, case)) == S.symptom(case)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_the_portable_call_works_on_every_set(variant, case, tmp_path, observe):
    assert observe(run_case(variant, tmp_path, case)) == FIXED[case]


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_the_pins_themselves(variant, tmp_path, observe):
    """No code change helps where the installed pair is known bad (Flask-SQLAlchemy 2.4 with
    SQLAlchemy 1.4, the v1b set): the fix's init_db.py shows which, the metadata declares it."""
    assert observe(run_case(variant, tmp_path, "create_all_app")) == S.symptom("known_bad_pins")


@pytest.mark.parametrize("tool", ["doctor"])
@pytest.mark.parametrize("variant", S.variants, ids=str)
def test_the_doctor_reports_what_breaks_here_and_what_breaks_next(variant, tool, observe):
    """The static check flags a call only where the installed versions break it (the case's
    symptom declared affected), names the next major for the others, and flags any code on a
    known-bad pair; the fix's calls are flagged nowhere."""
    from pitfall_lab import doctor

    (result,) = [r for r in doctor.examine(variant.path).results if r.check.scenario == S.id]
    observe(f"{result.verdict}: {result.message}")
    calls = [c for c in CASES if variant.kind == "repro"]
    breaking = [c for c in calls if S.affected(c) and not S.affected("known_bad_pins")]
    if breaking or S.affected("known_bad_pins"):
        assert result.verdict == "found", result.message
        assert len(result.evidence) == len(breaking) + S.affected("known_bad_pins"), \
            result.evidence
        assert ("known-bad pair" in result.message) == S.affected("known_bad_pins")
    elif calls:
        assert result.verdict == "not found"
        assert result.message.startswith("nothing breaks on the installed"), result.message
        for what in ("paginate() with positional arguments at app.py:23",
                     "create_all(app=...) at init_db.py:5", "Query.get() at app.py:29",
                     "session.execute() of a plain string at app.py:36",
                     "Engine.execute() at app.py:41"):
            assert what in result.message, (what, result.message)
    else:
        assert (result.verdict, result.message) == \
            ("not found", "no call that Flask-SQLAlchemy 3 or SQLAlchemy 2.0 changed")
