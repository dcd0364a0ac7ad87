import os

from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.exc import IntegrityError

db = SQLAlchemy()


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), unique=True, nullable=False)


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    app.config["SQLALCHEMY_TRACK_MODIFICATIONS"] = False
    db.init_app(app)

    @app.route("/users", methods=["POST"])
    def sign_up():
        name = request.get_json()["name"]
        user = User(name=name)
        db.session.add(user)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()  # the failed transaction ends here; the session works again
            taken = User.query.filter_by(name=name).first()
            return {"error": f"{name} is taken", "id": taken.id}, 409
        return {"id": user.id}, 201

    return app
