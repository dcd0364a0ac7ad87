import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from models import User

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///app.db"
app.config["SQLALCHEMY_TRACK_MODIFICATIONS"] = False
db = SQLAlchemy(app)


@app.route("/users")
def users():
    return {"users": [u.name for u in User.query.all()]}


if __name__ == "__main__":
    with app.app_context():
        db.create_all()
    app.run(port=int(os.environ.get("PORT", 5000)))
