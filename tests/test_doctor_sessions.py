"""The doctor's static check for a session used again after a failed flush, before its rollback
(pitfall_lab/doctor/checks/sessions.py): each except block it must name, each look-alike it must
leave alone, and the verdict on the scenario's repro and fix."""
import ast

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.doctor.checks import sessions
from pitfall_lab.guard import observe

S = scenario.load("no_rollback_in_request")


@pytest.mark.parametrize("source, found", [
    ("try:\n    db.session.commit()\nexcept IntegrityError:\n"
     "    taken = User.query.filter_by(name=n).first()", [(3, 4, "IntegrityError")]),
    ("try:\n    s.flush()\nexcept (exc.IntegrityError, ValueError):\n    session.add(x)\n"
     "    session.rollback()", [(3, 4, "IntegrityError")]),
    ("try:\n    db.session.commit()\nexcept SQLAlchemyError as e:\n    log(e)\n"
     "    db.session.delete(x)", [(3, 5, "SQLAlchemyError")]),
    # Look-alikes: a rollback first, no session in the block, another error, request.query.
    ("try:\n    db.session.commit()\nexcept IntegrityError:\n    db.session.rollback()\n"
     "    taken = User.query.first()", []),
    ("try:\n    db.session.commit()\nexcept IntegrityError:\n    return {'error': 'taken'}, 409",
     []),
    ("try:\n    int(x)\nexcept ValueError:\n    db.session.add(y)", []),
    ("try:\n    db.session.commit()\nexcept IntegrityError:\n    q = request.query", []),
    ("try:\n    db.session.commit()\nexcept IntegrityError:\n    db.session.remove()\n"
     "    db.session.add(x)", []),
], ids=["query-in-except", "tuple-use-then-rollback", "base-class", "rollback-first",
        "no-session", "other-error", "request-query", "session-removed"])
def test_one_snippet(source, found):
    assert sessions.used_before_rollback(ast.parse(source)) == found


@pytest.mark.skipif(observe.unsupported() is not None, reason=str(observe.unsupported()))
@pytest.mark.parametrize("variant", S.variants, ids=str)
def test_the_verdict_on_each_variant(variant):
    from pitfall_lab import doctor
    from pitfall_lab.doctor import registry

    (check,) = [c.id for c in registry.checks() if c.scenario == S.id]
    (result,) = doctor.examine(variant.path, select={check}).results
    if variant.kind == "repro":
        assert (result.verdict, result.location) == ("found", ("app.py", 28)), result.message
        assert result.evidence == ["app.py:28: except IntegrityError: the session used at line "
                                   "29, no rollback() before"]
    else:
        assert result.verdict == "not found", result.message
