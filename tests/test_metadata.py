"""The metadata schema: every shipped file loads, a broken one fails in one line naming the field."""
import pytest

from pitfall_lab.catalogue import scenario

GOOD = """
id = "demo"
code = "S99"
title = "A demo"
cause = "Because of one thing."
sources = ["An English-language blog post that reported the failure."]
root_cause = "Because."
references = ["https://example.org/"]

[[symptoms]]
case = "run"
text = "RuntimeError: boom"

[[repros]]
summary = "fails"

[[fixes]]
summary = "works"
"""

# The same case, not affected for one server and variant.
BY_SERVER = GOOD + """
[[symptoms]]
case = "run"
where = { server = "gunicorn", variant = "repro" }
affected = false
text = "200 ok"
"""


@pytest.fixture
def lab(tmp_path, monkeypatch):
    monkeypatch.setattr(scenario, "ROOT", tmp_path)
    monkeypatch.setattr(scenario, "SCENARIO_DIR", tmp_path / "scenarios")
    for folder in ("scenarios", "repros/demo", "fixes/demo"):
        (tmp_path / folder).mkdir(parents=True)

    def write(text: str):
        path = tmp_path / "scenarios" / "demo.toml"
        path.write_text(text)
        return path
    return write


def test_every_shipped_scenario_declares_one_symptom_per_case_for_these_versions():
    scenarios = scenario.load_all()
    assert len(scenarios) >= 5
    for s in scenarios.values():
        assert s.repros and s.fixes
        for case in {sym.case for sym in s.symptoms}:  # for each test parameter it names
            for where in {sym.where for sym in s.symptoms if sym.case == case}:
                assert s.symptom(case, **dict(where))


def test_a_good_file_loads(lab):
    s = scenario.load_file(lab(GOOD))
    assert (s.id, [str(v) for v in s.variants], s.symptom("run")) == ("demo", ["repro", "fix"],
                                                                        "RuntimeError: boom")


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace('title = "A demo"\n', ""), "demo.toml: title: missing"),
    (lambda t: t.replace('code = "S99"', 'code = "S99"\ncolour = "red"'), "demo.toml: colour: unknown field"),
    (lambda t: t.replace('"An English-language blog post that reported the failure."', '"001_5c707df2ac66e183.txt"'), "demo.toml: sources: '001_5c707df2ac66e183.txt': describe the source in words"),
    (lambda t: t.replace('case = "run"', 'case = "run"\nwhere = { server = 3 }'), "demo.toml: symptoms[0].where: must be a table of test parameter names to strings"),
    (lambda t: t.replace('case = "run"', 'case = "run"\nwhen = ["flask >= 3 <"]'), "demo.toml: symptoms[0].when: 'flask >= 3 <' is not a requirement"),
    (lambda t: t.replace('summary = "works"', 'name = "gone"\nsummary = "works"'), "demo.toml: fixes[0].name: no directory fixes/demo/gone"),
    (lambda t: t.replace('id = "demo"', 'id = "other"'), "demo.toml: id: 'other' differs from the file name"),
    (lambda t: t.replace("[[repros]]", "[[repros"), "demo.toml: not valid TOML"),
    (lambda t: t.replace('[[symptoms]]\ncase = "run"\ntext = "RuntimeError: boom"\n', ""), "demo.toml: symptoms: must be one or more"),
    (lambda t: t.replace('summary = "works"', 'repros = ["other"]\nsummary = "works"'), "demo.toml: fixes[0].repros: no repro named 'other'"),
])
def test_a_broken_file_fails_in_one_line_naming_the_field(lab, edit, message):
    with pytest.raises(scenario.MetadataError) as caught:
        scenario.load_file(lab(edit(GOOD)))
    assert len(str(caught.value).splitlines()) == 1
    assert message in str(caught.value)


DOCTOR = """
[doctor]
name = "demo-check"
level = "warning"
title = "A demo check"
hint = "Do the other thing"
"""


