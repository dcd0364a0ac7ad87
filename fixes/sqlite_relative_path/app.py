import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()
# An absolute path, built from this file's folder: the same file whichever way a Flask-SQLAlchemy
# version resolves relative ones (2.x: the app's folder; 3.x: the instance folder).
DATA = os.path.join(os.path.abspath(os.path.dirname(__file__)), "data")


class Note(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    text = db.Column(db.String(200), nullable=False)


def create_app():
    app = Flask(__name__)
    os.makedirs(DATA, exist_ok=True)  # SQLite creates a file, never its folder
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{os.path.join(DATA, 'notes.db')}"
    app.config["SQLALCHEMY_TRACK_MODIFICATIONS"] = False
    db.init_app(app)

    @app.cli.command("init-db")
    def init_db():
        db.create_all()
        db.session.add(Note(text="hello"))
        db.session.commit()
        print("initialised the database")

    @app.route("/notes")
    def notes():
        return {"notes": [note.text for note in Note.query.order_by(Note.id)]}

    return app
