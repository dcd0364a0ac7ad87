import os
from datetime import datetime

from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)


class Event(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(200), nullable=False)
    starts_at = db.Column(db.DateTime, nullable=False)
    owner_id = db.Column(db.Integer, db.ForeignKey("user.id"), nullable=False)


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    app.config["SQLALCHEMY_TRACK_MODIFICATIONS"] = False
    db.init_app(app)

    @app.route("/users/<int:user_id>/events", methods=["POST"])
    def add_event(user_id):
        owner = User.query.get_or_404(user_id)
        starts_at = datetime.strptime(request.form["starts_at"], "%Y-%m-%dT%H:%M")
        event = Event(title=request.form["title"], starts_at=starts_at, owner_id=owner)
        db.session.add(event)
        db.session.commit()
        return {"id": event.id}, 201

    return app
