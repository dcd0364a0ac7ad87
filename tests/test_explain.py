"""pitfall-lab explain: from a pasted error to the scenario that causes it, or to why none is
named. Test ids name scenarios by code, so that `pytest -k <scenario>` keeps selecting that
scenario alone."""
import json
import sys
from pathlib import Path

import pytest

from pitfall_lab import explain
from pitfall_lab.catalogue import scenario
from pitfall_lab.explain import signatures
from pitfall_lab.harness import procs

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SCENARIOS = scenario.load_all()
CASES = Path(__file__).parent / "explain_cases"
EXPECTED = tomllib.loads((CASES / "expected.toml").read_text())["catalogue"]
# Real pastes from public threads: real/ was collected while the matcher was written, heldout/
# after it, and never used to tune it. Keyed "<folder>/<file>".
REAL = {f"{folder}/{name}": case for folder in ("real", "heldout")
        for name, case in tomllib.loads((CASES / folder / "cases.toml").read_text()).items()}
# What the matcher gets wrong, said once: each stays a strict xfail, so a fix shows up.
KNOWN_MISSES = {
    "real/26_cron_job_holds_mysql_connection.txt": "the text is the bare 'MySQL server has "
    "gone away' that S12 ends in; only the thread says the connection was held, not pooled",
    "real/37_celery_prefork_inherited_pool.txt": "the bare PGRES_TUPLES_OK error, with no "
    "Celery in the text: S07 (any prefork server) first, S19 listed wanting celery",
    "heldout/15_memory_sqlite_no_such_table_threads.txt": "a bare 'no such table' in a request: "
    "the text does not show the in-memory URL, so the answer is the family's differential, "
    "undecided, and S17 is fourth in it",
    "heldout/36_unable_to_open_relative_nested_title.txt": "an issue title that quotes 'unable "
    "to open database file' with no exception class or error prefix: the parser reads no error "
    "in it (not-an-error)",
    "heldout/38_null_email_breaks_session_for_later_requests.txt": "the one-line error is the "
    "same as a view's that caught its IntegrityError; only the thread says every later request "
    "failed too (a session that outlives the request), so S25 is named",
    "heldout/43_uri_must_be_set_sqlalchemy_app_before_config.txt": "a PR's sentence that quotes "
    "the message lower-cased after 'a blocker error:' with no exception class: the parser reads "
    "no error in it (not-an-error)",
    "heldout/46_uri_never_set_env_not_configured.txt": "the RuntimeError a URI set after "
    "init_app ends in, raised by init_app in the app factory; only the thread says the URI was "
    "never set (no environment variables), so S28 is named",
    "heldout/45_unable_to_open_uri_made_relative.txt": "the bare 'unable to open database "
    "file', with no path in the text: a folder the process cannot write (48) or a wrong absolute "
    "path (49) say the same, so S23 is listed wanting a relative path, not named",
}
# One line that carries each context cue, for the symptoms that count only with one.
CUE_LINE = {
    "reloader": " * Restarting with stat",
    "rq": "12:00:01 default: Job failed (rq:job:5c1f...): see the traceback in the worker log",
    "celery": "[2024-05-14 02:00:07,381: ERROR/ForkPoolWorker-3] Task raised unexpected",
    "unittest": 'File "/usr/lib/python3.11/unittest/case.py", line 57, in testPartExecutor',
    "threads": '  File "/usr/lib/python3.11/threading.py", line 1045, in _bootstrap_inner',
    "cron": "Nov 23 03:15:01 web1 CRON[4127]: (deploy) CMD (cd /srv/app && python report.py)",
    "fork": "[2024-05-14 02:00:07 +0000] [41] [INFO] preload_app: connections made before "
            "the fork",
    "delete": "    db.session.delete(user)",
    "relative-path": 'app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///data/notes.db"',
}
TRACEBACK = '''Traceback (most recent call last):
  File "/srv/app/venv/lib/python3.11/site-packages/flask/app.py", line 1511, in wsgi_app
    response = self.full_dispatch_request()
  File "/srv/app/app/views.py", line 42, in index
    rows = db.session.execute(stmt).all()
{text}
'''


def first(answer) -> set[str]:
    """The scenarios named first (a tie names several); {"none"} when none is."""
    return {c.scenario.code for c in answer.matches
            if c.rank_key == answer.matches[0].rank_key} or {"none"}


