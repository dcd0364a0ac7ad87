from flask import Flask
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


def create_app(testing=False):
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://" if testing else "sqlite:///board.db"
    db.init_app(app)

    @app.route("/notes")
    def notes():
        return {"notes": [n.text for n in db.session.execute(db.select(Note)).scalars()]}

    return app


class Note(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    text = db.Column(db.String(200), nullable=False)


app = create_app()
