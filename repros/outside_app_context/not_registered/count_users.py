import os

from flask import Flask

from models import User

# A small app of the script's own, so that it does not need the web app's settings.
app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:///shop.db")

with app.app_context():
    print(f"{User.query.count()} users")