def test_the_doctor_and_the_runtime_texts_load(lab):
    s = scenario.load_file(lab(GOOD + DOCTOR + '\n[guard]\nmessage = "process {pid} did it"\n'
                                               'fix = "do not"\n\n[explain]\nconfirm = "run it"\n'))
    assert (s.doctor.id, s.doctor.level, s.doctor.title, s.doctor.uncovered) == (
        "S99-demo-check", scenario.Level.WARNING, "A demo check", "")
    assert (s.guard.fields, s.guard.fix, s.plugin, s.confirm) == ({"pid"}, "do not", None, "run it")
    s = scenario.load_file(lab(GOOD + '[doctor]\nuncovered = "it shows only at night"\n'))
    assert (s.doctor.id, s.doctor.level, s.doctor.uncovered) == (
        "S99-not-covered", scenario.Level.INFO, "it shows only at night")
    assert [level.value for level in scenario.Level] == ["info", "warning", "error"]


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace('"warning"', '"fatal"'),
     "demo.toml: doctor.level: 'fatal' is not one of info, warning, error"),
    (lambda t: t.replace('name = "demo-check"', 'name = "Demo check"'),
     "demo.toml: doctor.name: 'Demo check' does not match"),
    (lambda t: t.replace('name = "demo-check"\n', ""), "demo.toml: doctor.name: missing (or say why"),
    (lambda t: t + 'uncovered = "no check yet"\n',
     "demo.toml: doctor.hint: a check (name, level, title, hint) or uncovered, not both"),
    (lambda t: t.replace('title = "A demo check"', 'title = """A demo\ncheck"""'),
     "demo.toml: doctor.title: must be one line"),
    (lambda t: t.replace(DOCTOR, "").replace('code = "S99"', 'code = "S99"\ndoctor = "S99-x"'),
     "demo.toml: doctor: must be a [doctor] table"),
    (lambda t: t + '\n[guard]\nmessage = "process {} did it"\n',
     "demo.toml: guard.message: name every {field}"),
    (lambda t: t + '\n[guard]\nmessage = "process {pid did it"\n',
     "demo.toml: guard.message: not a format string"),
    (lambda t: t + '\n[plugin]\nmessage = "it failed"\ncolour = "red"\n',
     "demo.toml: plugin.colour: unknown field"),
    (lambda t: t + '\n[explain]\nconfirm = ""\n', "demo.toml: explain.confirm: must be a non-empty"),
], ids=["level", "name", "no-name", "both", "two-lines", "not-a-table", "positional",
        "unclosed", "unknown", "empty"])
def test_a_broken_doctor_or_runtime_table_fails_in_one_line(lab, edit, message):
    with pytest.raises(scenario.MetadataError) as caught:
        scenario.load_file(lab(edit(GOOD + DOCTOR)))
    assert len(str(caught.value).splitlines()) == 1
    assert message in str(caught.value)


def test_a_case_with_no_symptom_for_these_versions_is_an_error(lab):
    s = scenario.load_file(lab(GOOD.replace('case = "run"', 'case = "run"\nwhen = ["flask<0.1"]')))
    with pytest.raises(LookupError, match="0 symptoms for case 'run' match"):
        s.symptom("run")


def test_a_symptom_may_depend_on_a_test_parameter(lab):
    s = scenario.load_file(lab(BY_SERVER))
    assert (s.symptom("run", server="uwsgi", variant="repro"), s.affected("run", server="uwsgi")) \
        == ("RuntimeError: boom", True)
    assert (s.symptom("run", server="gunicorn", variant=s.repros[0]),
            s.affected("run", server="gunicorn", variant="repro")) == ("200 ok", False)
    assert s.symptom("run", server="gunicorn", variant="fix") == "RuntimeError: boom"


def test_the_texts_declared_not_affected_depend_on_the_parameters_too(lab):
    """tools/swap_check.py reads them: a test that still passes with the code swapped, because
    it observed one of these texts, checks behaviour the metadata says is not broken there."""
    s = scenario.load_file(lab(BY_SERVER))
    assert s.unaffected_texts(server="gunicorn", variant="repro") == {"200 ok"}
    assert s.unaffected_texts(server="uwsgi", variant="repro") == set()
    assert s.unaffected_texts(server="gunicorn", variant="fix") == set()


def test_a_fix_may_answer_some_repros_and_every_repro_needs_one(lab, tmp_path):
    for folder in ("repros/demo/first", "repros/demo/second", "fixes/demo/one", "fixes/demo/all"):
        (tmp_path / folder).mkdir()
    two = GOOD.replace('[[repros]]\nsummary = "fails"',
                       '[[repros]]\nname = "first"\nsummary = "fails"\n\n'
                       '[[repros]]\nname = "second"\nsummary = "fails too"')
    fixes = two.replace('[[fixes]]\nsummary = "works"',
                        '[[fixes]]\nname = "one"\nrepros = ["second"]\nsummary = "works"\n\n'
                        '[[fixes]]\nname = "all"\nsummary = "works too"')
    s = scenario.load_file(lab(fixes))
    assert [str(s.fix_for(r)) for r in s.repros] == ["fix-all", "fix-one"]
    with pytest.raises(scenario.MetadataError) as caught:
        scenario.load_file(lab(fixes.replace('[[fixes]]\nname = "all"\n',
                                             '[[fixes]]\nname = "all"\nrepros = ["second"]\n')))
    assert str(caught.value).endswith("fixes[0].repros: no fix answers the repro 'first'")
