import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get(
    "DATABASE_URL", "postgresql+psycopg2://shop@localhost/shop")
db = SQLAlchemy(app)


class Setting(db.Model):
    key = db.Column(db.String(40), primary_key=True)
    value = db.Column(db.String(200))


# Read the feature flags once, when the app loads.
with app.app_context():
    db.create_all()
    FLAGS = {s.key: s.value for s in db.session.scalars(db.select(Setting))}


@app.get("/flags")
def flags():
    return FLAGS
