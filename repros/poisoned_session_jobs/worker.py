"""Run the jobs in one long-lived process, inside the app's context."""
import os

from redis import Redis
from rq import SimpleWorker

from app import create_app

app = create_app()

if __name__ == "__main__":
    with app.app_context():
        worker = SimpleWorker(["default"], connection=Redis.from_url(os.environ["REDIS_URL"]))
        worker.work()
