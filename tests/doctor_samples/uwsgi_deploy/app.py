import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get(
    "DATABASE_URL", "postgresql+psycopg2://blog@localhost/blog")
app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}
db = SQLAlchemy(app)


class Post(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(200), nullable=False)


with app.app_context():
    db.create_all()
    POSTS_AT_START = db.session.scalar(db.select(db.func.count(Post.id)))


def _fresh_pool_in_child():
    with app.app_context():
        db.engine.dispose(close=False)


# A fresh pool in every forked worker (or so it seems: uWSGI forks without running this).
os.register_at_fork(after_in_child=_fresh_pool_in_child)


@app.get("/posts/count")
def count():
    return {"posts": db.session.scalar(db.select(db.func.count(Post.id)))}
