"""Sign-ups, and two background threads that send each new user a welcome mail through a mail
API. Each thread opens one connection and keeps it for every job it runs."""
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
    conn = None
    with app.app_context():
        users = User.__table__
        while True:
            name = welcome.get()
            if conn is None:  # the thread's first job opens it, the next ones reuse it
                conn = db.engine.connect()
            user = conn.execute(users.select().where(users.c.name == name)).first()
            query = urllib.parse.urlencode({"to": user.name})
            urllib.request.urlopen(f"{os.environ['MAIL_API']}?{query}", timeout=30).close()
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