def listed(answer) -> list[str]:
    return [c.scenario.code for c in answer.matches + answer.undecided]


def symptoms(errors: bool):
    for s in SCENARIOS.values():
        for n, sym in enumerate(s.symptoms):
            shows = signatures.errors_in(scenario.expand(sym.text))
            if shows and all(e[0] in s.trigger for e in shows):
                continue  # only what sets the pitfall off: neither matched nor silent
            if sym.affected and bool(shows) == errors:
                yield pytest.param(s, sym, id=f"{s.code}-{n}")


@pytest.mark.parametrize("wrapped", [False, True], ids=["alone", "in-traceback"])
@pytest.mark.parametrize("s, symptom", list(symptoms(errors=True)))
def test_every_declared_error_names_its_own_scenario_first(s, symptom, wrapped):
    """Derived from the metadata, so it grows with the catalogue. A symptom whose text alone
    has causes outside the catalogue (needs_cue, or its family's shared error) is given with
    one line of the context its scenario names; one that is another scenario's own text
    (points_to) names that scenario."""
    # As a user would paste them: the errors, without the labels the repro prints before them.
    text = "\n".join(line for *_, line in signatures.errors_in(scenario.expand(symptom.text)))
    cued = symptom.needs_cue or (s.family and s.family in text.lower())
    cue = next((c for c in s.cues if c in CUE_LINE), None)
    if cued and cue is None:
        pytest.skip(f"{s.code}'s symptom names it only in a context no paste shows "
                    f"({s.family or 'needs_cue'}): covered by the family test")
    if cued:
        text = f"{CUE_LINE[cue]}\n{text}"
    answer = explain.explain(TRACEBACK.format(text=text) if wrapped else text)
    code = SCENARIOS[symptom.points_to].code if symptom.points_to else s.code
    assert code in first(answer), [(c.scenario.code, c.score, c.parts) for c in answer.matches]


@pytest.mark.parametrize("s, symptom", list(symptoms(errors=False)))
def test_a_silent_outcome_is_described_never_matched(s, symptom):
    """A lost update, a wrong count, a repro's own status lines: pasted back, not an error."""
    answer = explain.explain(scenario.expand(symptom.text))
    assert answer.kind == "not-an-error", [line.text for line in answer.evidence.errors]


def unaffected():
    for s in SCENARIOS.values():
        for n, sym in enumerate(s.symptoms):
            if not sym.affected:
                yield pytest.param(s, sym, id=f"{s.code}-{n}")


@pytest.mark.parametrize("s, symptom", list(unaffected()))
def test_what_an_unaffected_version_prints_names_no_scenario(s, symptom):
    assert explain.explain(scenario.expand(symptom.text)).kind != "match"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_catalogue_case_has_its_exact_first_answer(name):
    answer = explain.explain((CASES / "catalogue" / name).read_text())
    assert first(answer) <= set(EXPECTED[name]) and first(answer) != {"none"}, \
        [(c.scenario.code, c.score, c.parts) for c in answer.matches]


def real_cases():
    for name, case in REAL.items():
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[name])] \
            if name in KNOWN_MISSES else []
        folder, file = name.split("/")
        yield pytest.param(name, case, id=f"{folder}-{file.split('_', 1)[0]}-{case['kind']}",
                           marks=marks)


@pytest.mark.parametrize("name, case", list(real_cases()))
def test_a_real_error_has_its_exact_first_answer(name, case):
    """Real pastes from public threads, the cause established by the thread itself."""
    answer = explain.explain((CASES / name).read_text())
    assert first(answer) == {case["expected"]}, (answer.kind, listed(answer))
    if case["kind"] == "not-an-error":
        assert answer.kind == "not-an-error"
    if case["exception"]:
        assert answer.evidence.last.type == case["exception"]


def test_real_errors_in_the_catalogue_are_named_first_and_listed():
    """The issue's bar: right first in >= 70%, among the first three in >= 90%."""
    right = top3 = n = 0
    for name, case in REAL.items():
        if case["kind"] != "catalogue":
            continue
        answer = explain.explain((CASES / name).read_text())
        n += 1
        right += first(answer) == {case["expected"]}
        top3 += case["expected"] in listed(answer)[:3]
    assert right / n >= 0.7 and top3 / n >= 0.9, (right, top3, n)


