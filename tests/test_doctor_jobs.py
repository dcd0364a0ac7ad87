"""The doctor's checks of job queues from the source (pitfall_lab/doctor/jobcalls.py,
checks/jobs.py for rq, checks/celeryjobs.py for Celery): which arguments are evidently model
instances, and on every repro and fix of the job scenarios, the verdict each check gives."""
import ast

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.doctor import jobcalls
from pitfall_lab.guard import observe

MODELS = "class User(db.Model):\n    pass\n"


def passed(source: str) -> list[tuple[str, str, str]]:
    found = jobcalls.model_arguments([("m.py", ast.parse(MODELS + source))])
    return [(a.queue, a.argument, a.bound) for a in found]


@pytest.mark.parametrize("source, found", [
    ("def v():\n    u = User(name='a')\n    send.delay(u)", [("celery", "u", "User(...)")]),
    ("def v(i):\n    u = User.query.get(i)\n    send.apply_async((u, 1))",
     [("celery", "u", "a query's .get()")]),
    ("def v(i):\n    u = db.session.get(User, i)\n    send.apply_async(args=[u])",
     [("celery", "u", "a query's .get()")]),
    ("def v(i):\n    u = db.session.execute(q).scalar_one()\n    send.s(user=u).delay()",
     [("celery", "u", "a query's .scalar_one()")]),
    ("def v():\n    q.enqueue(send, current_user)", [("rq", "current_user", "current_user")]),
    ("def v(i):\n    u = User.query.filter_by(id=i).first_or_404()\n"
     "    q.enqueue_call(func=send, args=(u,))", [("rq", "u", "a query's .first_or_404()")]),
    ("def v(i):\n    q.enqueue(send, db.get_or_404(User, i))",
     [("rq", "db.get_or_404(User, i)", "a query's .get_or_404()")]),
    ("def v(i):\n    send.delay(User.query.filter_by(id=i).first())",
     [("celery", "User.query.filter_by(id=i).first()", "a query's .first()")]),
    # Look-alikes: an id, a name rebound to a plain value, a dict's get, another function's name.
    ("def v(i):\n    u = User.query.get(i)\n    send.delay(u.id)", []),
    ("def v(i):\n    u = User.query.get(i)\n    u = u.id\n    send.delay(u)", []),
    ("def v(d):\n    u = d.get('user')\n    send.delay(u)", []),
    ("def a(i):\n    u = User.query.get(i)\ndef b(u):\n    send.delay(u)", []),
    ("def v(i):\n    u = User.query.get(i)\n    q.enqueue(send, u.id, queue='low')", []),
    ("def v(i):\n    q.enqueue(send, db.session.get(User, i).id)", []),
    ("def v(d):\n    send.delay(d.get('user'))", []),
], ids=["constructor", "apply-async-tuple", "session-get", "signature-keyword", "current-user",
        "enqueue-call", "call-as-argument", "query-as-argument", "id", "rebound", "dict-get",
        "other-function", "enqueue-id", "id-of-a-call", "dict-get-as-argument"])
def test_one_snippet(source, found):
    assert passed(source) == found


JOB_SCENARIOS = ["orm_object_job_arg", "celery_orm_object_arg", "celery_engine_before_fork",
                 "celery_one_app_context", "celery_task_killed_midway"]


def variants():
    for sid in JOB_SCENARIOS:
        s = scenario.load(sid)
        for v in s.variants:
            yield pytest.param(s, v, id=f"{s.code}-{v}")


@pytest.mark.skipif(observe.unsupported() is not None, reason=str(observe.unsupported()))
@pytest.mark.parametrize("s, variant", list(variants()))
def test_each_repro_is_found_and_no_fix(s, variant, request):
    """On the server its metadata names, as a user says it with --dburi (SQLite's file pool
    keeps no connection on SQLAlchemy 1.4: nothing is open at the fork there)."""
    from pitfall_lab import doctor
    from pitfall_lab.doctor import registry

    (check,) = [c.id for c in registry.checks() if c.scenario == s.id]
    dburi = request.getfixturevalue("pg_database") if "postgresql" in s.servers else None
    report = doctor.examine(variant.path, dburi=dburi, select={check})
    (result,) = [r for r in report.results if r.check.scenario == s.id]
    if variant.kind == "repro":
        assert result.verdict == "found", result.message
    else:
        assert result.verdict != "found", result.message
