import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from redis import Redis
from rq import Queue

db = SQLAlchemy()


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(120), unique=True, nullable=False)


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:///rq.db")
    db.init_app(app)
    app.queue = Queue(connection=Redis.from_url(os.environ.get("REDIS_URL", "redis://")))

    @app.post("/users/<int:user_id>/welcome")
    def welcome(user_id):
        from jobs import send_welcome

        app.queue.enqueue(send_welcome, db.get_or_404(User, user_id))
        return "", 202
    return app
