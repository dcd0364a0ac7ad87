"""Two real threads make requests to the app in the current directory, one interleaving forced.

    python two_threads.py checkout|flush

Thread A is stopped at a point inside its request (a pool checkout, or before_flush inside
commit()) until thread B's whole request has run. Prints JSON: what each request answered (or
raised) and the users the database holds afterwards. Every wait is bounded.
"""
import json
import os
import sys
import threading

from sqlalchemy import event, text
from sqlalchemy.orm import Session

sys.path.insert(0, os.getcwd())
from app import User, app, db  # noqa: E402

WAIT = 10
interleaving = sys.argv[1]
a_stopped, b_done = threading.Event(), threading.Event()

app.testing = True  # an exception in a view reaches the thread that made the request
with app.app_context():
    db.session.add_all([User(name="ada"), User(name="grace")])
    db.session.commit()
    engine = db.engine


def stop_thread_a(*args):
    if threading.current_thread().name == "A" and not a_stopped.is_set():
        a_stopped.set()
        b_done.wait(WAIT)


if interleaving == "checkout":
    event.listen(engine, "checkout", stop_thread_a)
    requests = {"A": ("get", "/users/1", None), "B": ("get", "/users/2", None)}
else:
    event.listen(Session, "before_flush", stop_thread_a)
    requests = {"A": ("post", "/users", {"name": "linus"}),
                "B": ("post", "/users", {"name": "guido"})}

answers = {}


def make_request(name):
    method, url, body = requests[name]
    try:
        response = getattr(app.test_client(), method)(url, json=body)
        answers[name] = f"{response.status_code} {response.get_json()}"
    except Exception as exc:
        answers[name] = f"{type(exc).__module__}.{type(exc).__name__}: {exc}".splitlines()[0]
    finally:
        if name == "B":
            b_done.set()


thread_a = threading.Thread(target=make_request, args=("A",), name="A")
thread_a.start()
if a_stopped.wait(WAIT):
    thread_b = threading.Thread(target=make_request, args=("B",), name="B")
    thread_b.start()
    thread_b.join(WAIT)
else:
    answers["B"] = "not run: A never reached its stop"
b_done.set()
thread_a.join(WAIT)
with engine.connect() as con:
    users = [name for (name,) in con.execute(text("SELECT name FROM user ORDER BY id"))]
print(json.dumps({"A": answers.get("A", "still running"), "B": answers["B"], "users": users}))
sys.stdout.flush()
os._exit(0)  # do not wait for a thread that a broken interleaving may have left blocked
