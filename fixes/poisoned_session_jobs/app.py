import os

from flask import Flask

from models import db


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:///app.db")
    db.init_app(app)
    with app.app_context():
        db.create_all()
    return app
