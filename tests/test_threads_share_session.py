"""S08: two threads use one Session; the interleaving is forced, the run is in a child process
(an unsynchronised race can crash the interpreter: that must fail one test, not the run)."""
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs

S = scenario.load("threads_share_session")
PROBE = Path(__file__).parent / "probes" / "two_threads.py"
INTERLEAVINGS = ["checkout", "flush"]


def two_requests(variant, tmp_path, interleaving) -> str:
    app_dir = variant.copy_to(tmp_path)
    result = procs.python(str(PROBE), interleaving, cwd=app_dir, timeout=60,
                          env={"DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}"})
    assert result.returncode == 0, f"probe exited {result.returncode}:\n{result.stderr}"
    seen = json.loads(result.stdout)
    return f"A: {seen['A']}\nB: {seen['B']}\nstored: {seen['users']}"


@pytest.mark.parametrize("interleaving", INTERLEAVINGS)
@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_shared_session_breaks_under_concurrent_requests(variant, interleaving, tmp_path,
                                                         observe):
    assert observe(two_requests(variant, tmp_path, interleaving)) == S.symptom(interleaving)


@pytest.mark.parametrize("interleaving, expected", [
    pytest.param("checkout", "A: 200 {'name': 'ada'}\nB: 200 {'name': 'grace'}\n"
                 "stored: ['ada', 'grace']", id="checkout"),
    pytest.param("flush", "A: 201 {'id': 4}\nB: 201 {'id': 3}\n"
                 "stored: ['ada', 'grace', 'guido', 'linus']", id="flush"),
])
@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_a_session_per_request_serves_both(variant, interleaving, expected, tmp_path, observe):
    assert observe(two_requests(variant, tmp_path, interleaving)) == expected


# Exploration: which event each thread stops at, what each asks, and which is released first,
# fed to ONE long-lived probe process per test (`two_threads.py --serve`), example after example.
GET_ADA, GET_GRACE = ["get", "/users/1", None], ["get", "/users/2", None]
POST_LINUS, POST_GUIDO = ["post", "/users", {"name": "linus"}], ["post", "/users", {"name": "guido"}]
ALONE = {"/users/1": "200 {'name': 'ada'}", "/users/2": "200 {'name': 'grace'}"}


class Interleavings:
    def __init__(self, variant, tmp_path, dev_server):
        self.probe = dev_server(["python", str(PROBE), "--serve"], cwd=variant.copy_to(tmp_path),
                                env={"DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}"},
                                stdin=True)
        self.stored = ["ada", "grace"]
        self.examples = 0

    def run(self, spec) -> dict:
        self.examples += 1
        self.probe.send(json.dumps(spec))
        line = self.probe.wait_for_log(r'^\{"A": ', count=self.examples, timeout=60)[-1]
        return json.loads(line)


def as_if_alone(probe):
    """The fix's promise as a property: whatever the interleaving, each request answers as it
    would alone, and the database holds exactly the users that were posted."""
    from hypothesis import example, given
    from hypothesis import strategies as st

    requests = st.sampled_from([GET_ADA, GET_GRACE, POST_LINUS, POST_GUIDO])
    stops = st.sampled_from([None, "checkout", "before_flush"])

    @given(a=requests, b=requests, stop_a=stops, stop_b=stops, first=st.sampled_from("AB"))
    @example(a=GET_ADA, b=GET_GRACE, stop_a="checkout", stop_b=None, first="B")  # today's
    @example(a=POST_LINUS, b=POST_GUIDO, stop_a="before_flush", stop_b=None, first="B")
    def each_request_answers_as_if_alone(a, b, stop_a, stop_b, first):
        seen = probe.run({"A": a, "B": b, "stops": {"A": stop_a, "B": stop_b}, "first": first})
        wrong = [f"{name}: {seen[name]}" for name, (method, url, _) in (("A", a), ("B", b))
                 if not (seen[name] == ALONE.get(url) if method == "get"
                         else re.fullmatch(r"201 \{'id': \d+\}", seen[name]))]
        posted = [body["name"] for method, _, body in (a, b) if method == "post"]
        probe.stored += posted
        assert not wrong, "\n".join(wrong)
        assert Counter(seen["users"]) == Counter(probe.stored), seen["users"]
    return each_request_answers_as_if_alone


@pytest.mark.parametrize("variant", S.repros, ids=str)
def test_explored_interleavings_break_the_shared_session(variant, tmp_path, dev_server,
                                                          hypothesis, exploring, observe):
    with pytest.raises(AssertionError) as failure:
        as_if_alone(Interleavings(variant, tmp_path, dev_server))()
    first = observe(str(failure.value).splitlines()[0])
    if exploring:  # generated interleavings only
        assert re.match(r"[AB]: sqlalchemy\.(exc|orm\.exc)\.\w+: ", first), first
    else:  # today's cases first
        assert first == S.symptom("first failure explored")


@pytest.mark.parametrize("variant", S.fixes, ids=str)
def test_every_explored_interleaving_answers_as_if_alone(variant, tmp_path, dev_server,
                                                         hypothesis, observe):
    probe = Interleavings(variant, tmp_path, dev_server)
    as_if_alone(probe)()
    observe(f"{probe.examples} interleavings, one process: each request answered as if alone")
