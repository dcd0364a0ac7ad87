"""explain's parser: pasted text to evidence (exceptions, frames, log lines, test results).
Each small input asserts the exact result; then every pasted case in tests/explain_cases/ parses
and yields the exception it shows."""
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.explain.parse import (ExceptionInfo, Frame, LogLine, TestResult, classify_path,
                                       is_error_line, parse)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CASES = Path(__file__).parent / "explain_cases"
SITE = "/srv/venv/lib/python3.11/site-packages"

CHAINED = f'''Traceback (most recent call last):
  File "{SITE}/sqlalchemy/engine/base.py", line 1910, in _execute_context
    self.dialect.do_execute(
  File "{SITE}/sqlalchemy/engine/default.py", line 736, in do_execute
    cursor.execute(statement, parameters)
psycopg2.OperationalError: server closed the connection unexpectedly
\tThis probably means the server terminated abnormally
\tbefore or while processing the request.

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "{SITE}/flask/app.py", line 1484, in full_dispatch_request
    rv = self.dispatch_request()
  File "/srv/shop/shop/views.py", line 58, in product
    product = Product.query.get_or_404(product_id)
sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) server closed the connection unexpectedly
\tThis probably means the server terminated abnormally
\tbefore or while processing the request.

[SQL: SELECT product.id AS product_id FROM product WHERE product.id = %(pk_1)s]
[parameters: {{'pk_1': 17}}]
(Background on this error at: https://sqlalche.me/e/14/3o7r)
'''


# -- exceptions and chains -------------------------------------------------------------------

def test_a_chained_traceback_gives_each_exception_in_order_with_its_message_and_frames():
    ev = parse(CHAINED)
    first, last = ev.exceptions
    assert (first.type, first.relation, first.chain, first.found_in) == (
        "psycopg2.OperationalError", "", 0, "traceback")
    assert first.message == ("server closed the connection unexpectedly\n"
                             "\tThis probably means the server terminated abnormally\n"
                             "\tbefore or while processing the request.")
    assert (last.type, last.name, last.relation, last.chain) == (
        "sqlalchemy.exc.OperationalError", "OperationalError", "cause", 0)
    assert last.message.splitlines()[-3:] == [
        "[SQL: SELECT product.id AS product_id FROM product WHERE product.id = %(pk_1)s]",
        "[parameters: {'pk_1': 17}]",
        "(Background on this error at: https://sqlalche.me/e/14/3o7r)"]
    assert (last.dbapi_type, last.dbapi_message) == (
        "psycopg2.OperationalError",
        "server closed the connection unexpectedly\n"
        "\tThis probably means the server terminated abnormally\n"
        "\tbefore or while processing the request.")
    assert (last.sqlalchemy_code, last.sqlalchemy_version) == ("3o7r", "14")
    assert last.sql == "SELECT product.id AS product_id FROM product WHERE product.id = %(pk_1)s"
    assert last.parameters == "{'pk_1': 17}"
    assert first.frames == [
        Frame(f"{SITE}/sqlalchemy/engine/base.py", 1910, "_execute_context",
              "self.dialect.do_execute(", "library", "sqlalchemy"),
        Frame(f"{SITE}/sqlalchemy/engine/default.py", 736, "do_execute",
              "cursor.execute(statement, parameters)", "library", "sqlalchemy")]
    assert [(f.function, f.origin, f.library, f.is_user) for f in last.frames] == [
        ("full_dispatch_request", "library", "flask", False), ("product", "user", "", True)]
    assert ev.last is last and ev.chains == [[first, last]]
    assert ev.libraries == ["sqlalchemy", "flask"]


def test_during_handling_is_a_context_chain_and_a_new_traceback_a_new_chain():
    text = '''Traceback (most recent call last):
  File "/app/a.py", line 1, in <module>
KeyError: 'x'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/app/a.py", line 3, in <module>
ValueError: bad

Traceback (most recent call last):
  File "/app/b.py", line 9, in job
ZeroDivisionError: division by zero
'''
    ev = parse(text)
    assert [(e.type, e.message, e.chain, e.relation) for e in ev.exceptions] == [
        ("KeyError", "'x'", 0, ""), ("ValueError", "bad", 0, "context"),
        ("ZeroDivisionError", "division by zero", 1, "")]
    assert [len(chain) for chain in ev.chains] == [2, 1]


def test_a_chain_printed_without_frames_psycopg3():
    ev = parse("psycopg.errors.AdminShutdown: terminating connection due to administrator command"
               "\n\nThe above exception was the direct cause of the following exception:\n\n"
               "sqlalchemy.exc.OperationalError: (psycopg.errors.AdminShutdown) terminating "
               "connection due to administrator command\n[SQL: SELECT 1]\n")
    assert [(e.type, e.relation, e.found_in) for e in ev.exceptions] == [
        ("psycopg.errors.AdminShutdown", "", "bare"),
        ("sqlalchemy.exc.OperationalError", "cause", "bare")]
    assert ev.last.dbapi_type == "psycopg.errors.AdminShutdown"
    assert ev.last.dbapi_message == "terminating connection due to administrator command"
    assert ev.last.sql == "SELECT 1"


