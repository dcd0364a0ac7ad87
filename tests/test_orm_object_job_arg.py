"""S10: the views enqueue a User instance; a real rq worker gets a detached, pickled copy."""
import json

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs, rqjobs, sql

S = scenario.load("orm_object_job_arg")

# The web side, in a fresh interpreter: seed ada and her posts, then call the three views.
ENQUEUE = """
import json
from app import create_app
from models import Post, User, db

app = create_app()
with app.app_context():
    db.create_all()
    db.session.add(User(name="ada", posts=[Post(title="notes"), Post(title="engine")]))  # id 1
    db.session.commit()
client = app.test_client()
print(json.dumps({
    "welcome": client.post("/users", json={"name": "grace"}).json["job"],
    "digest": client.post("/users/1/digest").json["job"],
    "rename": client.post("/users/1/rename", json={"name": "Ada Lovelace"}).json["job"],
}))
"""


def enqueue_and_work(variant, tmp_path, redis_url, database_url) -> dict[str, str]:
    app_dir = variant.copy_to(tmp_path)
    env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url}
    web = procs.python("-c", ENQUEUE, cwd=app_dir, env=env)
    assert web.returncode == 0, web.stderr
    rqjobs.burst(redis_url, app_dir, env)
    jobs = json.loads(web.stdout)
    seen = dict(zip(jobs, rqjobs.outcomes(redis_url, jobs.values())))
    seen["stored name of user 1"] = sql.scalar(database_url, 'SELECT name FROM "user" WHERE id = 1')
    return seen


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_jobs_get_a_detached_copy(variant, tmp_path, redis_url, database_url, observe):
    seen = enqueue_and_work(variant, tmp_path, redis_url, database_url)
    observe("\n".join(f"{k}: {v}" for k, v in seen.items()))
    assert seen == {case: S.symptom(case) for case in seen}


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_jobs_load_the_user_by_id(variant, tmp_path, redis_url, database_url, observe):
    seen = enqueue_and_work(variant, tmp_path, redis_url, database_url)
    observe("\n".join(f"{k}: {v}" for k, v in seen.items()))
    assert seen == {
        "welcome": "finished: welcome sent to grace",
        "digest": "finished: digest sent to ada: ['notes', 'engine']",
        "rename": "finished: user 1 renamed to Ada Lovelace",
        "stored name of user 1": "Ada Lovelace",
    }
