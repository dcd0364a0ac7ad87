"""The worker, as the write-ups about rq and Flask-SQLAlchemy show it."""
import os

from redis import Redis
from rq import Worker

from app import create_app

app = create_app()

if __name__ == "__main__":
    with app.app_context():
        Worker(["default"], connection=Redis.from_url(os.environ.get("REDIS_URL", "redis://"))).work()
