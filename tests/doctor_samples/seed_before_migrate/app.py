import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.exc import OperationalError

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:///shop.db")
db = SQLAlchemy(app)


class Setting(db.Model):
    key = db.Column(db.String(40), primary_key=True)
    value = db.Column(db.String(200))


with app.app_context():
    try:
        if db.session.get(Setting, "theme") is None:
            db.session.add(Setting(key="theme", value="light"))
            db.session.commit()
    except OperationalError:
        pass  # the tables are made by `flask db upgrade`