def no_pitfall():
    for path in sorted((CASES / "outside").glob("*.txt")):
        yield pytest.param(path, id=f"outside-{path.stem[:2]}")
    for path in sorted((CASES / "not_errors").glob("*.txt")):
        yield pytest.param(path, id=f"not-error-{path.stem[:2]}")


@pytest.mark.parametrize("path", list(no_pitfall()))
def test_no_pitfall_input_names_no_scenario(path):
    answer = explain.explain(path.read_text())
    assert answer.kind != "match", listed(answer)
    if path.parent.name == "not_errors":
        assert answer.kind == "not-an-error", [line.text for line in answer.evidence.errors]


def test_there_are_at_least_25_inputs_that_are_no_pitfall():
    unrelated = [n for n, c in REAL.items() if c["expected"] == "none"]
    assert len(unrelated) + len(list(no_pitfall())) >= 25


def test_context_decides_between_causes_that_share_a_message():
    detached = ("sqlalchemy.orm.exc.DetachedInstanceError: Parent instance <User at 0x7f> is "
                "not bound to a Session; lazy load operation of attribute 'posts' cannot "
                "proceed (Background on this error at: https://sqlalche.me/e/20/bhk3)")
    in_view = explain.explain(TRACEBACK.format(text=detached))
    assert first(in_view) == {SCENARIOS["detached_after_session"].code}
    assert "rq" in next(c.wants for c in in_view.undecided
                        if c.scenario.id == "orm_object_job_arg")
    in_rq = explain.explain(f"{CUE_LINE['rq']}\n{detached}")
    assert first(in_rq) == {SCENARIOS["orm_object_job_arg"].code}
    assert in_rq.matches[0].parts["context"] == ["rq"]


def test_a_chained_traceback_is_read_to_its_last_exception():
    text = '''Traceback (most recent call last):
  File "/srv/venv/lib/python3.11/site-packages/sqlalchemy/engine/base.py", line 1967, in _exec_single_context
    self.dialect.do_execute(
psycopg2.OperationalError: SSL SYSCALL error: EOF detected

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/srv/venv/lib/python3.11/site-packages/gunicorn/workers/sync.py", line 178, in handle_request
    respiter = self.wsgi(environ, resp.start_response)
  File "/srv/app/views.py", line 12, in index
    return jsonify(User.query.all())
sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) SSL SYSCALL error: EOF detected
[SQL: SELECT users.id FROM users]
(Background on this error at: https://sqlalche.me/e/20/e3q8)
'''
    answer = explain.explain(text)
    assert [e.relation for e in answer.evidence.exceptions] == ["", "cause"]
    assert first(answer) == {SCENARIOS["prefork_shared_connection"].code}
    assert answer.matches[0].parts == {"message": 100, "type": "OperationalError",
                                       "code": "", "context": ["gunicorn"]}


def test_pytest_output_is_read_from_its_e_lines():
    text = '''_________________________ TestA.test_list __________________________
tests/test_a.py:31: in test_list
    rows = A.query.all()
E   RuntimeError: The current Flask app is not registered with this 'SQLAlchemy' instance. Did you forget to call 'init_app', or did you create multiple 'SQLAlchemy' instances?
=========================== short test summary info ============================
FAILED tests/test_a.py::TestA::test_list - RuntimeError: The current Flask app is not registered
'''
    answer = explain.explain(text)
    assert answer.kind == "match"
    assert first(answer) == {"S04", "S05", "S06"} & first(answer) != set()
    assert "pytest" in answer.context


def pitfall_lab(*args, input=None):
    return procs.run(["pitfall-lab", *args], cwd=scenario.ROOT, input=input)


