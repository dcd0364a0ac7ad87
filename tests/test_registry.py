"""The catalogue is the one source: every scenario has a doctor verdict (a registered check or
the reason none covers it), every check and runtime detector names scenarios that exist and
says what its scenario's metadata says, and no module of the package names a scenario outside
the registration lines of the check and detector modules."""
import json
import re
from pathlib import Path

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.doctor import Report, output, registry
from pitfall_lab.guard import detectors, observe
from pitfall_lab.harness import procs

PACKAGE = Path(scenario.__file__).resolve().parents[1]
# The only modules that may name a scenario, and there only on their registration lines.
REGISTERING = [PACKAGE / "guard" / "detectors.py", *sorted((PACKAGE / "doctor" / "checks")
                                                           .glob("*.py"))]
SAMPLES = Path(__file__).parent / "doctor_samples"
SCHEMA = Path(__file__).parent / "data" / "sarif" / "sarif-2.1.0-rtm.5.json"


@pytest.fixture(scope="module")
def scenarios():
    return scenario.load_all()


def registered_codes() -> list[str]:
    return [code for reg in registry.registrations() for _, code in reg.roles]


def test_scenario_ids_and_codes_are_unique_and_well_formed(scenarios):
    codes = [s.code for s in scenarios.values()]
    assert len(codes) == len(set(codes)), sorted(c for c in codes if codes.count(c) > 1)
    for s in scenarios.values():
        assert re.fullmatch(r"S\d\d[a-z]?", s.code), s.source
        assert re.fullmatch(r"[a-z][a-z0-9_]*", s.id) and s.source.stem == s.id, s.source
        assert not re.fullmatch(r"S\d\d[a-z]?", s.id, re.I), s.source


def test_every_scenario_has_exactly_one_doctor_verdict(scenarios):
    """A registered check, or [doctor] uncovered saying why none covers it: never both, never
    neither."""
    checked = set(registered_codes())
    for s in scenarios.values():
        assert s.doctor is not None, f"{s.source.name}: no [doctor] table (a check, or uncovered)"
        if s.doctor.uncovered:
            assert s.code not in checked, f"{s.source.name}: uncovered, yet a check registers it"
        else:
            assert s.code in checked, f"{s.source.name}: [doctor] names {s.doctor.id}, but no " \
                                      "check function registers it"
    every = registry.checks()  # raises RegistryError where the two disagree
    assert [c.code for c in every] == [s.code for s in scenarios.values()]
    assert len({c.id for c in every}) == len(every)


def test_checks_and_detectors_name_scenarios_that_exist(scenarios):
    codes = {s.code for s in scenarios.values()}
    doctor = registered_codes()
    assert len(doctor) == len(set(doctor)), "a scenario checked by two functions"
    assert set(doctor) <= codes, sorted(set(doctor) - codes)
    detected = [code for d in detectors.REGISTRY for _, code in d.roles]
    assert set(detected) <= codes, sorted(set(detected) - codes)


def test_each_detector_says_what_its_scenario_metadata_says(scenarios):
    """Each detector's scenario has the detector's table ([guard] or [plugin]) and asks only
    for the values the detector gives; no such table is left without a detector."""
    by_code = {s.code: s for s in scenarios.values()}
    covered = set()
    for d in detectors.REGISTRY:
        for _, code in d.roles:
            s = by_code[code]
            alert = getattr(s, d.tool)
            assert alert is not None, f"{s.source.name}: no [{d.tool}] for detector {d.name}"
            assert alert.fields <= set(d.values), (s.source.name, alert.fields, d.values)
            text = detectors.render(d.tool, code, {v: f"<{v}>" for v in d.values})
            assert text.startswith(f"{s.code} {s.id}: ") and "could not read" not in text, text
            assert text.endswith(f"See `pitfall-lab show {s.id}`."), text
            covered.add((d.tool, code))
    for s in scenarios.values():
        for tool in detectors.TOOLS:
            if getattr(s, tool) is not None:
                assert (tool, s.code) in covered, f"{s.source.name}: [{tool}] but no detector"


def test_the_probes_run_are_those_the_selected_checks_need():
    by_code = {c.code: c for c in registry.checks()}
    ids = {code: {by_code[code].id} for code in by_code}
    assert registry.probes_for(None) >= {"load", "imports", "scripts"}
    assert "imports" in registry.probes_for(ids["S02"])
    assert registry.probes_for(ids["S09"]) & {"imports", "scripts"} == set()
    assert "scripts" in registry.probes_for(ids["S07"]) and "scripts" in registry.probes_for(
        ids["S03"])
    uncovered = [c.id for c in registry.checks() if not c.covered]
    assert uncovered and registry.probes_for(set(uncovered)) == set()