@pytest.mark.parametrize("line, dbapi_type, dbapi_message, code, version", [
    ("sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) no such table: user",
     "sqlite3.OperationalError", "no such table: user", "", ""),
    ("sqlalchemy.exc.OperationalError: (pymysql.err.OperationalError) (2006, \"MySQL server has "
     "gone away\")\n(Background on this error at: http://sqlalche.me/e/e3q8)",
     "pymysql.err.OperationalError", "(2006, \"MySQL server has gone away\")", "e3q8", ""),
    ("sqlalchemy.orm.exc.DetachedInstanceError: Instance <User at 0x7f9b> is not bound to a "
     "Session; attribute refresh operation cannot proceed (Background on this error at: "
     "https://sqlalche.me/e/20/bhk3)", "", "", "bhk3", "20"),
    ("sqlalchemy.exc.IntegrityError: (psycopg2.errors.UniqueViolation) duplicate key value "
     "violates unique constraint \"user_email_key\"\nDETAIL:  Key (email)=(a@b.c) already "
     "exists.\n\n[SQL: INSERT INTO \"user\" (email) VALUES (%(email)s)]\n[parameters: "
     "{'email': 'a@b.c'}]\n(Background on this error at: https://sqlalche.me/e/14/gkpj)",
     "psycopg2.errors.UniqueViolation", "duplicate key value violates unique constraint "
     "\"user_email_key\"\nDETAIL:  Key (email)=(a@b.c) already exists.", "gkpj", "14"),
    ("sqlalchemy.exc.IntegrityError: (raised as a result of Query-invoked autoflush; consider "
     "using a session.no_autoflush block if this flush is occurring prematurely)\n"
     "(psycopg2.errors.NotNullViolation) null value in column \"board_id\" violates not-null "
     "constraint\n[SQL: UPDATE lists SET board_id=%(board_id)s WHERE lists.id = %(lists_id)s]",
     "psycopg2.errors.NotNullViolation",
     "null value in column \"board_id\" violates not-null constraint", "", ""),
], ids=["sqlite", "mysql-old-link", "no-dbapi", "detail-line", "autoflush-note"])
def test_the_dbapi_error_and_sqlalchemys_code(line, dbapi_type, dbapi_message, code, version):
    exc = parse(line).last
    assert (exc.dbapi_type, exc.dbapi_message, exc.sqlalchemy_code, exc.sqlalchemy_version) == (
        dbapi_type, dbapi_message, code, version)


def test_a_multi_line_message_with_blank_lines_is_kept_whole():
    text = '''Traceback (most recent call last):
  File "/srv/app/scripts/purge.py", line 9, in <module>
    Token.query.delete()
RuntimeError: Working outside of application context.

This typically means that you attempted to use functionality that needed
the current application.
'''
    exc = parse(text).last
    assert exc.message == ("Working outside of application context.\n\nThis typically means "
                           "that you attempted to use functionality that needed\nthe current "
                           "application.")
    assert exc.first_line == "Working outside of application context."


def test_a_syntax_error_frame_has_no_function_and_its_caret_is_skipped():
    text = '''  File "/home/me/app/views.py", line 14
    return render_template("index.html" users=users)
                                        ^^^^^^^^^^^
SyntaxError: invalid syntax. Perhaps you forgot a comma?
'''
    exc = parse(text).last
    assert (exc.type, exc.message) == ("SyntaxError", "invalid syntax. Perhaps you forgot a comma?")
    assert exc.frames == [Frame("/home/me/app/views.py", 14, "",
                                'return render_template("index.html" users=users)')]


def test_an_exception_with_no_message_and_a_flush_left_keyword_source_line():
    text = 'Traceback (most recent call last):\nFile "/usr/lib/python3.10/unittest/case.py", ' \
           'line 59, in testPartExecutor\nyield\nKeyboardInterrupt\n'
    exc = parse(text).last
    assert (exc.type, exc.message, exc.frames[0].source) == ("KeyboardInterrupt", "", "yield")
    assert (exc.frames[0].origin, exc.frames[0].library) == ("stdlib", "unittest")


def test_a_traceback_without_its_exception_line_keeps_its_frames_as_stray():
    ev = parse('Traceback (most recent call last):\n  File "/app/x.py", line 3, in f\n    g()\n'
               '[2024-01-01 12:00:00 +0000] [7] [INFO] Booting worker with pid: 7\n')
    assert ev.exceptions == [] and ev.errors == []
    assert ev.stray_frames == [Frame("/app/x.py", 3, "f", "g()")]


def test_a_bare_error_line_is_an_exception():
    ev = parse("sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) no such table: user\n")
    assert ev.exceptions == [ExceptionInfo(
        "sqlalchemy.exc.OperationalError", "(sqlite3.OperationalError) no such table: user",
        [], 0, "", "bare", 1, "sqlite3.OperationalError", "no such table: user")]
    assert [line.number for line in ev.errors] == [1]


