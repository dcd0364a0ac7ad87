"""The doctor's checks as a registry, in the manner of Django's system checks: a check function
in ``pitfall_lab.doctor.checks.<area>`` declares, with :func:`register`, the scenario codes it
gives a verdict on and the probes it needs; what each check is called, how much it weighs
(:class:`Level`), its title and its hint are the scenario's own metadata (``[doctor]`` in
``scenarios/<id>.toml``). A scenario no function checks says why in ``[doctor] uncovered``: it is
an entry of the registry too, whose verdict is "could not check" with that reason, so that every
scenario has an id for --list-checks, --select, the ignores, the baselines and SARIF.

The registration lines of the check modules are the only places in the package that name a
scenario.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from pitfall_lab.catalogue import scenario
from pitfall_lab.catalogue.scenario import Level

__all__ = ["Level", "Check", "Result", "Seen", "register", "checks", "run", "probes_for"]

FOUND, NOT_FOUND, NOT_APPLICABLE, COULD_NOT = ("found", "not found", "not applicable",
                                               "could not check")
VERDICTS = (FOUND, NOT_FOUND, NOT_APPLICABLE, COULD_NOT)
# What a check can need the doctor to observe:
PROBES = {
    "source": "the project's files, read (always)",
    "load": "the app loaded once, as `flask` loads it (always tried: that is how the app is "
            "found; when it cannot load, the checks that need it say why, and the others run)",
    "imports": "each module of the project imported on its own, in a fresh interpreter",
    "scripts": "the scripts that cron, a Procfile or a __main__ guard runs, run as they run",
    "hosturl": "the app loaded once more with DATABASE_URL as a host hands it out "
               "(postgres://, on loopback; every engine is still redirected to the throwaway "
               "database) and its Flask-SQLAlchemy engines made",
    "migrations": "the project's Alembic migrations run (flask db upgrade) on a throwaway "
                  "database, then what they made compared with the loaded models",
}


class RegistryError(ValueError):
    """The check modules and the catalogue disagree; ``str()`` is one line saying where."""


@dataclass(frozen=True)
class Check:
    id: str  # <code>-<name>, from [doctor]
    code: str
    scenario: str  # the scenario's id: pitfall-lab show <scenario>
    level: Level
    title: str
    hint: str
    needs: frozenset[str] = frozenset()
    uncovered: str = ""  # why no check covers the scenario, and what would

    @property
    def covered(self) -> bool:
        return not self.uncovered


@dataclass
class Result:
    check: Check
    verdict: str
    message: str
    evidence: list[str] = field(default_factory=list)
    location: tuple[str, int] | None = None  # (path relative to the project, line)


@dataclass
class Seen:
    """What the probes observed, handed to every check function: the project (``source``),
    the app's load (``load``), each module's import (``imports``: module -> error or None),
    each script's run (``scripts``: name -> run), and the dialect of an engine's URL."""
    project: object
    load: dict
    imports: dict = field(default_factory=dict)
    scripts: dict = field(default_factory=dict)
    dialect_of: Callable[[str], str] = lambda url: url.split(":", 1)[0].split("+", 1)[0]
    # The imports probe ran out of its time budget: {"done": N, "of": M, "seconds": T, "why":
    # the budget's formula}; ``imports`` then holds the N modules it imported.
    imports_budget: dict | None = None
    # The hosturl probe's load (the engines each asked for a URL), when it ran.
    hosted: dict | None = None
    # The migrations probe's run ("migrations": missing tables and columns), when it ran.
    migrated: dict | None = None


@dataclass(frozen=True)
class Registration:
    function: Callable[..., list[Result]]
    roles: tuple[tuple[str, str], ...]  # (keyword the function takes the check by, code)
    needs: frozenset[str]

    @property
    def where(self) -> str:
        return f"{self.function.__module__}.{self.function.__qualname__}"


_registered: list[Registration] = []


def register(*, needs, **roles: str):
    """Register a check function: ``@register(needs={"load"}, startup="<code>")`` gives the
    function that scenario's check as its ``startup`` argument, after what the probes saw
    (:class:`Seen`); it returns a result per check it was given."""
    unknown = sorted(set(needs) - set(PROBES))
    if unknown:
        raise RegistryError(f"register: unknown probe {unknown[0]!r} (known: {', '.join(PROBES)})")
    if not roles:
        raise RegistryError("register: name the scenario code(s) the function checks")

    def decorate(function):
        _registered.append(Registration(function, tuple(roles.items()), frozenset(needs)))
        return function
    return decorate


def registrations() -> list[Registration]:
    from pitfall_lab.doctor import checks as _  # noqa: F401  (importing registers them)
    return list(_registered)


def _build() -> tuple[list[Check], list[tuple[Registration, dict[str, Check]]]]:
    scenarios = scenario.load_all()
    by_code = {s.code: s for s in scenarios.values()}
    owner: dict[str, Registration] = {}
    for reg in registrations():
        for _, code in reg.roles:
            s = by_code.get(code)
            if s is None:
                raise RegistryError(f"{reg.where} registers {code}, which no scenario in "
                                    f"{scenario.SCENARIO_DIR} has")
            if code in owner:
                raise RegistryError(f"{reg.where} registers {code}, which "
                                    f"{owner[code].where} checks already")
            if s.doctor is not None and s.doctor.uncovered:
                raise RegistryError(f"{reg.where} registers {code}, but {s.source.name} says "
                                    "no check covers it ([doctor] uncovered)")
            owner[code] = reg
    out, by_code_check = [], {}
    for s in scenarios.values():
        reg = owner.get(s.code)
        if s.doctor is None or s.doctor.uncovered:
            why = s.doctor.uncovered if s.doctor else \
                f"no check covers it, and {s.source.name} does not say why ([doctor] uncovered)"
            check = Check(f"{s.code}-{scenario.UNCOVERED_NAME}", s.code, s.id, Level.INFO,
                          s.title, f"pitfall-lab show {s.id}", uncovered=why)
        elif reg is None:
            raise RegistryError(f"{s.source.name}: [doctor] names the check {s.doctor.id}, but "
                                f"no function in pitfall_lab.doctor.checks registers {s.code}")
        else:
            check = Check(s.doctor.id, s.code, s.id, s.doctor.level, s.doctor.title,
                          f"{s.doctor.hint}; pitfall-lab show {s.id}", reg.needs)
        by_code_check[s.code] = check
        out.append(check)
    runs = [(reg, {role: by_code_check[code] for role, code in reg.roles})
            for reg in registrations()]
    return out, runs


def checks() -> list[Check]:
    """Every check, one per scenario, in catalogue order; the uncovered ones included."""
    return _build()[0]


def by_id() -> dict[str, Check]:
    return {c.id: c for c in checks()}


def probes_for(select: set[str] | None) -> set[str]:
    """The probes the selected checks (all, for None) need: the one place that decides which
    probes run."""
    return set().union(*(c.needs for c in checks() if select is None or c.id in select))


def run(seen: Seen, select: set[str] | None = None,
        missing: dict[str, str] | None = None) -> list[Result]:
    """The results of the selected checks (all, for None), in catalogue order. ``missing``:
    probe -> why it saw nothing (the app did not load); a check that needs one of those probes
    is "could not check" with that reason, and the others run."""
    every, runs = _build()
    chosen = {c.id for c in every if select is None or c.id in select}
    results: list[Result] = []
    for reg, roles in runs:
        if not chosen & {c.id for c in roles.values()}:
            continue
        lacking = sorted(reg.needs & set(missing or ()))
        if lacking:
            results += [Result(c, COULD_NOT, missing[lacking[0]]) for c in roles.values()
                        if c.id in chosen]
        else:
            results += [r for r in reg.function(seen, **roles) if r.check.id in chosen]
    results += [Result(c, COULD_NOT, c.uncovered) for c in every
                if not c.covered and c.id in chosen]
    order = {c.id: n for n, c in enumerate(every)}
    results.sort(key=lambda r: order[r.check.id])
    return results
