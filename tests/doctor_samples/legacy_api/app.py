import sqlite3

from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import text

db = SQLAlchemy()


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)


class Post(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(200), nullable=False)


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///blog.db"
    app.config["SQLALCHEMY_TRACK_MODIFICATIONS"] = False
    db.init_app(app)

    @app.route("/posts")
    def posts():
        page = request.args.get("page", 1, type=int)
        listed = Post.query.order_by(Post.id).paginate(page, 10, False)
        return {"titles": [post.title for post in listed.items]}

    @app.route("/latest")
    def latest():
        listed = Post.query.order_by(Post.id.desc()).paginate(page=1, per_page=5)
        return {"titles": [post.title for post in listed.items]}

    @app.route("/users/<int:user_id>")
    def user(user_id):
        found = db.session.query(User).get(user_id)
        return {"name": found.name if found else None}

    @app.route("/posts/<int:post_id>", methods=["DELETE"])
    def delete_post(post_id):
        db.session.execute(f"DELETE FROM post WHERE id = {int(post_id)}")
        db.session.commit()
        return {"deleted": post_id}

    @app.route("/count")
    def count():
        return {"posts": db.session.execute(text("SELECT count(*) FROM post")).scalar()}

    @app.route("/version")
    def version():
        return {"sqlite": db.get_engine().execute(text("SELECT sqlite_version()")).scalar()}

    @app.route("/legacy-export")
    def legacy_export():
        con = sqlite3.connect("export.db")  # the DBAPI's own execute takes strings
        con.execute("CREATE TABLE IF NOT EXISTS export (title TEXT)")
        con.close()
        return {"ok": True}

    return app