@pytest.mark.parametrize("text", [
    "All good.\nServer started.\n",
    "",
    "The KeyError in my view went away after I fixed the form.\n",
    "FSADeprecationWarning: SQLALCHEMY_TRACK_MODIFICATIONS adds significant overhead\n",
], ids=["prose", "empty", "names-an-error-in-prose", "a-warning"])
def test_text_with_no_error_says_so(text):
    ev = parse(text)
    assert (ev.errors, ev.exceptions, ev.last) == ([], [], None)


def test_several_tracebacks_in_one_log_are_each_kept():
    one = ('Traceback (most recent call last):\n  File "/app/jobs.py", line 19, in run\n'
           '    db.session.add(x)\n')
    text = (f"[2024-06-11 14:02:17 +0000] [8812] [ERROR] Error handling request /a\n{one}"
            "sqlalchemy.exc.PendingRollbackError: first\n"
            f"[2024-06-11 14:02:18 +0000] [8813] [ERROR] Error handling request /b\n{one}"
            "sqlalchemy.exc.PendingRollbackError: second\n")
    ev = parse(text)
    assert [(e.type, e.message, e.chain, len(e.frames)) for e in ev.exceptions] == [
        ("sqlalchemy.exc.PendingRollbackError", "first", 0, 1),
        ("sqlalchemy.exc.PendingRollbackError", "second", 1, 1)]
    assert [(log.pid, log.level) for log in ev.logs] == [(8812, "ERROR"), (8813, "ERROR")]


# -- frames ------------------------------------------------------------------------------------

@pytest.mark.parametrize("path, origin, library", [
    (f"{SITE}/rq/worker.py", "library", "rq"),
    (f"{SITE}/celery/app/trace.py", "library", "celery"),
    (f"{SITE}/billiard/pool.py", "library", "billiard"),
    (f"{SITE}/kombu/connection.py", "library", "kombu"),
    (f"{SITE}/gunicorn/workers/sync.py", "library", "gunicorn"),
    (f"{SITE}/uwsgidecorators.py", "library", "uwsgidecorators"),
    ("/usr/local/bin/uwsgi", "library", "uwsgi"),
    ("/srv/venv/bin/gunicorn", "library", "gunicorn"),
    (f"{SITE}/werkzeug/serving.py", "library", "werkzeug"),
    (f"{SITE}/werkzeug/_reloader.py", "library", "werkzeug.reloader"),
    (f"{SITE}/flask/app.py", "library", "flask"),
    (f"{SITE}/flask/cli.py", "library", "flask.cli"),
    (f"{SITE}/sqlalchemy/orm/session.py", "library", "sqlalchemy"),
    (f"{SITE}/flask_sqlalchemy/extension.py", "library", "flask_sqlalchemy"),
    (f"{SITE}/_pytest/runner.py", "library", "pytest"),
    (f"{SITE}/pluggy/_callers.py", "library", "pluggy"),
    (f"{SITE}/psycopg2/__init__.py", "library", "psycopg2"),
    (f"{SITE}/psycopg/cursor.py", "library", "psycopg"),
    (f"{SITE}/pymysql/connections.py", "library", "pymysql"),
    (f"{SITE}/MySQLdb/cursors.py", "library", "MySQLdb"),
    ("/usr/lib/python3/dist-packages/jinja2/loaders.py", "library", "jinja2"),
    (f"{SITE}/SQLAlchemy-1.3.24-py3.8-linux-x86_64.egg/sqlalchemy/engine/base.py", "library",
     "sqlalchemy"),
    (r"C:\Users\me\venv\Lib\site-packages\flask\app.py", "library", "flask"),
    ("/usr/lib/python3.12/threading.py", "stdlib", "threading"),
    ("/usr/lib/python3.10/unittest/case.py", "stdlib", "unittest"),
    ("/usr/local/lib/python3.11/multiprocessing/process.py", "stdlib", "multiprocessing"),
    ("/usr/lib/python3.11/sqlite3/dbapi2.py", "stdlib", "sqlite3"),
    ("/home/me/.pyenv/versions/3.11.7/lib/python3.11/socketserver.py", "stdlib", "socketserver"),
    (r"C:\Python311\Lib\concurrent\futures\thread.py", "stdlib", "concurrent"),
    ("<frozen importlib._bootstrap>", "stdlib", "importlib"),
    ("/home/me/app/app.py", "user", ""),
    ("/srv/app/lib/helpers.py", "user", ""),
    ("app/models.py", "user", ""),
    ("<stdin>", "user", ""),
])
def test_a_frames_file_names_its_library(path, origin, library):
    assert classify_path(path) == (origin, library)


# -- log lines -----------------------------------------------------------------------------

