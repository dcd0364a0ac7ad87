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
    for email in emails:
        db.session.add(Subscriber(email=email))
        db.session.commit()  # keep what is done if a later one fails
        notify(email)
    return f"imported {len(emails)} subscribers"
