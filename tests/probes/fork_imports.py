"""Run the import script of the variant in the current directory (import_users.import_batch)
once per line of standard input, in this one long-lived process, on the same database file:

    {"chunks": [["ada", "grace"], ["linus"]], "pool": "idle"}

``pool`` is what the parent holds when it starts the batch: "idle", a pooled connection left
from a finished query, or "none", the pool just disposed. The tables are emptied first, over a
connection of this probe's own. After each batch (whose workers print their lines) it prints
one JSON line: what the database holds and whether SQLite finds it intact.
"""
import json
import os
import sqlite3
import sys

from sqlalchemy import text

sys.path.insert(0, os.getcwd())
import import_users  # noqa: E402
from import_users import app, db  # noqa: E402

path = os.environ["DATABASE_URL"].removeprefix("sqlite:///")

with app.app_context():
    db.create_all()
    for line in sys.stdin:
        spec = json.loads(line)
        with sqlite3.connect(path) as con:
            con.execute("DELETE FROM user")
            con.execute("DELETE FROM batch")
        con.close()
        if spec["pool"] == "idle":
            db.session.execute(text("SELECT count(*) FROM user"))
            db.session.commit()
        else:
            db.session.remove()
            db.engine.dispose()
        import_users.import_batch(spec["chunks"])
        db.session.remove()
        with sqlite3.connect(path) as con:
            stored = {"batches": [n for (n,) in con.execute("SELECT name FROM batch ORDER BY id")],
                      "users": [n for (n,) in con.execute("SELECT name FROM user ORDER BY id")],
                      "intact": con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]}
        con.close()
        print(json.dumps(stored), flush=True)