@pytest.mark.parametrize("line, expected, is_error", [
    ("ERROR:root:something broke",
     LogLine("python", "something broke", level="ERROR", logger="root"), True),
    ('INFO:werkzeug:127.0.0.1 - - [01/Jan/2024 12:00:00] "GET / HTTP/1.1" 500 -',
     LogLine("python", '127.0.0.1 - - [01/Jan/2024 12:00:00] "GET / HTTP/1.1" 500 -',
             level="INFO", logger="werkzeug", status=500), False),
    ("[2024-04-02 07:59:12,004] ERROR in app: Exception on /health [GET]",
     LogLine("flask", "Exception on /health [GET]", "2024-04-02 07:59:12,004", "ERROR",
             logger="app"), True),
    ("[2024-01-01 12:00:00 +0000] [1234] [ERROR] Error handling request /x",
     LogLine("gunicorn", "Error handling request /x", "2024-01-01 12:00:00 +0000", "ERROR", 1234),
     True),
    ("[2024-01-01 12:00:00 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:1236)",
     LogLine("gunicorn", "WORKER TIMEOUT (pid:1236)", "2024-01-01 12:00:00 +0000", "CRITICAL", 1),
     True),
    ("[2024-01-01 12:00:00 +0000] [7] [INFO] Booting worker with pid: 7",
     LogLine("gunicorn", "Booting worker with pid: 7", "2024-01-01 12:00:00 +0000", "INFO", 7),
     False),
    ("*** Operational MODE: preforking ***", LogLine("uwsgi", "Operational MODE: preforking"),
     False),
    ("spawned uWSGI worker 1 (pid: 123, cores: 1)",
     LogLine("uwsgi", "spawned uWSGI worker 1 (pid: 123, cores: 1)", pid=123, process="worker 1"),
     False),
    ("spawned uWSGI master process (pid: 3100)",
     LogLine("uwsgi", "spawned uWSGI master process (pid: 3100)", pid=3100, process="master"),
     False),
    ("DAMN ! worker 1 (pid: 123) died, killed by signal 9 :( trying respawn ...",
     LogLine("uwsgi", "DAMN ! worker 1 (pid: 123) died, killed by signal 9 :( trying respawn ...",
             pid=123, process="worker 1"), True),
    ("[pid: 21437|app: 0|req: 118/402] 10.0.3.1 () {48 vars in 912 bytes} [Tue Mar  5 09:12:44 "
     "2024] GET /p/17 => generated 265 bytes in 14 msecs (HTTP/1.1 500) 2 headers in 84 bytes",
     LogLine("uwsgi", "10.0.3.1 () {48 vars in 912 bytes} [Tue Mar  5 09:12:44 2024] GET /p/17 "
             "=> generated 265 bytes in 14 msecs (HTTP/1.1 500) 2 headers in 84 bytes",
             pid=21437, status=500), False),
    ("[2024-01-01 12:00:00,000: ERROR/ForkPoolWorker-1] Task app.tasks.x[0a1b-2c] raised "
     "unexpected: OperationalError('(sqlite3.OperationalError) database is locked')",
     LogLine("celery", "Task app.tasks.x[0a1b-2c] raised unexpected: OperationalError('(sqlite3."
             "OperationalError) database is locked')", "2024-01-01 12:00:00,000", "ERROR",
             process="ForkPoolWorker-1", job="app.tasks.x", job_id="0a1b-2c"), True),
    ("[2024-01-01 12:00:00,000: INFO/MainProcess] Connected to redis://localhost:6379/0",
     LogLine("celery", "Connected to redis://localhost:6379/0", "2024-01-01 12:00:00,000", "INFO",
             process="MainProcess"), False),
    ("12:00:01 default: Job failed (rq:job:5c1f)",
     LogLine("rq", "Job failed (rq:job:5c1f)", "12:00:01", logger="default"), True),
    ("12:40:03 default: jobs.import_contact(42) (7d1c-3c66)",
     LogLine("rq", "jobs.import_contact(42) (7d1c-3c66)", "12:40:03", logger="default",
             job="jobs.import_contact", job_id="7d1c-3c66"), False),
    ("12:40:03 [Job 7d1c-3c66]: exception raised while executing (jobs.import_contact)",
     LogLine("rq", "exception raised while executing (jobs.import_contact)", "12:40:03",
             job_id="7d1c-3c66"), True),
    ("09:15:20 Moving job to FailedJobRegistry (Work-horse terminated unexpectedly; waitpid "
     "returned 9 (signal 9); )",
     LogLine("rq", "Moving job to FailedJobRegistry (Work-horse terminated unexpectedly; waitpid "
             "returned 9 (signal 9); )", "09:15:20"), True),
    ("09:14:55 default: Job OK (4b0d)", LogLine("rq", "Job OK (4b0d)", "09:14:55",
                                                logger="default"), False),
    (" * Restarting with stat", LogLine("werkzeug", "Restarting with stat", process="reloader"),
     False),
    (" * Debugger is active!", LogLine("werkzeug", "Debugger is active!"), False),
    ('127.0.0.1 - - [01/Jan/2024 12:00:00] "GET / HTTP/1.1" 500 -',
     LogLine("werkzeug", '127.0.0.1 - - [01/Jan/2024 12:00:00] "GET / HTTP/1.1" 500 -',
             "01/Jan/2024 12:00:00", status=500), False),
    ("2024-03-01 10:00:05.114 UTC [4121] ERROR:  relation \"user\" does not exist",
     LogLine("postgresql", "relation \"user\" does not exist", "2024-03-01 10:00:05.114 UTC",
             "ERROR", 4121), True),
    ("2024-03-01 10:00:05.114 UTC [4121] LOG:  process 4121 still waiting for AccessExclusiveLock",
     LogLine("postgresql", "process 4121 still waiting for AccessExclusiveLock",
             "2024-03-01 10:00:05.114 UTC", "LOG", 4121), True),  # the lock wait is the problem
    ("2024-05-01 10:00:00,455 ERROR [ckan.views.api] boom",
     LogLine("log", "boom", "2024-05-01 10:00:00,455", "ERROR", logger="ckan.views.api"), True),
    ("2024-05-01 10:00:00,455 - app.db - WARNING - slow",
     LogLine("log", "slow", "2024-05-01 10:00:00,455", "WARNING", logger="app.db"), False),
    ("Nov 23 03:15:01 web1 CRON[4127]: (deploy) CMD (cd /srv && python report.py)",
     LogLine("syslog", "(deploy) CMD (cd /srv && python report.py)", "Nov 23 03:15:01", pid=4127,
             process="CRON"), False),
    ("ERROR: Cannot install flask==1.1.2 and flask-sqlalchemy==3.1.1 because these package "
     "versions have conflicting dependencies.",
     LogLine("cli", "Cannot install flask==1.1.2 and flask-sqlalchemy==3.1.1 because these package"
             " versions have conflicting dependencies.", level="ERROR"), True),
    ("Error: No such command 'db'.", LogLine("cli", "No such command 'db'.", level="ERROR"), True),
    ("Exception in thread Thread-7 (process_request_thread):",
     LogLine("threading", "Exception in thread Thread-7 (process_request_thread):", level="ERROR",
             process="Thread-7 (process_request_thread)"), True),
], ids=lambda v: v.source if isinstance(v, LogLine) else None)
def test_a_log_line_gives_its_fields(line, expected, is_error):
    ev = parse(line + "\n")
    assert ev.logs == [expected]
    assert ev.lines[0].kind == "log" and ev.lines[0].is_error is is_error
    assert is_error_line(line) is is_error


