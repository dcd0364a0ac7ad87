"""The doctor's check for values of the wrong type (pitfall_lab/doctor/checks/params.py): the
load probe says which columns take a date, a time or an id; the source says what the views give
them. On the scenario's own repros and fix, and on variations of them."""
import ast

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.doctor.checks import params
from pitfall_lab.guard import observe

S = scenario.load("wrong_param_type")
pytestmark = pytest.mark.skipif(observe.unsupported() is not None,
                                reason=str(observe.unsupported()))
COLUMNS = {"User": {}, "Event": {"starts_at": "datetime", "owner_id": "foreign key"}}


def verdict(path):
    from pitfall_lab import doctor

    (result,) = [r for r in doctor.examine(path).results if r.check.scenario == S.id]
    return result


@pytest.mark.parametrize("variant", S.variants, ids=str)
def test_the_verdict_on_each_variant(variant):
    result = verdict(variant.path)
    said = {
        "repro-form_datetime": (
            "found", "1 value(s) of the wrong type for a typed column; Event.starts_at (datetime) "
                     "gets text a request sent: on SQLite a StatementError ('SQLite DateTime type "
                     "only accepts Python datetime and date objects as input.'), while PostgreSQL "
                     "parses the text its own way: a suite on one and production on the other "
                     "disagree", ("app.py", 30)),
        "repro-model_as_id": (
            "found", "1 value(s) of the wrong type for a typed column; Event.owner_id (foreign "
                     "key) gets a query's .get_or_404(): no driver can bind a model instance "
                     "(sqlite3: 'Error binding parameter', psycopg2: 'can't adapt type'), and "
                     "neither names the column", ("app.py", 32)),
        "fix": ("not found", "2 typed column(s); none is given a request's text or a model "
                             "instance in the source", None),
    }[str(variant)]
    assert (result.verdict, result.message, result.location) == said


def found(source: str, columns=COLUMNS) -> list[str]:
    return [str(g) for g in params.given([("views.py", ast.parse(source))], columns)]


@pytest.mark.parametrize("value", [
    "request.form['when']", "request.form.get('when')", "request.args['when']",
    "request.get_json()['when']", "request.json.get('when')", "request.values['when']"])
def test_what_a_request_sent_is_text(value):
    assert found(f"def add():\n    Event(starts_at={value})\n") == [
        f"views.py:2: Event.starts_at (datetime) = {value}: text a request sent"]


@pytest.mark.parametrize("value", [
    'datetime.strptime(request.form["when"], "%Y-%m-%dT%H:%M")',
    'request.args.get("when", type=date.fromisoformat)', "form.starts_at.data", "when"])
def test_a_parsed_or_unknown_value_is_not_flagged(value):
    assert found(f"def add(when):\n    Event(starts_at={value})\n") == []


def test_a_name_bound_to_the_requests_text_and_an_attribute_assignment():
    source = ("def edit(event):\n"
              "    when = request.form['when']\n"
              "    event.starts_at = when\n")
    assert found(source) == [
        "views.py:3: Event.starts_at (datetime) = when: text a request sent"]


def test_a_name_parsed_before_use_is_not_flagged():
    source = ("def add():\n"
              "    when = request.form['when']\n"
              "    when = datetime.fromisoformat(when)\n"
              "    Event(starts_at=when)\n")
    assert found(source) == []


@pytest.mark.parametrize("bound, said", [
    ("User.query.get_or_404(1)", "a query's .get_or_404()"),
    ("db.session.get(User, 1)", "a query's .get()"), ("User(name='ada')", "User(...)")])
def test_a_model_instance_for_a_foreign_key(bound, said):
    source = f"def add():\n    owner = {bound}\n    Event(owner_id=owner)\n"
    assert found(source) == [f"views.py:3: Event.owner_id (foreign key) = owner: {said}"]
    assert found(f"def add():\n    owner = {bound}\n    Event(owner_id=owner.id)\n") == []
