from flask import Flask
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class Note(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    text = db.Column(db.String(200), nullable=False)


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///data/notes.db"
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