def test_a_log_prefix_on_every_line_is_taken_off_before_the_traceback_is_read():
    text = "\n".join(f"web-1  | {line}" for line in [
        "[2024-01-01 12:00:00 +0000] [9] [ERROR] Exception on / [GET]",
        "Traceback (most recent call last):",
        f'  File "{SITE}/flask/app.py", line 880, in full_dispatch_request',
        "    rv = self.dispatch_request()",
        "jinja2.exceptions.TemplateNotFound: index.html"])
    ev = parse(text)
    assert ev.last.type == "jinja2.exceptions.TemplateNotFound"
    assert ev.last.frames[0].library == "flask"
    assert (ev.logs[0].source, ev.logs[0].pid, ev.logs[0].process, ev.logs[0].level) == (
        "gunicorn", 9, "web", "ERROR")
    journal = ("Jan 08 03:00:01 web1 gunicorn[812]: Traceback (most recent call last):\n"
               'Jan 08 03:00:01 web1 gunicorn[812]:   File "/app/x.py", line 2, in f\n'
               "Jan 08 03:00:01 web1 gunicorn[812]: KeyError: 'user_id'\n")
    ev = parse(journal)
    assert (ev.last.type, ev.last.message, ev.last.frames[0].file) == (
        "KeyError", "'user_id'", "/app/x.py")
    assert ev.lines[0].log == LogLine("syslog", "Traceback (most recent call last):",
                                      "Jan 08 03:00:01", pid=812, process="gunicorn")


# -- pytest and unittest -------------------------------------------------------------------------

PYTEST = f'''=================================== FAILURES ===================================
_________________________________ test_signup __________________________________

client = <FlaskClient <Flask 'app'>>

    def test_signup(client):
>       rv = client.post("/signup", data={{"email": "a@b.c"}})

tests/test_app.py:12: 
_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _
{SITE[1:]}/sqlalchemy/engine/default.py:736: in do_execute
    cursor.execute(statement, parameters)
E   sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) no such table: user
E   [SQL: INSERT INTO user (email) VALUES (?)]
E   (Background on this error at: https://sqlalche.me/e/20/e3q8)

{SITE[1:]}/sqlalchemy/engine/default.py:736: OperationalError
_________________________________ test_status __________________________________

    def test_status(client):
>       assert client.get("/").status_code == 200
E       assert 500 == 200
E        +  where 500 = <WrapperTestResponse streamed [500 INTERNAL SERVER ERROR]>.status_code

tests/test_app.py:20: AssertionError
=========================== short test summary info ============================
FAILED tests/test_app.py::test_signup - sqlalchemy.exc.OperationalError: (sqlite3.Operatio...
FAILED tests/test_app.py::test_status - assert 500 == 200
ERROR tests/test_app.py::test_other - RuntimeError: Working outside of application context.
==================== 2 failed, 1 passed, 1 error in 0.31s =====================
'''


