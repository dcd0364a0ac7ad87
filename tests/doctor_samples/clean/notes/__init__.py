import os

import click
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get(
        "DATABASE_URL", "postgresql+psycopg2://notes@localhost/notes")
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True, "pool_recycle": 280}
    db.init_app(app)
    from notes import views

    app.register_blueprint(views.bp)

    @app.cli.command("init-db")
    def init_db():
        """Create the tables; run once at deploy."""
        db.create_all()
        click.echo("tables created")
    return app
