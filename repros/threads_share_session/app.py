import os

from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:///app.db")
app.config["SQLALCHEMY_TRACK_MODIFICATIONS"] = False
db = SQLAlchemy(app)


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)


# Open the session once at start-up and reuse it in every request.
with app.app_context():
    db.create_all()
    session = db.session()


@app.route("/users/<int:user_id>")
def get_user(user_id):
    user = session.query(User).filter_by(id=user_id).first()
    return {"name": user.name}


@app.route("/users", methods=["POST"])
def add_user():
    user = User(name=request.json["name"])
    session.add(user)
    session.commit()
    return {"id": user.id}, 201