def test_pytest_output_gives_e_lines_sections_and_the_short_summary():
    ev = parse(PYTEST)
    signup, status, other = ev.exceptions
    assert (signup.type, signup.found_in, signup.dbapi_type, signup.dbapi_message,
            signup.sqlalchemy_code) == ("sqlalchemy.exc.OperationalError", "pytest",
                                        "sqlite3.OperationalError", "no such table: user", "e3q8")
    assert signup.message.splitlines()[1] == "[SQL: INSERT INTO user (email) VALUES (?)]"
    assert [(f.file, f.line, f.function, f.source, f.library) for f in signup.frames] == [
        ("tests/test_app.py", 12, "", "", ""),
        (f"{SITE[1:]}/sqlalchemy/engine/default.py", 736, "do_execute",
         "cursor.execute(statement, parameters)", "sqlalchemy")]
    assert (status.type, status.message) == (
        "AssertionError", "assert 500 == 200\n+  where 500 = <WrapperTestResponse streamed "
                          "[500 INTERNAL SERVER ERROR]>.status_code")
    assert [(f.file, f.line) for f in status.frames] == [("tests/test_app.py", 20)]
    # the summary's own exception, shown nowhere else in the text
    assert (other.type, other.message, other.found_in) == (
        "RuntimeError", "Working outside of application context.", "pytest-summary")
    assert ev.test_sections == ["test_signup", "test_status"]
    assert ev.tests == [
        TestResult("FAILED", "tests/test_app.py::test_signup",
                   "sqlalchemy.exc.OperationalError: (sqlite3.Operatio...", 27),
        TestResult("FAILED", "tests/test_app.py::test_status", "assert 500 == 200", 28),
        TestResult("ERROR", "tests/test_app.py::test_other",
                   "RuntimeError: Working outside of application context.", 29)]
    kinds = {line.number: (line.kind, line.is_error) for line in ev.lines}
    assert kinds[2] == ("pytest-section", False)
    assert kinds[13] == kinds[15] == kinds[22] == ("pytest-e", True)
    assert kinds[17] == ("pytest-location", False)
    assert kinds[27] == ("pytest-summary", True)
    assert kinds[30] == ("pytest-summary", True)  # 2 failed, 1 error


def test_a_passing_pytest_run_is_no_error():
    text = ("============================= test session starts ==============================\n"
            "collected 2 items\n\ntests/test_app.py::test_index PASSED                   [ 50%]\n"
            "tests/test_app.py::test_signup PASSED                  [100%]\n\n"
            "============================== 2 passed in 0.12s ===============================\n")
    ev = parse(text)
    assert ev.errors == [] and ev.exceptions == []
    assert [t.outcome for t in ev.tests] == ["PASSED", "PASSED"]


def test_unittest_output():
    text = '''======================================================================
ERROR: test2 (test_a.TestA.test2)
----------------------------------------------------------------------
Traceback (most recent call last):
  File "/usr/lib/python3.10/unittest/case.py", line 59, in testPartExecutor
    yield
sqlalchemy.exc.ProgrammingError: (sqlite3.ProgrammingError) Cannot operate on a closed database.
----------------------------------------------------------------------
Ran 4 tests in 0.112s

FAILED (errors=1)
'''
    ev = parse(text)
    assert ev.last.message == "(sqlite3.ProgrammingError) Cannot operate on a closed database."
    assert ev.tests == [TestResult("ERROR", "test2 (test_a.TestA.test2)", "", 2)]
    assert [line.number for line in ev.errors] == [2, 7, 11]


# -- what chats and trackers do to a paste ----------------------------------------------------

CLEAN = f'''Traceback (most recent call last):
  File "{SITE}/sqlalchemy/engine/base.py", line 1910, in _execute_context
    self.dialect.do_execute(
  File "/srv/app/app/views.py", line 42, in index
    rows = db.session.execute(stmt).all()
sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) server closed the connection unexpectedly
[SQL: SELECT 1]
'''


def summary(ev):
    return [(e.type, e.flat, e.dbapi_type, e.sql,
             [(f.file, f.line, f.function, f.source, f.library) for f in e.frames])
            for e in ev.exceptions]


@pytest.mark.parametrize("mangle", [
    lambda t: t.replace("\n", "\r\n"),
    lambda t: "".join(f"> {line}\n" for line in t.splitlines()),
    lambda t: "".join(f">{line}\n" for line in t.splitlines()),
    lambda t: "".join(f"    {line}\n" for line in t.splitlines()),
    lambda t: "".join(f"{line.strip()}\n" for line in t.splitlines()),
    lambda t: t.replace("Traceback (most recent call last):",
                        "\x1b[1mTraceback\x1b[0m (most recent call last):")
               .replace("sqlalchemy.exc.OperationalError:",
                        "\x1b[35msqlalchemy.exc.OperationalError\x1b[0m:"),
    lambda t: t.replace("engine/base.py", "engine/\nbase.py"),
    lambda t: t.replace("line 42, in index", "line 42,\nin index"),
    lambda t: t.replace("(most recent call last)", "(most recent\ncall last)"),
    lambda t: t.replace("the connection unexpectedly", "the connection\nunexpectedly"),
    lambda t: "```\n" + t + "```\n",
], ids=["crlf", "quoted", "quoted-no-space", "indented", "flush-left", "ansi", "path-broken",
        "frame-broken", "header-broken", "message-broken", "fenced"])
