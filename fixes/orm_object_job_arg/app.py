import os

from flask import Flask, request
from redis import Redis
from rq import Queue

from models import User, db


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:///app.db")
    app.config["SQLALCHEMY_TRACK_MODIFICATIONS"] = False
    db.init_app(app)
    app.queue = Queue(connection=Redis.from_url(os.environ.get("REDIS_URL", "redis://")))

    @app.route("/users", methods=["POST"])
    def add_user():
        user = User(name=request.json["name"])
        db.session.add(user)
        db.session.commit()
        job = app.queue.enqueue("jobs.send_welcome", user.id)
        return {"job": job.id}, 202

    @app.route("/users/<int:user_id>/digest", methods=["POST"])
    def send_digest(user_id):
        user = db.session.query(User).filter_by(id=user_id).first()
        job = app.queue.enqueue("jobs.send_digest", user.id)
        return {"job": job.id}, 202

    @app.route("/users/<int:user_id>/rename", methods=["POST"])
    def rename(user_id):
        user = db.session.query(User).filter_by(id=user_id).first()
        job = app.queue.enqueue("jobs.rename_user", user.id, request.json["name"])
        return {"job": job.id}, 202

    return app
