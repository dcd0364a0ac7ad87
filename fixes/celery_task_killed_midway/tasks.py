import os
import urllib.parse
import urllib.request

from celery import Celery, Task

from app import create_app
from models import Subscriber, db

app = create_app()


class FlaskTask(Task):
    def __call__(self, *args, **kwargs):
        with app.app_context():
            return self.run(*args, **kwargs)


broker = os.environ.get("REDIS_URL", "redis://localhost:6379/0")
celery = Celery("tasks", broker=broker, backend=broker, task_cls=FlaskTask)


def notify(email):
    """Tell the mailing service about a new subscriber."""
    url = f"{os.environ['WEBHOOK_URL']}?{urllib.parse.urlencode({'email': email})}"
    urllib.request.urlopen(url, timeout=30).close()


@celery.task(acks_late=True, reject_on_worker_lost=True)  # run again if its child dies
def import_subscribers(emails):
    """Safe to run again after a crash: stores what is missing in one transaction, then notifies
    (a notification may be sent twice; no subscriber is stored twice)."""
    stored = {email for (email,) in db.session.query(Subscriber.email).filter(
        Subscriber.email.in_(emails))}
    db.session.add_all(Subscriber(email=email) for email in emails if email not in stored)
    db.session.commit()
    for email in emails:
        notify(email)
    return f"imported {len(emails)} subscribers"
