"""A ledger whose data migrations live in ledger/utils/migrations/ (a package of the app, not
Alembic's folder), and whose settings live in the instance folder."""
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from ledger.utils.migrations import SCHEMA_VERSION, upgrade_entry

db = SQLAlchemy()


def create_app():
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_pyfile("settings.py")  # instance/settings.py
    app.config["LEDGER_SCHEMA_VERSION"] = SCHEMA_VERSION
    db.init_app(app)

    @app.post("/entries/<int:entry_id>/upgrade")
    def upgrade(entry_id):
        return upgrade_entry({"id": entry_id})

    return app
