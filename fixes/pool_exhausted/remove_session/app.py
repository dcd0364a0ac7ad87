"""Sign-ups, and two background threads that send each new user a welcome mail through a mail
API. Each thread pushes one app context for its whole life, so that its jobs can use db.session,
and removes the session after every job: its connection goes back to the pool."""
import logging
import os
import queue
import threading
import urllib.parse
import urllib.request

from flask import Flask, jsonify, request
from flask_sqlalchemy import SQLAlchemy

logging.basicConfig(level=logging.INFO)
log = logging.getLogger("mailer")

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
app.config["SQLALCHEMY_TRACK_MODIFICATIONS"] = False
app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_size": 2, "max_overflow": 0, "pool_timeout": 1}
db = SQLAlchemy(app)

MAILERS = 2
welcome = queue.Queue()


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), unique=True, nullable=False)


def send_welcome_mails():
    with app.app_context():
        while True:
            name = welcome.get()
            try:
                user = User.query.filter_by(name=name).one()
                query = urllib.parse.urlencode({"to": user.name})
                urllib.request.urlopen(f"{os.environ['MAIL_API']}?{query}", timeout=30).close()
            finally:
                db.session.remove()
            log.info("welcome mail sent to %s", user.name)


for _ in range(MAILERS):
    threading.Thread(target=send_welcome_mails, daemon=True).start()


@app.cli.command("init-db")
def init_db():
    db.create_all()


@app.route("/users", methods=["POST"])
def sign_up():
    name = request.get_json()["name"]
    db.session.add(User(name=name))
    db.session.commit()
    welcome.put(name)
    return jsonify(name=name), 201


@app.route("/users")
def users():
    return jsonify(users=[u.name for u in User.query.order_by(User.id)])
