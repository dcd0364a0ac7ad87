"""Import users in parallel: the batch is recorded, then one forked worker per chunk."""
import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:///import.db")
app.config["SQLALCHEMY_TRACK_MODIFICATIONS"] = False
# How long SQLite waits for a lock before "database is locked" (Python's default is 5 s).
app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
    "connect_args": {"timeout": float(os.environ.get("SQLITE_TIMEOUT", 5))}}
db = SQLAlchemy(app)


class Batch(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)


CHUNKS = [["ada", "grace"], ["linus", "guido"]]


def import_chunk(number, names):
    try:
        db.session.add_all(User(name=name) for name in names)
        db.session.commit()
    except Exception as exc:
        print(f"worker {number}: {type(exc).__module__}.{type(exc).__name__}: {exc}".splitlines()[0],
              flush=True)
        return 1
    print(f"worker {number}: imported {len(names)} users", flush=True)
    return 0


def start_worker(number, names):
    """Fork a worker that imports its chunk once the parent writes to its pipe."""
    go, start = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.read(go, 1)
        os._exit(import_chunk(number, names))
    return pid, start


def run_worker(pid, start):
    os.write(start, b"go")
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def import_batch(chunks):
    """Record the batch, then import each chunk in a forked worker."""
    db.session.add(Batch(name="nightly"))
    db.session.flush()
    workers = [start_worker(n, names) for n, names in enumerate(chunks, 1)]
    failed = sum(run_worker(pid, start) != 0 for pid, start in workers)
    db.session.commit()
    print(f"batch done, {failed} workers failed")


if __name__ == "__main__":
    with app.app_context():
        db.create_all()
        import_batch(CHUNKS)
