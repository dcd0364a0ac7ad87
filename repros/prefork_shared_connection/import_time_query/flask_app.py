import os
import time

from flask import Flask, request
from sqlalchemy import text

from base import db
from models import SystemLog

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
app.config["SQLALCHEMY_TRACK_MODIFICATIONS"] = False
db.init_app(app)


def add_system_log(description):
    db.session.add(SystemLog(timestamp=int(time.time()), description=description))
    db.session.commit()


with app.app_context():
    db.create_all()
    add_system_log("server started")


@app.route("/echo")
def echo():
    value = request.args["v"]
    return db.session.execute(text("SELECT CAST(:v AS text), pg_sleep(0.01)"), {"v": value}).scalar()
