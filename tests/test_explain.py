"""pitfall-lab explain: from a pasted error to the scenario that causes it. Test ids name
scenarios by code, so that `pytest -k <scenario>` keeps selecting that scenario alone."""
import json
import sys
from pathlib import Path

import pytest

from pitfall_lab import explain
from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SCENARIOS = scenario.load_all()
CASES = Path(__file__).parent / "explain_cases"
EXPECTED = tomllib.loads((CASES / "expected.toml").read_text())["catalogue"]
# One line that carries each context cue, for the symptoms that count only with one.
CUE_LINE = {
    "reloader": " * Restarting with stat",
    "rq": "12:00:01 default: Job failed (rq:job:5c1f...): see the traceback in the worker log",
    "celery": "[2024-05-14 02:00:07,381: ERROR/ForkPoolWorker-3] Task raised unexpected",
    "unittest": 'File "/usr/lib/python3.11/unittest/case.py", line 57, in testPartExecutor',
    "threads": '  File "/usr/lib/python3.11/threading.py", line 1045, in _bootstrap_inner',
    "cron": "Nov 23 03:15:01 web1 CRON[4127]: (deploy) CMD (cd /srv/app && python report.py)",
}
TRACEBACK = '''Traceback (most recent call last):
  File "/srv/app/venv/lib/python3.11/site-packages/flask/app.py", line 1511, in wsgi_app
    response = self.full_dispatch_request()
  File "/srv/app/app/views.py", line 42, in index
    rows = db.session.execute(stmt).all()
{text}
'''


def declared_symptoms():
    for s in SCENARIOS.values():
        for n, sym in enumerate(s.symptoms):
            if sym.affected:
                yield pytest.param(s, sym, id=f"{s.code}-{n}")


def ranked_first(matches) -> set[str]:
    return {m.scenario.code for m in matches if m.rank_key == matches[0].rank_key}


@pytest.mark.parametrize("wrapped", [False, True], ids=["alone", "in-traceback"])
@pytest.mark.parametrize("s, symptom", list(declared_symptoms()))
def test_every_declared_symptom_is_explained_by_its_own_scenario(s, symptom, wrapped):
    """Derived from the metadata, so it grows with the catalogue. A symptom whose text alone
    has many causes (needs_cue) is given with one line of the context its scenario names; one
    that is another scenario's own text (points_to) is explained by that scenario."""
    text = symptom.text.replace("<sa>", "20")
    if symptom.needs_cue:
        text = f"{CUE_LINE[next(c for c in s.cues if c in CUE_LINE)]}\n{text}"
    matches = explain.explain(TRACEBACK.format(text=text) if wrapped else text)
    assert matches, "no match"
    first = ranked_first(matches)
    code = SCENARIOS[symptom.points_to].code if symptom.points_to else s.code
    assert code in first, [(m.scenario.code, m.score, m.cues) for m in matches]
    for m in matches:
        if m.scenario.code in first:  # where two scenarios declare the same text, say so
            assert first - {m.scenario.code} == set(m.tie)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_realistic_error_has_its_cause_in_the_top_three(name):
    matches = explain.explain((CASES / "catalogue" / name).read_text())
    assert {m.scenario.code for m in matches[:3]} & set(EXPECTED[name]), \
        [(m.scenario.code, m.score) for m in matches]


def test_top_one_accuracy_on_the_realistic_errors(record_property):
    top1 = top3 = 0
    for name, expected in EXPECTED.items():
        matches = explain.explain((CASES / "catalogue" / name).read_text())
        top1 += bool(matches) and bool(ranked_first(matches) & set(expected))
        top3 += bool({m.scenario.code for m in matches[:3]} & set(expected))
    record_property("accuracy", f"top-1 {top1}/{len(EXPECTED)}, top-3 {top3}/{len(EXPECTED)}")
    assert len(EXPECTED) >= 25
    assert top1 / len(EXPECTED) >= 0.9 and top3 == len(EXPECTED)


@pytest.mark.parametrize("path", sorted((CASES / "outside").glob("*.txt")), ids=lambda p: p.stem)
def test_an_error_from_outside_the_catalogue_is_no_match(path):
    assert explain.explain(path.read_text()) == []


def pitfall_lab(*args, input=None):
    return procs.run(["pitfall-lab", *args], cwd=scenario.ROOT, input=input)


