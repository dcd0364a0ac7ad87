import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from redis import Redis
from rq import Queue, Worker

db = SQLAlchemy()


class Invoice(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    total = db.Column(db.Integer, nullable=False)


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:///billing.db")
    db.init_app(app)

    @app.cli.command("run-worker")
    def run_worker():
        """Work the billing queue: the Procfile's worker process."""
        redis = Redis.from_url(os.environ.get("REDIS_URL", "redis://localhost:6379"))
        Worker([Queue("billing", connection=redis)], connection=redis).work()

    return app