def test_a_mangled_paste_parses_as_the_clean_one(mangle):
    assert summary(parse(mangle(CLEAN))) == summary(parse(CLEAN))


def test_the_clean_reference_itself():
    assert summary(parse(CLEAN)) == [(
        "sqlalchemy.exc.OperationalError",
        "(psycopg2.OperationalError) server closed the connection unexpectedly [SQL: SELECT 1]",
        "psycopg2.OperationalError", "SELECT 1",
        [(f"{SITE}/sqlalchemy/engine/base.py", 1910, "_execute_context",
          "self.dialect.do_execute(", "sqlalchemy"),
         ("/srv/app/app/views.py", 42, "index", "rows = db.session.execute(stmt).all()", "")])]


def test_a_broken_chain_sentence_is_joined():
    text = ("KeyError: 'a'\n\nDuring handling of the above exception, another exception\n"
            "occurred:\n\nValueError: b\n")
    assert [(e.type, e.relation) for e in parse(text).exceptions] == [
        ("KeyError", ""), ("ValueError", "context")]


def test_the_lines_say_what_they_are():
    ev = parse(CHAINED)
    assert [line.kind for line in ev.lines[:12]] == [
        "traceback", "frame", "source", "frame", "source", "exception", "message", "message",
        "blank", "chain", "blank", "traceback"]
    assert [line.number for line in ev.errors][:3] == [6, 7, 8]


# -- speed, imports, the debugging main ----------------------------------------------------

def test_a_200_line_traceback_parses_in_a_few_milliseconds():
    frames = "".join(f'  File "{SITE}/sqlalchemy/engine/base.py", line {i}, in f{i}\n'
                     f"    self.step_{i}()\n" for i in range(99))
    text = (f"Traceback (most recent call last):\n{frames}sqlalchemy.exc.OperationalError: "
            "(psycopg2.OperationalError) boom\n")
    assert len(text.splitlines()) == 200
    parse(text)
    start = time.perf_counter()
    for _ in range(20):
        ev = parse(text)
    per_parse = (time.perf_counter() - start) / 20
    assert len(ev.last.frames) == 99
    assert per_parse < 0.010, f"{per_parse * 1000:.1f} ms"


def test_the_parser_imports_neither_flask_nor_sqlalchemy_and_prints_json(tmp_path):
    (tmp_path / "err.txt").write_text(CLEAN)
    probe = ("import sys, runpy\nsys.argv = ['parse', sys.argv[1]]\n"
             "try:\n    runpy.run_module('pitfall_lab.explain.parse', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print(sorted({'flask', 'sqlalchemy', 'flask_sqlalchemy', 'werkzeug'} & "
             "set(sys.modules)), file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "err.txt")],
                            capture_output=True, text=True, timeout=60)
    assert result.stderr.strip().splitlines()[-1] == "[]", result.stderr
    data = json.loads(result.stdout)
    assert data["exceptions"][0]["dbapi_type"] == "psycopg2.OperationalError"
    assert data["errors"] == [6, 7] and data["libraries"] == ["sqlalchemy"]


# -- the pasted cases --------------------------------------------------------------------------