@pytest.mark.parametrize("kind", ["unknown", "uncovered", "twice"])
def test_a_check_registered_against_the_catalogue_is_one_line(monkeypatch, scenarios, kind):
    first = registry.registrations()[0]  # the modules' own registrations first
    if kind == "unknown":
        code, message = "S98", "registers S98, which no scenario in"
    elif kind == "uncovered":
        s = next(s for s in scenarios.values() if s.doctor and s.doctor.uncovered)
        code, message = s.code, f"registers {s.code}, but {s.source.name} says no check covers"
    else:
        code, message = first.roles[0][1], f"which {first.where} checks already"

    def extra(seen, check):
        return []
    monkeypatch.setattr(registry, "_registered", [*registry._registered, registry.Registration(
        extra, (("check", code),), frozenset({"load"}))])
    with pytest.raises(registry.RegistryError) as caught:
        registry.checks()
    assert len(str(caught.value).splitlines()) == 1 and message in str(caught.value)


def test_register_refuses_an_unknown_probe():
    with pytest.raises(registry.RegistryError, match="unknown probe 'network'"):
        registry.register(needs={"network"}, check="S01")


def pitfall_lab(*args):
    return procs.run(["pitfall-lab", *map(str, args)], cwd=scenario.ROOT, timeout=120)


def test_list_checks_lists_every_scenario(scenarios):
    result = pitfall_lab("doctor", "--list-checks")
    assert result.returncode == 0, result.stderr
    listed = re.findall(r"^(S\d\d[a-z]?)-\S+\s+(error|warning|info)\s", result.stdout, re.M)
    assert [code for code, _ in listed] == [s.code for s in scenarios.values()]
    for s in scenarios.values():
        if s.doctor and s.doctor.uncovered:
            assert f"could not check: {s.doctor.uncovered}" in result.stdout


@pytest.mark.skipif(observe.unsupported() is not None, reason=str(observe.unsupported()))
def test_select_takes_a_scenario_no_check_covers(scenarios):
    s = next(s for s in scenarios.values() if s.doctor and s.doctor.uncovered)
    result = pitfall_lab("doctor", SAMPLES / "clean", "--select", s.code, "--json")
    assert result.returncode == 0, result.stderr
    (only,) = json.loads(result.stdout)["results"]
    assert (only["code"], only["verdict"], only["level"], only["message"]) == (
        s.code, "could not check", "info", s.doctor.uncovered)


def test_sarif_has_a_rule_for_every_check_uncovered_ones_included(scenarios):
    log = output.sarif(Report(SAMPLES / "clean", "app", "a temporary SQLite file", []))
    import jsonschema  # here, not at collection: every pytest process collects this module

    jsonschema.validate(log, json.loads(SCHEMA.read_text()))
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"].split("-", 1)[0] for r in rules] == [s.code for s in scenarios.values()]
    uncovered = [r for r in rules if r["id"].endswith(f"-{scenario.UNCOVERED_NAME}")]
    assert uncovered and all(r["defaultConfiguration"]["level"] == "note" for r in uncovered)


def names_of_scenarios(scenarios) -> re.Pattern:
    ids = "|".join(sorted(map(re.escape, scenarios), key=len, reverse=True))
    return re.compile(rf"\bS\d\d[a-z]?\b|\b(?:{ids})\b")


def test_only_the_registration_lines_name_a_scenario(scenarios):
    pattern = names_of_scenarios(scenarios)
    naming = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "_lab" in path.relative_to(PACKAGE).parts:  # the catalogue a wheel ships
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line) and not (path in REGISTERING
                                             and line.lstrip().startswith("@register(")):
                naming.append(f"{path.relative_to(PACKAGE.parent)}:{n}: {line.strip()}")
    assert naming == []
    registering = [p for p in REGISTERING if any(pattern.search(line) for line in
                                                 p.read_text().splitlines())]
    assert {p.name for p in registering} >= {"detectors.py", "imports.py", "fork.py"}


def test_the_names_pattern_finds_an_id_and_a_code(scenarios):
    pattern = names_of_scenarios(scenarios)
    assert pattern.search('FIXES = {"S07b": ...}') and pattern.search("if sid == 'shared_base':")
    assert not pattern.search("SS07 S1 shared_bases S07bc")
