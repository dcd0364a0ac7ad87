import os

from celery import Celery, Task
from flask import Flask, request

import tasks
from models import User, db


def celery_init_app(app):
    """Flask's Celery pattern: every task runs in an app context."""
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.name, task_cls=FlaskTask)
    celery.config_from_object(app.config["CELERY"])
    celery.set_default()
    app.extensions["celery"] = celery
    return celery


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:///app.db")
    app.config["SQLALCHEMY_TRACK_MODIFICATIONS"] = False
    redis_url = os.environ.get("REDIS_URL", "redis://localhost:6379/0")
    app.config["CELERY"] = {"broker_url": redis_url, "result_backend": redis_url}
    db.init_app(app)
    celery_init_app(app)

    @app.route("/users", methods=["POST"])
    def add_user():
        user = User(name=request.json["name"])
        db.session.add(user)
        db.session.commit()
        task = tasks.send_welcome.delay(user.id)
        return {"task": task.id}, 202

    @app.route("/users/<int:user_id>/digest", methods=["POST"])
    def send_digest(user_id):
        user = db.session.query(User).filter_by(id=user_id).first()
        task = tasks.send_digest.delay(user.id)
        return {"task": task.id}, 202

    @app.route("/users/<int:user_id>/rename", methods=["POST"])
    def rename(user_id):
        user = db.session.query(User).filter_by(id=user_id).first()
        task = tasks.rename_user.delay(user.id, request.json["name"])
        return {"task": task.id}, 202

    @app.route("/users/<int:user_id>/reminder", methods=["POST"])
    def remind(user_id):
        user = db.session.query(User).filter_by(id=user_id).first()
        task = tasks.send_reminder.delay(user.id)
        return {"task": task.id}, 202

    @app.route("/users/<int:user_id>", methods=["PATCH"])
    def update_email(user_id):
        user = db.session.query(User).filter_by(id=user_id).first()
        user.email = request.json["email"]
        db.session.commit()
        return {"id": user.id}

    return app
