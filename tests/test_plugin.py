"""The pytest plugin's --pitfall-lab gate, on a small user suite run with pytester (in a
subprocess, as a user's CI runs it): real rq enqueues against a real Redis, a real failed flush,
a real import-time write."""
import pytest

from pitfall_lab.guard import observe
from pitfall_lab.harness import procs

# The gate and the guard observe SQLAlchemy 1.4's events: on older versions they refuse in one
# line (tests/test_old_sqlalchemy.py), and these tests do not run.
pytestmark = pytest.mark.skipif(observe.unsupported() is not None,
                                reason=str(observe.unsupported()))

USER_SUITE = '''
import os

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from redis import Redis
from rq import Queue
from sqlalchemy.exc import IntegrityError

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
db = SQLAlchemy(app)


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)


app.app_context().push()  # one context for the whole suite, as a worker keeps one
db.create_all()
db.session.add(User(id=1, name="ada"))
db.session.commit()


def send_welcome(user):
    return user


def queue():
    return Queue(connection=Redis.from_url(os.environ["REDIS_URL"]))


def test_enqueues_the_user():
    queue().enqueue(send_welcome, db.session.get(User, 1))


def test_enqueues_the_id():
    queue().enqueue(send_welcome, 1)


def test_a_duplicate_user_is_refused():
    db.session.add(User(id=1, name="ada again"))
    with pytest.raises(IntegrityError):
        db.session.flush()
'''


@pytest.fixture
def user_suite(redis_url, pytester, monkeypatch):  # Redis first: pytester forgets the modules
    # imported after it is set up (psutil, which stops Redis at the end of the session)
    monkeypatch.setenv("REDIS_URL", redis_url)
    pytester.makepyfile(test_user=USER_SUITE)
    return pytester


def test_the_gate_fails_on_each_pitfall_and_passes_the_rest(user_suite):
    result = user_suite.runpytest_subprocess(*procs.USER_SUITE_FLAGS, "-ra", "--pitfall-lab")
    result.assert_outcomes(failed=1, passed=2, errors=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    out = result.stdout.str()
    result.stdout.fnmatch_lines([
        "*S11 poisoned_session_jobs: this test left a Session in a failed transaction*",
        "*PitfallError: S10 orm_object_job_arg: send_welcome is enqueued with a User instance*",
        "S09 startup_side_effect: 2 database write(s) while the test modules were imported*",
        "  test_user.py:21: CREATE TABLE user*",  # db.create_all()
        "  test_user.py:23: INSERT INTO user (id, name) VALUES (?, ?)",  # db.session.commit()
        "ERROR test_user.py::test_a_duplicate_user_is_refused - Failed: S11 poisoned_s*",
        "FAILED test_user.py::test_enqueues_the_user - pitfall_lab.pytest_plugin.Pitfa*",
    ])
    assert "test_enqueues_the_id" not in out.split("short test summary info")[1]


def test_without_the_flag_the_suite_runs_as_it_always_did(user_suite):
    result = user_suite.runpytest_subprocess(*procs.USER_SUITE_FLAGS)
    result.assert_outcomes(passed=3)


THREADS_SUITE = '''
import threading

import pytest
from sqlalchemy import Column, Integer, create_engine
from sqlalchemy.orm import Session, declarative_base

from pitfall_lab.guard import PitfallWarning

Base = declarative_base()


class Thing(Base):
    __tablename__ = "thing"
    id = Column(Integer, primary_key=True)


def test_a_second_thread_uses_the_session_in_a_transaction():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    session = Session(engine)
    session.begin()
    with pytest.warns(PitfallWarning, match="S08 threads_share_session: a Session is used by "):
        worker = threading.Thread(target=session.add, args=(Thing(),))
        worker.start()
        worker.join()
'''


@pytest.mark.parametrize("flag, outcome", [(["--pitfall-lab-guard"], {"passed": 1}),
                                           ([], {"failed": 1})], ids=["guard", "off"])
def test_the_guard_flag_turns_the_guard_on_and_off_means_off(pytester, flag, outcome):
    pytester.makepyfile(test_threads=THREADS_SUITE)
    pytester.runpytest_subprocess(*procs.USER_SUITE_FLAGS, *flag).assert_outcomes(**outcome)


CELERY_SUITE = '''
import os

import pytest
from celery import Celery
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
db = SQLAlchemy(app)
celery = Celery("tasks", broker=os.environ["REDIS_URL"])


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)


@celery.task
def send_welcome(user):
    return user


@pytest.fixture(autouse=True)
def ada():
    with app.app_context():
        db.create_all()
        db.session.add(User(id=1, name="ada"))
        db.session.commit()
        yield
        db.drop_all()


def test_delays_the_user():
    send_welcome.delay(db.session.get(User, 1))


def test_applies_the_user_async():
    send_welcome.apply_async(kwargs={"user": db.session.get(User, 1)})


def test_delays_the_id():
    send_welcome.delay(1)
'''


@pytest.fixture
def celery_suite(celery_broker, pytester, monkeypatch):  # the broker first, as for rq
    monkeypatch.setenv("REDIS_URL", celery_broker)
    pytester.makepyfile(test_tasks=CELERY_SUITE)
    return pytester


def test_the_gate_fails_a_task_sent_a_model_instance(celery_suite):
    result = celery_suite.runpytest_subprocess(*procs.USER_SUITE_FLAGS, "-ra", "--pitfall-lab")
    result.assert_outcomes(failed=2, passed=1)
    result.stdout.fnmatch_lines([
        "*PitfallError: S18 celery_orm_object_arg: send_welcome is sent to Celery with a User "
        "instance*",
        "FAILED test_tasks.py::test_delays_the_user - pitfall_lab*",
        "FAILED test_tasks.py::test_applies_the_user_async - pitfall_lab*",
    ])


def test_without_the_gate_celery_refuses_the_instance_itself(celery_suite):
    """Celery's own JSON serializer fails the same two tests, later and without the cause."""
    result = celery_suite.runpytest_subprocess(*procs.USER_SUITE_FLAGS, "-ra")
    result.assert_outcomes(failed=2, passed=1)
    result.stdout.fnmatch_lines(["E *kombu.exceptions.EncodeError: Object of type User is not "
                                 "JSON serializable",
                                 "FAILED test_tasks.py::test_delays_the_user - kombu*"])
    assert "PitfallError" not in result.stdout.str()
