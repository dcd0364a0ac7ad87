import os
import urllib.parse
import urllib.request

from celery import Celery

from app import create_app
from models import Account, db

app = create_app()
app.app_context().push()  # so that every task can use db.session

broker = os.environ.get("REDIS_URL", "redis://localhost:6379/0")
celery = Celery("tasks", broker=broker, backend=broker)


def send_welcome(email):
    """Ask the mailing service to send the welcome mail."""
    url = f"{os.environ['WEBHOOK_URL']}?{urllib.parse.urlencode({'email': email})}"
    urllib.request.urlopen(url, timeout=30).close()


@celery.task
def add_account(email):
    db.session.add(Account(email=email))
    db.session.commit()
    send_welcome(email)
    return f"added {email}"
