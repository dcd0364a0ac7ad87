import os

from flask import Flask, jsonify, request
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()
migrate = Migrate()


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)
    email = db.Column(db.String(120))  # added after the first release


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    app.config["SQLALCHEMY_TRACK_MODIFICATIONS"] = False
    db.init_app(app)
    # The schema is the migrations' job: flask db migrate, then flask db upgrade.
    migrate.init_app(app, db)

    @app.route("/users")
    def users():
        return jsonify([{"name": u.name, "email": u.email} for u in User.query.all()])

    @app.route("/users", methods=["POST"])
    def add_user():
        user = User(name=request.json["name"], email=request.json.get("email"))
        db.session.add(user)
        db.session.commit()
        return {"id": user.id}, 201

    return app