def test_the_report_says_what_counted_and_why_it_was_named():
    result = pitfall_lab("explain", str(CASES / "catalogue" / "27_uwsgi_ssl_syscall_eof.txt"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("1. S07 prefork_shared_connection: ")
    assert "(score 90: message 100, type OperationalError, context uwsgi)" in out
    assert "   context  uwsgi (" in out
    assert "reported: https://github.com/sqlalchemy/sqlalchemy/issues/5955" in out
    assert "confirm  pitfall-lab doctor PROJECT (check S07-connection-before-fork)" in out


def test_measured_evidence_names_its_version_sets():
    result = pitfall_lab("explain", "-", input="RuntimeError: Working outside of application "
                                                "context.\n")
    assert result.returncode == 0, result.stderr
    assert "measured on v3, v3b (no_context)" in result.stdout


def test_json_has_the_documented_shape():
    result = pitfall_lab("explain", "--json", "--top", "1",
                         str(CASES / "catalogue" / "10_not_registered.txt"))
    data = json.loads(result.stdout)
    assert (result.returncode, data["format"], data["answer"]) == (0, explain.FORMAT, "match")
    assert set(data) == {"format", "answer", "input_lines", "context", "error", "matches",
                         "undecided", "first_check", "ruled_out"}
    assert [(m["rank"], m["code"], m["tie"]) for m in data["matches"]] == [
        (1, "S04", ["S05", "S28"]), (1, "S05", ["S04", "S28"]), (1, "S28", ["S04", "S05"])]
    assert set(data["matches"][0]["parts"]) == {"message", "type", "code", "context"}
    assert data["matches"][0]["evidence"][0]["source"] == "measured"
    assert data["matches"][1]["confirm"] == "pitfall-lab doctor PROJECT (check S05-shared-base)"


def test_an_error_several_scenarios_end_in_lists_them_and_guesses_none():
    text = "sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) no such table: user\n"
    result = pitfall_lab("explain", "-", input=text)
    assert result.returncode == 1
    family = [s for s in SCENARIOS.values() if s.family == "no such table"]
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Not decided: ")
    assert f"  first    rule out the plain cause: {explain.FIRST_CHECK['no such table']}" in lines
    for s in family:
        assert f". {s.code} {s.id}: {s.cause}\n" in result.stdout
    data = json.loads(pitfall_lab("explain", "--json", "-", input=text).stdout)
    assert (data["answer"], data["matches"]) == ("undecided", [])
    assert {u["scenario"] for u in data["undecided"]} == {s.id for s in family}


def test_every_family_has_its_first_check():
    assert {s.family for s in SCENARIOS.values() if s.family} <= set(explain.FIRST_CHECK)


def test_an_unknown_error_is_no_known_pitfall_with_its_sqlalchemy_code():
    text = ('sqlalchemy.exc.ProgrammingError: (psycopg2.errors.InsufficientPrivilege) permission '
            'denied for table users\n[SQL: SELECT users.id, users.name FROM users]\n'
            '(Background on this error at: https://sqlalche.me/e/14/f405)\n')
    result = pitfall_lab("explain", "-", input=text)
    assert result.returncode == 1
    assert result.stdout.splitlines()[:3] == [
        "No known pitfall: the lab's catalogue does not explain this error.",
        "  error    sqlalchemy.exc.ProgrammingError: (psycopg2.errors.InsufficientPrivilege) "
        "permission denied for table users",
        "  code     f405: SQLAlchemy's page for it is https://sqlalche.me/e/14/f405"]
    data = json.loads(pitfall_lab("explain", "--json", "-", input=text).stdout)
    assert data["error"]["sqlalchemy_link"] == "https://sqlalche.me/e/14/f405"


def test_text_with_no_error_says_so_with_exit_1():
    result = pitfall_lab("explain", str(CASES / "not_errors" / "03_job_finished_line.txt"))
    assert result.returncode == 1
    assert result.stdout.startswith("Nothing here reads as an error (1 line(s) read")


def test_a_look_alike_the_text_shows_rules_the_scenario_out():
    text = ("ImportError: cannot import name 'SQLAlchemy' from partially initialized module "
            "'flask_sqlalchemy' (most likely due to a circular import) "
            "(/home/u/flask_sqlalchemy.py)\n")
    data = json.loads(pitfall_lab("explain", "--json", "-", input=text).stdout)
    assert data["answer"] == "no-known-pitfall"
    assert [r["code"] for r in data["ruled_out"]] == [SCENARIOS["circular_import"].code]
    assert "named like the library" in data["ruled_out"][0]["because"]


def test_the_readme_shows_what_explain_prints(tmp_path):
    """The chained traceback and its answer in the README's explain section are real."""
    readme = (scenario.ROOT / "README.md").read_text()
    section = readme.partition("A chained traceback from a gunicorn worker")[2]
    blocks = section.split("```\n")
    pasted, shown = blocks[1], blocks[3]
    command, _, printed = shown.partition("\n")
    assert command == "$ pitfall-lab explain error.txt --top 1"
    (tmp_path / "error.txt").write_text(pasted)
    result = pitfall_lab("explain", str(tmp_path / "error.txt"), "--top", "1")
    assert result.stdout == printed


@pytest.mark.parametrize("error, rq_scenario, celery_scenario", [
    ("sqlalchemy.orm.exc.DetachedInstanceError: Parent instance <User at 0x7f> is not bound to "
     "a Session; lazy load operation of attribute 'posts' cannot proceed",
     "orm_object_job_arg", "celery_orm_object_arg"),
    ("sqlalchemy.exc.PendingRollbackError: This Session's transaction has been rolled back due "
     "to a previous exception during flush. To begin a new transaction with this Session, first "
     "issue Session.rollback(). Original exception was: (sqlite3.IntegrityError) UNIQUE "
     "constraint failed: account.email", "poisoned_session_jobs", "celery_one_app_context"),
], ids=["detached", "pending-rollback"])
def test_the_worker_in_the_text_tells_celery_from_rq(error, rq_scenario, celery_scenario):
    celery = ("[2026-05-14 02:00:07,381: ERROR/ForkPoolWorker-1] Task tasks.rename[5c1f] raised "
              "unexpected: " + error.partition(": ")[0] + "\nTraceback (most recent call last):\n"
              '  File "/srv/venv/lib/python3.11/site-packages/celery/app/trace.py", line 453, '
              "in trace_task\n    R = retval = fun(*args, **kwargs)\n" + error + "\n")
    rq = f"{CUE_LINE['rq']}\n{error}\n"
    assert first(explain.explain(celery)) == {SCENARIOS[celery_scenario].code}
    assert first(explain.explain(rq)) == {SCENARIOS[rq_scenario].code}


def test_a_missing_column_names_its_scenario_whatever_the_column_unless_it_is_a_typo():
    """A column the model maps and the table lacks: the sole cause of a short message is one
    scenario, named with any table and column; PostgreSQL's hint of a similar column is a
    misspelled query instead."""
    missing = ('sqlalchemy.exc.ProgrammingError: (psycopg2.errors.UndefinedColumn) column '
               'orders.shipped_at does not exist\nLINE 1: SELECT orders.id AS orders_id, '
               'orders.shipped_at AS orders_shipped_at FROM orders\n')
    code = SCENARIOS["schema_not_migrated"].code
    assert first(explain.explain(missing)) == {code}
    typo = missing + ('HINT:  Perhaps you meant to reference the column '
                      '"orders.shipped_on".\n')
    answer = explain.explain(typo)
    assert answer.kind == "no-known-pitfall"
    assert [c.scenario.code for c in answer.ruled_out] == [code]
    table = ('sqlalchemy.exc.ProgrammingError: (psycopg2.errors.UndefinedTable) relation '
             '"orders" does not exist\n')
    assert code not in listed(explain.explain(table))


def test_a_known_bad_set_is_named_only_for_the_symptoms_written_for_it():
    """v1b runs only the scenario written for that pair: 'measured on v1b' anywhere else would
    claim a run that never happened."""
    assert signatures.known_bad(scenario.ROOT) == {"v1b"}
    on_v1b = {p.scenario for p in signatures.patterns(SCENARIOS)
              if p.source == "measured" and "v1b" in p.version_sets}
    assert on_v1b == {"upgrade_api_change"}


def test_a_misspelled_uri_key_rules_the_late_configuration_out():
    """The RuntimeError of a URI set after SQLAlchemy(app) is also that of a key never set under
    its name (Flask's config keys are case-sensitive); a text that shows the misspelled key
    names the look-alike, and the same text with the key spelled right names the scenario."""
    error = ("RuntimeError: Either 'SQLALCHEMY_DATABASE_URI' or 'SQLALCHEMY_BINDS' must be "
             "set.\n")
    code = SCENARIOS["config_after_init"].code
    for key in ("SQLALCHEMY_DATABASE_URL", "SQLAlchemy_DATABASE_URI", "SQLALCHEMY_DATBASE_URI"):
        answer = explain.explain(f"    app.config['{key}'] = 'sqlite:///app.db'\n{error}")
        assert answer.kind == "no-known-pitfall", listed(answer)
        assert [c.scenario.code for c in answer.ruled_out] == [code]
    right = explain.explain("db = SQLAlchemy(app)\n"
                            f"app.config['SQLALCHEMY_DATABASE_URI'] = 'sqlite:///app.db'\n{error}")
    assert first(right) == {code}