# The last exception each file shows, read by eye ("" where it shows none).
LAST_EXCEPTION = {
    "catalogue/01_uwsgi_ssl_bad_record_mac.txt": "sqlalchemy.exc.OperationalError",
    "catalogue/02_gunicorn_resource_closed.txt": "sqlalchemy.exc.ResourceClosedError",
    "catalogue/03_gunicorn_pgres_tuples_ok.txt": "psycopg2.DatabaseError",
    "catalogue/04_gunicorn_lost_sync.txt": "sqlalchemy.exc.OperationalError",
    "catalogue/05_rq_pending_rollback.txt": "sqlalchemy.exc.PendingRollbackError",
    "catalogue/06_rq_detached_instance.txt": "sqlalchemy.orm.exc.DetachedInstanceError",
    "catalogue/07_rq_lazy_load_detached.txt": "sqlalchemy.orm.exc.DetachedInstanceError",
    "catalogue/08_cron_outside_context.txt": "RuntimeError",
    "catalogue/09_fsa2_no_application_found.txt": "RuntimeError",
    "catalogue/10_not_registered.txt": "RuntimeError",
    "catalogue/11_import_cycle_in_package.txt": "ImportError",
    "catalogue/12_relative_import_script.txt": "ImportError",
    "catalogue/13_cron_no_module.txt": "ModuleNotFoundError",
    "catalogue/14_mysql_gone_away_rq.txt": "sqlalchemy.exc.OperationalError",
    "catalogue/15_mysql_lost_connection.txt": "sqlalchemy.exc.OperationalError",
    "catalogue/16_mysqlclient_gone_away.txt": "sqlalchemy.exc.OperationalError",
    "catalogue/17_psycopg3_admin_shutdown.txt": "sqlalchemy.exc.OperationalError",
    "catalogue/18_server_closed_after_idle.txt": "sqlalchemy.exc.OperationalError",
    "catalogue/19_celery_sqlite_locked.txt": "sqlalchemy.exc.OperationalError",
    "catalogue/20_threads_illegal_state.txt": "sqlalchemy.exc.IllegalStateChangeError",
    "catalogue/21_threads_provisioning.txt": "sqlalchemy.exc.InvalidRequestError",
    "catalogue/22_reloader_integrity.txt": "sqlalchemy.exc.IntegrityError",
    "catalogue/23_rq_work_horse_killed.txt": "",  # an rq log line, no exception
    "catalogue/24_unittest_closed_database.txt": "sqlalchemy.exc.ProgrammingError",
    "catalogue/25_unittest_missing_table.txt": "sqlalchemy.exc.OperationalError",
    "catalogue/26_pg_lock_wait_drop_table.txt": "",  # PostgreSQL LOG lines, no exception
    "catalogue/27_uwsgi_ssl_syscall_eof.txt": "sqlalchemy.exc.OperationalError",
    "catalogue/28_truncated_pending_rollback.txt": "sqlalchemy.exc.PendingRollbackError",
    "catalogue/29_psycopg2_no_message_libpq.txt": "sqlalchemy.exc.DatabaseError",
    "outside/01_syntax_error.txt": "SyntaxError",
    # werkzeug's message carries the KeyError line: one exception, two message lines
    "catalogue/30_sqlite_no_such_column_new_field.txt": "sqlalchemy.exc.OperationalError",
    "catalogue/31_pg_undefined_column_new_field.txt": "sqlalchemy.exc.ProgrammingError",
    "outside/03_keyerror_in_view.txt": "werkzeug.exceptions.BadRequestKeyError",
    "outside/04_template_not_found.txt": "jinja2.exceptions.TemplateNotFound",
    "outside/06_redis_refused.txt": "redis.exceptions.ConnectionError",
    "outside/07_zero_division.txt": "ZeroDivisionError",
    "outside/08_unique_violation_signup.txt": "sqlalchemy.exc.IntegrityError",
    "outside/09_module_not_installed.txt": "ModuleNotFoundError",
    "outside/10_type_error_jsonify.txt": "TypeError",
}
# A case with no error line at all (none now: PostgreSQL's lock wait, logged at LOG level, is
# read as the error it reports).
NO_ERROR_LINE: set[str] = set()


def test_the_table_covers_every_case_file():
    files = {f"{p.parent.name}/{p.name}" for d in ("catalogue", "outside")
             for p in (CASES / d).glob("*.txt")}
    assert files == set(LAST_EXCEPTION)


def case_id(name: str) -> str:
    """A case file's number as its test id: file names may carry a scenario's id, and test ids
    must not (pytest -k <scenario> selects that scenario's own tests alone)."""
    return name.replace("/", "-").split("_")[0]


@pytest.mark.parametrize("name", sorted(LAST_EXCEPTION), ids=case_id)
def test_every_case_file_parses_and_yields_its_error(name):
    ev = parse((CASES / name).read_text())
    assert (ev.last.type if ev.last else "") == LAST_EXCEPTION[name]
    assert bool(ev.errors) is (name not in NO_ERROR_LINE)


# The real pastes: real/ (collected while the matcher was written) and heldout/ (after it),
# keyed "<folder>/<file>".
FOLDERS = ("real", "heldout")
MANIFEST = {f"{folder}/{name}": case for folder in FOLDERS
            for name, case in tomllib.loads((CASES / folder / "cases.toml").read_text()).items()}
SCENARIO_CODES = {s.code for s in scenario.load_all().values()}
# Real errors pasted as their bare message, without the exception's class (an issue's title): the
# parser finds no error line in them, and explain answers that nothing reads as an error.
BARE_MESSAGE = {"heldout/20_no_primary_key_trailing_comma.txt",
                "heldout/21_model_without_primary_key.txt"}


def test_the_real_cases_are_enough_and_each_is_described():
    files = {f"{folder}/{p.name}" for folder in FOLDERS for p in (CASES / folder).glob("*.txt")}
    assert files == set(MANIFEST)
    kinds = [case["kind"] for case in MANIFEST.values()]
    assert kinds.count("catalogue") >= 15
    assert kinds.count("unrelated-error") + kinds.count("not-an-error") >= 25
    assert kinds.count("not-an-error") >= 2
    for name, case in MANIFEST.items():
        assert set(case) >= {"source", "cause", "expected", "exception", "kind"}, name
        assert case["source"].startswith("https://"), name
        assert case["kind"] in ("catalogue", "unrelated-error", "not-an-error"), name
        assert (case["expected"] in SCENARIO_CODES) is (case["kind"] == "catalogue"), name
        if case["kind"] != "catalogue":
            assert case["expected"] == "none", name


@pytest.mark.parametrize("name", sorted(MANIFEST), ids=case_id)
def test_a_real_case_parses_to_its_exception(name):
    case = MANIFEST[name]
    ev = parse((CASES / name).read_text(encoding="utf-8"))
    assert (ev.last.type if ev.last else "") == case["exception"]
    if case["kind"] == "not-an-error" or name in BARE_MESSAGE:
        assert ev.errors == []
    elif case["kind"] == "unrelated-error" or case["exception"]:
        assert ev.errors
