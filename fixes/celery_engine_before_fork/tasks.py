import os

from celery import Celery, Task
from celery.signals import worker_process_init

from app import create_app
from models import Account, db

app = create_app()


class FlaskTask(Task):
    def __call__(self, *args, **kwargs):
        with app.app_context():
            return self.run(*args, **kwargs)


broker = os.environ.get("REDIS_URL", "redis://localhost:6379/0")
celery = Celery("tasks", broker=broker, backend=broker, task_cls=FlaskTask)


@worker_process_init.connect
def dispose_engine(**kwargs):
    """In each pool child, right after the fork: forget the connections the main process
    opened (without closing them for it); the child opens its own."""
    with app.app_context():
        db.engine.dispose(close=False)


@celery.task
def charge(account_id, amount):
    account = db.session.query(Account).filter_by(id=account_id).with_for_update().one()
    account.balance -= amount
    db.session.commit()
    return f"account {account_id} charged {amount}, balance {account.balance}"
