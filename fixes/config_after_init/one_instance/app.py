import os

from flask import Flask, request

from models import User, db

HERE = os.path.dirname(os.path.abspath(__file__))

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get(
    "DATABASE_URL", f"sqlite:///{os.path.join(HERE, 'app.db')}")
app.config["SQLALCHEMY_TRACK_MODIFICATIONS"] = False
db.init_app(app)  # the models' instance, the only one


@app.route("/users", methods=["POST"])
def sign_up():
    user = User(name=request.get_json()["name"])
    db.session.add(user)
    db.session.commit()
    return {"id": user.id}, 201


@app.route("/users")
def users():
    return {"users": [user.name for user in User.query.order_by(User.id)]}
