"""The doctor's check for instances that outlive their app context (pitfall_lab/doctor/checks/
detached.py): the source says which functions return a model instance from inside their own
context and what their callers read; the load probe says which relationships load lazily. On
the scenario's own repro and fix, and on variations of them."""
import ast

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.doctor.checks import detached
from pitfall_lab.guard import observe

S = scenario.load("detached_after_session")
pytestmark = pytest.mark.skipif(observe.unsupported() is not None,
                                reason=str(observe.unsupported()))
LAZY = {"User": ["posts"], "Post": ["author"]}
HELPERS = '''
def get_user(user_id):
    with app.app_context():
        return User.query.get(user_id)


def rename_user(user_id, name):
    with app.app_context():
        user = db.session.get(User, user_id)
        user.name = name
        db.session.commit()
        return user
'''


def verdict(path):
    from pitfall_lab import doctor

    (result,) = [r for r in doctor.examine(path).results if r.check.scenario == S.id]
    return result


@pytest.mark.parametrize("variant", S.variants, ids=str)
def test_the_verdict_on_each_variant(variant):
    result = verdict(variant.path)
    if variant.kind == "repro":
        assert (result.verdict, result.message, result.location) == (
            "found", "2 read(s) of a model instance after the app context that loaded it ended: "
                     "user.name (rename_user() returned it from its own context; "
                     "DetachedInstanceError)", ("rename.py", 7))
        assert result.evidence == [
            "rename.py:7: user.name: rename_user() committed before it returned: every "
            "attribute is expired (users.py:18)",
            "report.py:5: user.posts: User.posts is a lazy relationship, never loaded "
            "(users.py:10)"]
    else:
        assert (result.verdict, result.message) == (
            "not applicable", "no function returns a model instance from inside its own app "
                              "context")


def reads(caller: str) -> list[str]:
    trees = [("users.py", ast.parse(HELPERS)), ("script.py", ast.parse(caller))]
    helpers = detached.returned(trees, {"User", "Post"})
    return [f"{u.path}:{u.line}: {u.name}" for u in detached.uses(trees, helpers, LAZY)]


def test_loaded_columns_stay_readable():
    assert reads("user = get_user(1)\nprint(user.name, user.id)\n") == []


def test_a_lazy_relationship_and_anything_after_a_commit_are_not():
    assert reads("user = get_user(1)\nprint(user.posts)\n") == ["script.py:2: user.posts"]
    assert reads("def main():\n    user = rename_user(1, 'ada')\n    return user.name\n") == [
        "script.py:3: user.name"]
    assert reads("print(get_user(1).posts)\n") == ["script.py:1: get_user(1).posts"]


def test_a_name_bound_again_before_the_read_is_not_the_helpers():
    assert reads("user = get_user(1)\nwith app.app_context():\n"
                 "    user = db.session.merge(user)\n    print(user.posts)\n") == []


def test_a_context_per_caller_is_not_a_helper_returning_from_its_own():
    trees = [("users.py", ast.parse("def get_user(user_id):\n"
                                    "    return User.query.get(user_id)\n"))]
    assert detached.returned(trees, {"User"}) == {}
