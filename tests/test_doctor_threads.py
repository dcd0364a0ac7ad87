"""The doctor's check for threads that keep pooled connections (pitfall_lab/doctor/checks/
threads.py): the source says which functions the app runs as long-lived threads and what their
loops keep; the load probe says how big the pool is. On the scenario's own repros and fixes
(on the PostgreSQL its metadata names), and on variations of them."""
import shutil

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.doctor.checks import threads
from pitfall_lab.doctor.project import read
from pitfall_lab.guard import observe

S = scenario.load("pool_exhausted")
pytestmark = pytest.mark.skipif(observe.unsupported() is not None,
                                reason=str(observe.unsupported()))


@pytest.fixture
def pg(request):
    from pitfall_lab.harness import servers

    servers.require("postgresql", request)
    return request.getfixturevalue("pg_database")


def verdict(path, dburi=None):
    from pitfall_lab import doctor

    (result,) = [r for r in doctor.examine(path, dburi=dburi).results
                 if r.check.scenario == S.id]
    return result


@pytest.mark.parametrize("variant", S.variants, ids=str)
def test_the_verdict_on_each_variant(variant, pg):
    result = verdict(variant.path, pg)
    said = {
        "repro-session_kept": ("found", "2 long-lived thread(s) keep db.session, and with it a "
                                        "connection, from one job to the next; the pool holds "
                                        "2 + 0 overflow, "
                                        "0 left for requests", ("app.py", 35)),
        "repro-connection_kept": ("found", "2 thread(s) keep a connection each for good; the "
                                           "pool holds 2 + 0 overflow: none left for requests",
                                  ("app.py", 38)),
        "fix-remove_session": ("not found", "1 long-lived thread function(s), each ending its "
                                            "session or connection per job", None),
        "fix-connection_per_job": ("not found", "1 long-lived thread function(s), each ending "
                                                "its session or connection per job", None),
        "fix-pool_sized": ("not found", "2 thread(s) keep a connection each on purpose, and the "
                                        "pool holds 4 + 0 overflow: 2 left for requests",
                           ("app.py", 42)),
    }[str(variant)]
    assert (result.verdict, result.message, result.location) == said


def edited(tmp_path, variant, old, new):
    project = shutil.copytree(S.variant(variant).path, tmp_path / "app")
    text = (project / "app.py").read_text()
    assert old in text
    (project / "app.py").write_text(text.replace(old, new))
    return project


def test_a_bigger_pool_does_not_excuse_a_session_nobody_ends(tmp_path, pg):
    project = edited(tmp_path, "repro-session_kept", '"pool_size": 2,', '"pool_size": 10,')
    result = verdict(project, pg)
    assert (result.verdict, result.message) == (
        "found", "2 long-lived thread(s) keep db.session, and with it a connection, from one "
                 "job to the next; the pool holds 10 + 0 overflow, 8 left for requests")


def test_a_commit_after_the_last_use_gives_the_connection_back(tmp_path):
    project = edited(tmp_path, "repro-session_kept",
                     '            log.info("welcome mail sent to %s", user.name)\n',
                     '            log.info("welcome mail sent to %s", user.name)\n'
                     '            db.session.commit()\n')
    assert threads.keepers(read(project)) == ([], 1)


def test_a_context_per_job_ends_its_session(tmp_path):
    project = edited(tmp_path, "repro-session_kept",
                     "    with app.app_context():\n        while True:\n"
                     "            name = welcome.get()\n"
                     "            user = User.query.filter_by(name=name).one()\n",
                     "    while True:\n        name = welcome.get()\n"
                     "        with app.app_context():\n"
                     "            user = User.query.filter_by(name=name).one()\n")
    assert threads.keepers(read(project)) == ([], 1)


def test_a_thread_subclass_run_and_a_pushed_context(tmp_path):
    (tmp_path / "poller.py").write_text(
        "import threading\n"
        "from app import app, db, Feed\n\n"
        "WORKERS = 3\n\n\n"
        "class Poller(threading.Thread):\n"
        "    def run(self):\n"
        "        app.app_context().push()\n"
        "        while not self.stopped:\n"
        "            for feed in Feed.query.all():\n"
        "                feed.poll()\n\n\n"
        "for _ in range(WORKERS):\n"
        "    Poller(daemon=True).start()\n")
    (found,), looping = threads.keepers(read(tmp_path))
    assert looping == 1
    assert str(found) == ("poller.py:11: Poller.run() uses the session in its loop inside one "
                          "app context and never ends it: the session keeps its connection "
                          "(3 thread(s))")


def test_a_thread_that_does_one_job_and_ends_keeps_nothing(tmp_path):
    (tmp_path / "mail.py").write_text(
        "from threading import Thread\n"
        "from app import app, User\n\n\n"
        "def send(name):\n"
        "    with app.app_context():\n"
        "        User.query.filter_by(name=name).one()\n\n\n"
        "def sign_up(name):\n"
        "    Thread(target=send, args=(name,)).start()\n")
    assert threads.keepers(read(tmp_path)) == ([], 0)


def test_an_unknown_number_of_threads_is_said(tmp_path):
    project = edited(tmp_path, "repro-connection_kept", "for _ in range(MAILERS):",
                     "for _ in range(int(os.environ['MAILERS'])):")
    (found,), _ = threads.keepers(read(project))
    assert found.threads is None
    assert str(found).endswith("(an unknown number of thread(s))")


def test_threads_started_by_a_function_are_as_many_as_its_calls(tmp_path):
    project = edited(tmp_path, "repro-session_kept",
                     "for _ in range(MAILERS):\n    threading.Thread(",
                     "def start_mailer():\n    threading.Thread(")
    (found,), _ = threads.keepers(read(project))
    assert found.threads is None
