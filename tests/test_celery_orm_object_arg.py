"""S18: the views pass a User instance to Celery tasks (.delay(user)); a real prefork worker
(-c 2) runs them. With Celery's JSON serializer the view fails at .delay(); with pickle the task
gets a detached copy. The web side runs first, in a fresh interpreter, then the worker."""
import json

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import celeryjobs, procs, sql

S = scenario.load("celery_orm_object_arg")
CASES = ["welcome", "digest", "rename", "reminder"]

# The web side: seed ada (her posts, her old email), call the four views that send a task,
# then change her email (after the reminder was sent, before any worker runs it).
WEB = """
import json
from app import create_app
from models import Post, User, db

app = create_app()
app.testing = True  # a view's exception reaches this script, as the 500's log line would
with app.app_context():
    db.create_all()
    db.session.add(User(name="ada", email="ada@old.example",
                        posts=[Post(title="notes"), Post(title="engine")]))  # id 1
    db.session.commit()
client = app.test_client()
sent = {}
for case, path, body in [("welcome", "/users", {"name": "grace"}),
                         ("digest", "/users/1/digest", None),
                         ("rename", "/users/1/rename", {"name": "Ada Lovelace"}),
                         ("reminder", "/users/1/reminder", None)]:
    try:
        sent[case] = {"task": client.post(path, json=body).json["task"]}
    except Exception as exc:
        sent[case] = {"raised": f"{type(exc).__module__}.{type(exc).__name__}: {exc}"}
assert client.patch("/users/1", json={"email": "ada@new.example"}).status_code == 200
print(json.dumps(sent))
"""


def send_then_work(variant, tmp_path, broker, database_url, dev_server) -> dict[str, str]:
    app_dir = variant.copy_to(tmp_path)
    env = {"DATABASE_URL": database_url, "REDIS_URL": broker}
    web = procs.python("-c", WEB, cwd=app_dir, env=env)
    assert web.returncode == 0, web.stderr
    sent = json.loads(web.stdout)
    seen = {"queued before the worker started": str(celeryjobs.queued(broker))}
    worker = celeryjobs.start_worker(dev_server, "make_celery", app_dir, env)
    tasks = {case: s["task"] for case, s in sent.items() if "task" in s}
    celeryjobs.wait(broker, tasks.values())
    for case in CASES:
        if "raised" in sent[case]:
            seen[case] = f"the view raised {sent[case]['raised']}"
        else:
            task = tasks[case]
            seen[case] = celeryjobs.outcome(broker, task)
            seen[f"{case} task"] = f"{task[:8]} ran in {celeryjobs.child(worker, task)}"
    seen["stored name of user 1"] = sql.scalar(database_url,
                                               'SELECT name FROM "user" WHERE id = 1')
    return seen


def describe(seen) -> str:
    lines = [f"{case} (task {seen[f'{case} task']}): {seen[case]}" if f"{case} task" in seen
             else f"{case}: {seen[case]}" for case in CASES]
    return "\n".join(lines + [f"{key}: {seen[key]}" for key in (
        "queued before the worker started", "stored name of user 1")])


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_a_task_given_a_user_instance(variant, tmp_path, celery_broker, database_url,
                                      dev_server, observe):
    seen = send_then_work(variant, tmp_path, celery_broker, database_url, dev_server)
    observe(describe(seen))
    cases = [*CASES, "stored name of user 1"]
    declared = {case: S.symptom(case, variant=variant) for case in cases}
    assert {case: seen[case] for case in cases} == declared
    sent = [case for case in CASES if not declared[case].startswith("the view raised")]
    assert seen["queued before the worker started"] == str(len(sent))


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_a_task_given_the_user_id(variant, tmp_path, celery_broker, database_url, dev_server,
                                  observe):
    seen = send_then_work(variant, tmp_path, celery_broker, database_url, dev_server)
    observe(describe(seen))
    assert {case: seen[case] for case in [*CASES, "queued before the worker started",
                                          "stored name of user 1"]} == {
        "welcome": "succeeded: welcome sent to grace",
        "digest": "succeeded: digest sent to ada@new.example: ['notes', 'engine']",
        "rename": "succeeded: user 1 renamed to Ada Lovelace",
        "reminder": "succeeded: reminder sent to ada@new.example",
        "queued before the worker started": "4",
        "stored name of user 1": "Ada Lovelace",
    }
