"""A small service on plain SQLAlchemy Core, with an in-memory database while it is developed."""
from flask import Flask, jsonify
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, text
from sqlalchemy.pool import StaticPool

# One connection for every thread: each new connection to sqlite:// is a new, empty database.
engine = create_engine("sqlite://", poolclass=StaticPool,
                       connect_args={"check_same_thread": False})
metadata = MetaData()
users = Table("user", metadata, Column("id", Integer, primary_key=True), Column("name", String(80)))

metadata.create_all(engine)
with engine.begin() as con:
    con.execute(users.insert(), [{"name": "ada"}, {"name": "grace"}])

app = Flask(__name__)


@app.route("/users")
def list_users():
    with engine.connect() as con:
        names = [row[0] for row in con.execute(text("SELECT name FROM user ORDER BY id"))]
    return jsonify(users=names)
