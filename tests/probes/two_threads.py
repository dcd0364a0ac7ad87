"""Two real threads make requests to the app in the current directory; the interleaving is forced.

    python two_threads.py checkout|flush   # today's two interleavings, one run
    python two_threads.py --serve          # one interleaving per line of standard input

An interleaving names each thread's request, the event it stops at (a pool ``checkout``, or
``before_flush`` inside commit(); none: it runs through) and which thread is released first:

    {"A": ["get", "/users/1", null], "B": ["get", "/users/2", null],
     "stops": {"A": "checkout", "B": null}, "first": "B"}

A starts and runs until it stops (or ends); then B the same; then the thread named first runs
to its end, then the other. One thread runs at a time, so the interleaving is exact and the same
in every run. Prints one JSON line per interleaving: what each request answered (or raised) and
the users the database holds afterwards. Every wait is bounded.
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
TODAY = {  # A is stopped until B's whole request has run
    "checkout": {"A": ["get", "/users/1", None], "B": ["get", "/users/2", None],
                 "stops": {"A": "checkout", "B": None}, "first": "B"},
    "flush": {"A": ["post", "/users", {"name": "linus"}], "B": ["post", "/users", {"name": "guido"}],
              "stops": {"A": "before_flush", "B": None}, "first": "B"},
}

app.testing = True  # an exception in a view reaches the thread that made the request
with app.app_context():
    db.session.add_all([User(name="ada"), User(name="grace")])
    db.session.commit()
    engine = db.engine

current = {}  # this interleaving's stops, and per thread: stopped and released events


def stop_here(event_name):
    name = threading.current_thread().name
    if current["stops"].get(name) == event_name and not current["stopped"][name].is_set():
        current["stopped"][name].set()
        current["released"][name].wait(WAIT)


event.listen(engine, "checkout", lambda *args: stop_here("checkout"))
event.listen(Session, "before_flush", lambda *args: stop_here("before_flush"))


def run(spec) -> dict:
    current.update(stops=spec["stops"], stopped={t: threading.Event() for t in "AB"},
                   released={t: threading.Event() for t in "AB"})
    answers, threads = {}, {}

    def make_request(name):
        method, url, body = spec[name]
        try:
            response = getattr(app.test_client(), method)(url, json=body)
            answers[name] = f"{response.status_code} {response.get_json()}"
        except Exception as exc:
            answers[name] = f"{type(exc).__module__}.{type(exc).__name__}: {exc}".splitlines()[0]
        finally:
            current["stopped"][name].set()  # ended: nothing more to wait for

    for name in "AB":
        threads[name] = threading.Thread(target=make_request, args=(name,), name=name)
        threads[name].start()
        if not current["stopped"][name].wait(WAIT):
            answers.setdefault(name, "blocked before its stop")
    for name in (spec["first"], "B" if spec["first"] == "A" else "A"):
        current["released"][name].set()
        threads[name].join(WAIT)
        answers.setdefault(name, "still running")
    with engine.connect() as con:
        users = [name for (name,) in con.execute(text("SELECT name FROM user ORDER BY id"))]
    return {"A": answers["A"], "B": answers["B"], "users": users}


if sys.argv[1] == "--serve":
    for line in sys.stdin:
        print(json.dumps(run(json.loads(line))), flush=True)
else:
    print(json.dumps(run(TODAY[sys.argv[1]])), flush=True)
os._exit(0)  # do not wait for a thread that a broken interleaving may have left blocked
