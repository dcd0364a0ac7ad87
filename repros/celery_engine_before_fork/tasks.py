import os

from celery import Celery, Task

from app import create_app
from models import Account, db

app = create_app()


class FlaskTask(Task):
    def __call__(self, *args, **kwargs):
        with app.app_context():
            return self.run(*args, **kwargs)


broker = os.environ.get("REDIS_URL", "redis://localhost:6379/0")
celery = Celery("tasks", broker=broker, backend=broker, task_cls=FlaskTask)


@celery.task
def charge(account_id, amount):
    account = db.session.query(Account).filter_by(id=account_id).with_for_update().one()
    account.balance -= amount
    db.session.commit()
    return f"account {account_id} charged {amount}, balance {account.balance}"
