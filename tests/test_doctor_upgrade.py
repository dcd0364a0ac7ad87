"""The doctor's static check for calls an upgrade changed (pitfall_lab/doctor/checks/upgrade.py)
on tests/doctor_samples/legacy_api, a blog written for Flask-SQLAlchemy 2.x: each call it must
name, each look-alike it must leave alone (keyword paginate, text(), a DBAPI connection's own
execute, request.args.get), and the verdict the installed versions give."""
import ast
from pathlib import Path

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.doctor.checks import upgrade
from pitfall_lab.guard import observe

SAMPLE = Path(__file__).parent / "doctor_samples" / "legacy_api"
EXPECTED = {
    "app.py": [("paginate", 29, "paginate() with positional arguments"),
               ("query_get", 39, "Query.get()"),
               ("textual_sql", 44, "session.execute() of a plain string"),
               ("engine_execute", 54, "Engine.execute()")],
    "manage.py": [("create_all_app", 8, "drop_all(app=...)"),
                  ("create_all_app", 9, "create_all(app=...)")],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_changed_call_is_named_and_no_look_alike(name):
    assert upgrade.legacy_calls(ast.parse((SAMPLE / name).read_text())) == EXPECTED[name]


@pytest.mark.parametrize("source, case", [
    ('engine.execute("SELECT 1")', "engine_execute"),
    ('db.session.get_bind().execute(q)', "engine_execute"),
    ('self.session.execute("DELETE FROM t WHERE id = %s" % i)', "textual_sql"),
    ('session.execute("SELECT {}".format(x))', "textual_sql"),
    ('User.query.filter_by(a=1).paginate(2)', "paginate"),
    ('db.reflect(app=app)', "create_all_app"),
    ('request.query.get("page")', None),
    ('session.execute(text("SELECT 1"))', None),
    ('cursor.execute("SELECT 1")', None),
    ('User.query.paginate(page=2, per_page=5)', None),
    ('db.paginate(current_user.following_posts(), page=page, per_page=10)', None),  # FSA 3's
    ('pages = sa.paginate(db.select(User), page=2)', None),
    ('db.paginate(query, 2, 10)', "paginate"),
    ('db.create_all()', None),
])
def test_one_line(source, case):
    found = upgrade.legacy_calls(ast.parse(source))
    assert [c for c, _, _ in found] == ([case] if case else [])


@pytest.mark.skipif(observe.unsupported() is not None, reason=str(observe.unsupported()))
def test_the_sample_gets_the_verdict_of_the_installed_versions():
    from pitfall_lab import doctor

    s = scenario.load("upgrade_api_change")
    (result,) = [r for r in doctor.examine(SAMPLE).results if r.check.scenario == s.id]
    if s.affected("known_bad_pins"):
        assert result.verdict == "found" and "known-bad pair" in result.message
    elif s.affected("paginate"):  # Flask-SQLAlchemy 3 with SQLAlchemy 2.x: every call
        assert result.verdict == "found", result.message
        assert result.message.startswith("5 call(s) break and 1 warn on the installed")
        assert result.location == ("app.py", 29)
        assert [e.split(": ")[0] for e in result.evidence] == \
            ["app.py:29", "app.py:39", "app.py:44", "app.py:54", "manage.py:8", "manage.py:9"]
    else:
        assert result.verdict == "not found"
        assert result.message.startswith("nothing breaks on the installed"), result.message
        assert "on flask-sqlalchemy>=3: paginate() with positional arguments at app.py:29, " \
               "drop_all(app=...) at manage.py:8, create_all(app=...) at manage.py:9" \
               in result.message, result.message
