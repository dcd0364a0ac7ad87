import os
import socket

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:///visits.db")
db = SQLAlchemy(app)

# The metrics sidecar, reached when the app loads; the app runs without it.
try:
    METRICS = socket.create_connection(("192.0.2.1", 8125), timeout=2)
except OSError as exc:
    METRICS = None
    app.logger.warning("metrics off: %s", exc)


class Visit(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    path = db.Column(db.String(200))


with app.app_context():
    db.create_all()
    db.session.add(Visit(path="/"))
    db.session.commit()


@app.get("/visits")
def visits():
    return {"visits": db.session.query(Visit).count()}
