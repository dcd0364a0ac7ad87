import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class Note(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    text = db.Column(db.String(200), nullable=False)


def database_url():
    """postgres:// is what several hosts hand out; SQLAlchemy 1.4 removed that name for the
    dialect, which is postgresql://."""
    url = os.environ["DATABASE_URL"]
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    return url


def create_app():
    app = Flask(__name__)
    # The hosting platform sets DATABASE_URL for the PostgreSQL it attached to the app.
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url()
    app.config["SQLALCHEMY_TRACK_MODIFICATIONS"] = False
    db.init_app(app)

    @app.route("/notes")
    def notes():
        return {"notes": [note.text for note in Note.query.order_by(Note.id)]}

    return app
