"""From the error a user sees to the scenario that causes it, in four steps:

- ``parse``: the pasted text as evidence (exceptions and their chains, frames, log lines,
  test results), and whether it shows an error at all;
- ``signatures``: the catalogue's errors (measured per version set, or reported by others),
  from the scenario metadata; only errors, never a silent outcome;
- ``score``: which scenarios the errors point to, what counted (message, type, SQLAlchemy
  code, context), and which stay undecided for want of their context;
- ``render``: the answer as text or as JSON (its schema is in ``render``).

Imports neither Flask nor SQLAlchemy: it answers in a fraction of a second. May import the
catalogue, nothing else of the lab.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from pitfall_lab.catalogue import scenario
from pitfall_lab.explain import parse, render, score, signatures

FORMAT = render.FORMAT

# For an error several scenarios end in: the plain cause, which is no pitfall and which most
# people who meet the error have, to rule out before the lab's.
FIRST_CHECK = {
    "no such table": "the tables were never created in the database this code opens: "
                     "db.create_all() or the migrations not run against that same URL, or a "
                     "config that points this process at another file (print engine.url)",
}


@dataclass
class Answer:
    kind: str  # "match", "undecided", "no-known-pitfall", "not-an-error"
    evidence: parse.Evidence
    context: dict[str, str]
    matches: list[score.Candidate]
    undecided: list[score.Candidate]
    ruled_out: list[score.Candidate]
    first_check: str
    input_lines: int
    scenarios: dict[str, scenario.Scenario]

    @property
    def named(self) -> score.Candidate | None:
        """The scenario named first, or None."""
        return self.matches[0] if self.matches else None

    @property
    def last_error(self) -> parse.ExceptionInfo | None:
        if self.evidence.exceptions:
            return self.evidence.exceptions[-1]
        errors = self.evidence.errors
        if errors:
            line = errors[-1]
            return parse.ExceptionInfo(
                type="error line", message=line.log.message if line.log else line.text.strip())
        return None

    def confirm(self, s: scenario.Scenario) -> str:
        return confirm(s)


@functools.lru_cache(maxsize=1)
def _catalogue() -> tuple[dict[str, scenario.Scenario], list[signatures.Pattern]]:
    """The installed catalogue and its patterns, derived once per process (the plugin asks
    for every failing test)."""
    scenarios = scenario.load_all()
    return scenarios, signatures.patterns(scenarios)


def explain(text: str, scenarios: dict[str, scenario.Scenario] | None = None,
            top: int = 3) -> Answer:
    """The answer for ``text``: the scenarios named (at most ``top`` ranks; ties share a rank),
    or why none is."""
    if scenarios is None:
        scenarios, patterns = _catalogue()
    else:
        patterns = signatures.patterns(scenarios)
    evidence = parse.parse(text)
    cues = score.context(evidence, text)
    found = score.candidates(evidence, text, patterns, scenarios) if evidence.errors else []
    decided = [c for c in found if c.decided and not c.ruled_out]
    undecided = [c for c in found if not c.decided and not c.ruled_out]
    ruled_out = [c for c in found if c.ruled_out]
    named, ranks = [], 0
    for i, c in enumerate(decided):
        if i == 0 or c.rank_key != decided[i - 1].rank_key:
            ranks += 1
        if ranks > top:
            break
        named.append(c)
    said = " ".join(e.message for e in score.errors(evidence))
    families = {c.scenario.family for c in undecided if c.scenario.family} | {
        s.family for s in scenarios.values() if s.family and s.family in said}
    if not named and families:  # the whole family is the differential, not only the matched
        listed = {c.scenario.id for c in undecided}
        for name in sorted(families):
            for s in scenario.family(scenarios, name):
                if s.id not in listed:
                    undecided.append(score.Candidate(s, [], {}, False, tuple(s.cues)))
                    listed.add(s.id)
    first = "; ".join(FIRST_CHECK[f] for f in sorted(families) if f in FIRST_CHECK)
    kind = ("not-an-error" if not evidence.errors else "match" if named
            else "undecided" if undecided else "no-known-pitfall")
    return Answer(kind, evidence, cues, named, undecided, ruled_out,
                  first if not named else "", len(text.splitlines()), scenarios)


def as_json(answer: Answer) -> dict:
    return render.as_json(answer)


def as_text(answer: Answer) -> str:
    return render.as_text(answer)


def hint(text: str) -> str | None:
    """One line for a failing test's report (the pytest plugin), or None when no scenario is
    named."""
    answer = explain(text, top=1)
    if answer.kind != "match":
        return None
    return "\n".join(f"looks like {c.scenario.code} {c.scenario.id}: {c.scenario.cause} "
                     f"See `pitfall-lab show {c.scenario.id}`." for c in answer.matches)


def confirm(s: scenario.Scenario) -> str:
    """How to confirm the pitfall in the user's own code, from its metadata: [explain] confirm
    where it says, else the doctor check that covers it ([doctor])."""
    if s.confirm:
        return s.confirm
    if s.doctor and not s.doctor.uncovered:
        return f"pitfall-lab doctor PROJECT (check {s.doctor.id})"
    return "no doctor check covers it yet: the check line above says what to look for"
