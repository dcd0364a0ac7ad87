"""Run the jobs in one long-lived process, each job in an app context of its own."""
import os

from redis import Redis
from rq import SimpleWorker

from app import create_app
from models import db

app = create_app()


class AppContextWorker(SimpleWorker):
    """Gives every job a fresh app context, so a fresh session. Removing the session at the end
    closes it and rolls back whatever the job left behind, a failed flush included: no failure
    reaches the next job."""

    def execute_job(self, job, queue):
        with app.app_context():
            try:
                return super().execute_job(job, queue)
            finally:
                db.session.remove()


if __name__ == "__main__":
    worker = AppContextWorker(["default"], connection=Redis.from_url(os.environ["REDIS_URL"]))
    worker.work()
