import os

from flask import Flask

import models  # noqa: F401  the tables db.create_all() makes are the models imported by then
from database import db


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:///shop.db")
    app.config["SQLALCHEMY_TRACK_MODIFICATIONS"] = False
    db.init_app(app)
    with app.app_context():
        db.create_all()

    from views import bp

    app.register_blueprint(bp)
    return app
