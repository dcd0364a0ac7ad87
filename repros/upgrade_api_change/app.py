import os

from flask import Flask, abort, request
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), unique=True, nullable=False)


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    app.config["SQLALCHEMY_TRACK_MODIFICATIONS"] = False
    db.init_app(app)

    @app.route("/users")
    def users():
        page = request.args.get("page", 1, type=int)
        listed = User.query.order_by(User.id).paginate(page, 20)
        return {"page": listed.page, "total": listed.total,
                "names": [user.name for user in listed.items]}

    @app.route("/users/<int:user_id>")
    def user(user_id):
        found = User.query.get(user_id)
        if found is None:
            abort(404)
        return {"name": found.name}

    @app.route("/stats")
    def stats():
        count = db.session.execute("SELECT count(*) FROM user").scalar()
        return {"users": count}

    @app.route("/health")
    def health():
        db.engine.execute("SELECT 1")
        return {"database": "ok"}

    return app
