import os

from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()
HERE = os.path.dirname(os.path.abspath(__file__))


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), unique=True, nullable=False)


def create_app(config=None):
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get(
        "DATABASE_URL", f"sqlite:///{os.path.join(HERE, 'dev.db')}")
    app.config["SQLALCHEMY_TRACK_MODIFICATIONS"] = False
    app.config.update(config or {})  # before init_app, which reads the configuration
    db.init_app(app)

    @app.route("/users", methods=["POST"])
    def sign_up():
        user = User(name=request.get_json()["name"])
        db.session.add(user)
        db.session.commit()
        return {"id": user.id}, 201

    return app
