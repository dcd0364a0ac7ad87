import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


class Post(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(200), nullable=False)


def create_app(config_name):
    app = Flask(__name__)
    app.config["SECRET_KEY"] = os.environ["BLOG_SECRET"]  # from .env
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:///blog.db")
    app.config["SQLALCHEMY_TRACK_MODIFICATIONS"] = False
    db.init_app(app)
    with app.app_context():
        db.create_all()
        if Post.query.first() is None:
            db.session.add(Post(title="Hello, " + config_name))
            db.session.commit()

    @app.route("/")
    def index():
        return {"posts": [p.title for p in Post.query.all()]}

    return app
