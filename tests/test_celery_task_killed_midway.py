"""S21: a Celery task killed midway, on a real prefork worker (-c 2). The task is held in its
third notification (a webhook that answers when the test says so), then either its pool child
or the whole worker is SIGKILLed. What happens next depends on when the message is
acknowledged, and whether running the task again is safe depends on the task."""
import os
import signal

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import celeryjobs, sql
from pitfall_lab.harness.webhook import Webhook

S = scenario.load("celery_task_killed_midway")
EMAILS = [f"reader{i}@example.com" for i in range(1, 6)]


def create_schema(database_url) -> None:
    """The subscriber table, made before the worker starts (the deploy's migration step)."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    with engine.begin() as con:
        sa.Table("subscriber", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("email", sa.String(120), nullable=False)).create(con)
    engine.dispose()


@pytest.fixture
def webhook():
    """The mailing service's endpoint; its third call is held open until released."""
    hook = Webhook(hold_call=3)
    yield hook
    hook.close()


class Midway:
    """A worker for the variant, and import_subscribers(EMAILS) held in its third notification."""

    def __init__(self, variant, tmp_path, broker, database_url, webhook, dev_server):
        create_schema(database_url)
        self.broker, self.database_url, self.webhook = broker, database_url, webhook
        self.app_dir = variant.copy_to(tmp_path)
        self.env = {"DATABASE_URL": database_url, "REDIS_URL": broker, "WEBHOOK_URL": webhook.url}
        self.start = dev_server
        self.worker = celeryjobs.start_worker(dev_server, "tasks.celery", self.app_dir, self.env)
        self.task = celeryjobs.send(broker, "tasks.import_subscribers", EMAILS)
        assert webhook.held.wait(30), self.worker.log

    def stored(self) -> str:
        emails = sql.scalars(self.database_url, "SELECT email FROM subscriber")
        return f"stored: {len(emails)} rows, {len(set(emails))} distinct"

    def messages(self) -> str:
        return (f"in the queue: {celeryjobs.queued(self.broker)}, "
                f"unacknowledged: {celeryjobs.unacked(self.broker)}")

    def kill_child(self) -> str:
        """SIGKILL the pool child running the task; what became of the task once the worker
        has dealt with it (it failed it, or ran it again to its end)."""
        child = celeryjobs.active_pid(self.broker, self.worker, self.task)
        os.kill(child, signal.SIGKILL)
        self.webhook.release.set()  # the dead child's call; a rerun's calls are not held
        celeryjobs.wait(self.broker, [self.task])
        celeryjobs.settle(self.broker, self.worker, self.task)
        return "\n".join([
            f"task {self.task[:8]}: its pool child SIGKILLed in notification 3 of 5",
            f"then: {celeryjobs.outcome(self.broker, self.task)}",
            f"notifications sent: {len(self.webhook.calls)}",
            self.messages(),
            self.stored()])

    def kill_worker(self) -> str:
        """SIGKILL the whole worker; start a new one; then give unacknowledged messages back to
        the queue, as the broker does once its visibility timeout (an hour) has passed."""
        os.killpg(self.worker.proc.pid, signal.SIGKILL)
        self.worker.proc.wait(10)
        self.webhook.release.set()
        celeryjobs.start_worker(self.start, "tasks.celery", self.app_dir, self.env)
        lines = [f"task {self.task[:8]}: the whole worker SIGKILLed in notification 3 of 5",
                 f"a new worker is ready: {celeryjobs.outcome(self.broker, self.task)}; "
                 f"{self.messages()}"]
        restored = celeryjobs.restore_unacked(self.broker)
        if restored:
            celeryjobs.wait(self.broker, [self.task])
        lines += [f"given back after the visibility timeout: {restored}; then "
                  f"{celeryjobs.outcome(self.broker, self.task)}",
                  f"notifications sent: {len(self.webhook.calls)}", self.stored()]
        return "\n".join(lines)


@pytest.fixture
def midway(tmp_path, celery_broker, webhook, dev_server):
    def start(variant, database_url):
        return Midway(variant, tmp_path, celery_broker, database_url, webhook, dev_server)
    return start


def declared_part(observed: str) -> str:
    """All but the first line, which names the task."""
    return observed.split("\n", 1)[1]


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_task_whose_child_is_killed(variant, midway, database_url, observe):
    observed = observe(midway(variant, database_url).kill_child())
    assert declared_part(observed) == S.symptom("child killed", variant=variant)


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_task_whose_child_is_killed_runs_again_and_stores_each_row_once(variant, midway,
                                                                        database_url, observe):
    observed = observe(midway(variant, database_url).kill_child())
    assert declared_part(observed) == ("then: succeeded: imported 5 subscribers\n"
                                       "notifications sent: 8\n"
                                       "in the queue: 0, unacknowledged: 0\n"
                                       "stored: 5 rows, 5 distinct")


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_task_whose_worker_is_killed(variant, midway, tmp_path, observe):
    observed = observe(midway(variant, f"sqlite:///{tmp_path / 'app.db'}").kill_worker())
    assert declared_part(observed) == S.symptom("worker killed", variant=variant)


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_task_whose_worker_is_killed_comes_back_and_stores_each_row_once(variant, midway,
                                                                         tmp_path, observe):
    observed = observe(midway(variant, f"sqlite:///{tmp_path / 'app.db'}").kill_worker())
    assert declared_part(observed) == (
        "a new worker is ready: PENDING; in the queue: 0, unacknowledged: 1\n"
        "given back after the visibility timeout: 1; then succeeded: imported 5 subscribers\n"
        "notifications sent: 8\n"
        "stored: 5 rows, 5 distinct")