def test_the_report_says_why_each_match_matched_and_names_the_tie():
    result = pitfall_lab("explain", str(CASES / "catalogue" / "27_uwsgi_ssl_syscall_eof.txt"))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Ambiguous: S07 and S12 match this text as well; ranked by the "
                          "context the text shows (uwsgi). What tells them apart:")
    assert "1. S07 prefork_shared_connection" in out and "2. S12 stale_connection" in out
    assert "reported: https://github.com/sqlalchemy/sqlalchemy/issues/5955" in out
    assert "context  uwsgi" in out and "read     pitfall-lab show stale_connection" in out
    assert "confirm  pitfall-lab doctor PROJECT (check S07-connection-before-fork)" in out


def test_measured_evidence_names_its_version_sets():
    result = pitfall_lab("explain", "-", input="RuntimeError: Working outside of application "
                                                "context.\n")
    assert result.returncode == 0, result.stderr
    assert "measured on v3, v3b (no_context)" in result.stdout


def test_json_is_alone_on_stdout_and_ranks_with_evidence():
    result = pitfall_lab("explain", "--json", "--top", "1",
                         str(CASES / "catalogue" / "10_not_registered.txt"))
    data = json.loads(result.stdout)
    assert (result.returncode, data["format"]) == (0, explain.FORMAT)
    assert [(m["rank"], m["code"], m["tie"]) for m in data["matches"]] == [
        (1, "S05", ["S06"]), (1, "S06", ["S05"])]  # both declare the text; pytest is the context
    assert data["matches"][0]["evidence"][0]["kind"] == "measured"
    assert data["matches"][0]["confirm"] == "pitfall-lab doctor PROJECT (check S05-shared-base)"


def test_a_bare_error_with_several_causes_lists_them_and_guesses_none():
    text = "sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) no such table: user\n"
    result = pitfall_lab("explain", "-", input=text)
    assert result.returncode == 1
    family = [s for s in SCENARIOS.values() if s.family == "no such table"]
    first, second = result.stdout.splitlines()[:2]
    assert first == ("'no such table': first rule out the plain cause, "
                     f"{explain.FIRST_CHECK['no such table']}.")
    assert second.startswith(f"'no such table' has {len(family)} causes in the lab")
    for s in family:
        assert f"  {s.code} {s.id}: {s.cause}\n" in result.stdout
    data = json.loads(pitfall_lab("explain", "--json", "-", input=text).stdout)
    assert data["matches"] == []
    assert [f["scenario"] for f in data["families"][0]["scenarios"]] == [s.id for s in family]


def test_every_family_has_its_first_check():
    assert {s.family for s in SCENARIOS.values() if s.family} <= set(explain.FIRST_CHECK)


def test_no_match_is_said_plainly_with_exit_1():
    result = pitfall_lab("explain", str(CASES / "outside" / "07_zero_division.txt"))
    assert result.returncode == 1
    assert result.stdout.startswith("No match: this error is not one the catalogue's symptoms "
                                    "explain")


@pytest.mark.parametrize("args, input, line", [
    (["explain", "/nonexistent/trace.txt"], None,
     "pitfall-lab: cannot read /nonexistent/trace.txt: No such file or directory"),
    (["explain"], "  \n", "pitfall-lab: nothing to explain: standard input is empty"),
], ids=["missing-file", "empty-input"])
def test_bad_input_is_one_line_and_exit_2(args, input, line):
    result = pitfall_lab(*args, input=input)
    assert (result.returncode, result.stderr.splitlines()) == (2, [line])


def test_explain_imports_neither_flask_nor_sqlalchemy():
    probe = ("import sys\nfrom pitfall_lab import cli\n"
             f"sys.argv = ['pitfall-lab', 'explain', {str(CASES / 'catalogue' / '05_rq_pending_rollback.txt')!r}]\n"
             "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
             "print(sorted({'flask', 'sqlalchemy', 'flask_sqlalchemy', 'werkzeug'} & set(sys.modules)))")
    result = procs.python("-c", probe, cwd=scenario.ROOT)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stderr


INNER_SUITE = '''
def test_a_cron_job():
    raise RuntimeError("Working outside of application context.")

def test_arithmetic():
    assert 1 + 1 == 3

def test_fine():
    pass
'''


def test_the_plugin_adds_a_hint_to_a_matching_failure_only(pytester):
    pytester.makepyfile(INNER_SUITE)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=2, passed=1)
    out = result.stdout.str()
    first, _, second = out.partition("test_arithmetic ____")
    assert "- pitfall-lab -" in first
    assert ("looks like S04 outside_app_context: A script uses db.session or Model.query with no "
            "app context pushed for an app that db knows. See `pitfall-lab show "
            "outside_app_context`.") in first.replace("\n", " ")
    assert "pitfall-lab" not in second
