"""S20: one app context pushed when tasks.py is imported; a real prefork Celery worker (-c 2).
One pool child is held inside a task (its welcome mail) while the other runs every other task,
one at a time: a good one, a duplicate email, two more good ones. The held task ends last."""
import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import celeryjobs, sql
from pitfall_lab.harness.webhook import Webhook

S = scenario.load("celery_one_app_context")
TAKEN = "taken@example.com"
HELD = "ada@example.com"
IN_TURN = ["grace@example.com", TAKEN, "linus@example.com", "mary@example.com"]


def seed_taken_account(database_url) -> None:
    """The app's account table, with one address already taken."""
    import sqlalchemy as sa

    account = sa.Table("account", sa.MetaData(),
                       sa.Column("id", sa.Integer, primary_key=True),
                       sa.Column("email", sa.String(120), unique=True, nullable=False))
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    with engine.begin() as con:
        account.create(con)
        con.execute(account.insert().values(email=TAKEN))
    engine.dispose()


def run_tasks(variant, tmp_path, broker, database_url, dev_server) -> dict:
    """Each task's pool child and outcome, and the stored emails."""
    seed_taken_account(database_url)
    hook = Webhook(hold_call=1)  # the first welcome mail is held: its pool child stays busy
    try:
        env = {"DATABASE_URL": database_url, "REDIS_URL": broker, "WEBHOOK_URL": hook.url}
        worker = celeryjobs.start_worker(dev_server, "tasks.celery", variant.copy_to(tmp_path), env)
        held = celeryjobs.send(broker, "tasks.add_account", HELD)
        assert hook.held.wait(30), worker.log
        in_turn = [celeryjobs.run(broker, "tasks.add_account", email) for email in IN_TURN]
        hook.release.set()
        celeryjobs.wait(broker, [held])
    finally:
        hook.close()
    ids = dict(zip([HELD, *IN_TURN], [held, *in_turn]))
    return {
        "child": {email: celeryjobs.child(worker, t) for email, t in ids.items()},
        "outcome": {email: celeryjobs.outcome(broker, t) for email, t in ids.items()},
        "ids": ids,
        "stored": sql.scalars(database_url, "SELECT email FROM account ORDER BY id"),
    }


def describe(seen) -> str:
    lines = [f"{email} (task {seen['ids'][email][:8]}, {seen['child'][email]}"
             f"{', held in its welcome mail meanwhile' if email == HELD else ''}): {outcome}"
             for email, outcome in seen["outcome"].items()]
    return "\n".join(lines + [f"stored: {seen['stored']}"])


def one_child_ran_them_in_turn(seen) -> None:
    children = seen["child"]
    assert len({children[e] for e in IN_TURN}) == 1 and children[HELD] not in {
        children[e] for e in IN_TURN}, children


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_one_failed_flush_fails_every_later_task_of_that_child(
        variant, tmp_path, celery_broker, database_url, dev_server, observe):
    seen = run_tasks(variant, tmp_path, celery_broker, database_url, dev_server)
    observe(describe(seen))
    one_child_ran_them_in_turn(seen)
    on = sql.backend(database_url)
    assert seen["outcome"] == {
        HELD: f"succeeded: added {HELD}",  # the other child: its session is fine
        "grace@example.com": "succeeded: added grace@example.com",
        TAKEN: S.symptom(f"duplicate email, {on}"),
        "linus@example.com": S.symptom(f"every later task in that child, {on}"),
        "mary@example.com": S.symptom(f"every later task in that child, {on}"),
    }
    assert seen["stored"] == [TAKEN, HELD, "grace@example.com"]


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_each_task_has_its_own_session(variant, tmp_path, celery_broker, database_url,
                                       dev_server, observe):
    seen = run_tasks(variant, tmp_path, celery_broker, database_url, dev_server)
    observe(describe(seen))
    one_child_ran_them_in_turn(seen)
    assert seen["outcome"] == {
        HELD: f"succeeded: added {HELD}",
        "grace@example.com": "succeeded: added grace@example.com",
        TAKEN: S.symptom(f"duplicate email, {sql.backend(database_url)}"),
        "linus@example.com": "succeeded: added linus@example.com",
        "mary@example.com": "succeeded: added mary@example.com",
    }
    assert seen["stored"] == [TAKEN, HELD, "grace@example.com", "linus@example.com",
                              "mary@example.com"]
