"""The version matrix: the whole lab on each pinned version set, then REPORT.md from the runs.

    nox                      # every set, then the report
    nox -s "lab(version_set='v2')"   # one set
    nox -s report            # REPORT.md from the records in reports/
    nox -s lock              # every constraints/<set>.txt from pyproject.toml and <set>.in
    nox -s lock -- --upgrade # the same, on the newest releases (--upgrade-package NAME: one)
    nox -s latest            # the lab on the newest releases, and what moved since the v3 lock
    nox -s known_bad         # each known-bad pair's set, with the scenario that declares it

Each set installs the lab with constraints/<set>.txt into a fresh virtualenv and runs the suite
with two workers, writing reports/<set>.json (the run record) and reports/<set>.xml (JUnit).
constraints/<set>.txt is a lock: every package the lab installs on that set, pinned, made by uv
from pyproject.toml's extras test and servers and the hand-written library pins in
constraints/<set>.in. `nox -s lock` keeps each pin that still fits them; `nox -s latest` shows
what the newest releases would change.
"""
from pathlib import Path

import nox

nox.options.sessions = ["lab", "report"]
nox.options.error_on_missing_interpreters = True
VERSION_SETS = ["v1", "v2", "v3", "v3b"]
# Known-bad pairs (README, Known-bad version pairs): locked like the sets above, but the whole lab
# is not run on them; known_bad runs the tests of the scenario whose metadata declares the pair.
KNOWN_BAD = {"v1b": ["tests/test_upgrade_api_change.py", "tests/test_doctor_upgrade.py"]}
# Each lock is universal: for every platform and every Python from requires-python's 3.10 on, but
# v3b's SQLAlchemy 2.1 needs Python 3.11. The note goes below uv's header, which names the command.
LOCK_PYTHON = {"v1": "3.10", "v1b": "3.10", "v2": "3.10", "v3": "3.10", "v3b": "3.11"}
LOCK_NOTE = {"v3b": "# For Python 3.11 and newer only: SQLAlchemy 2.1 needs Python 3.11.\n"}
# Celery 5.1.2 (v1's and v1b's) declares 'pytz (>dev)', metadata that pip 24.1 and later refuse.
OLD_PIP = {"v1": "pip<24.1", "v1b": "pip<24.1"}


def install_lab(session, version_set):
    if version_set in OLD_PIP:
        session.install(OLD_PIP[version_set])
    session.install("-e", ".[test,servers]", "-c", f"constraints/{version_set}.txt")


@nox.session
@nox.parametrize("version_set", VERSION_SETS)
def lab(session, version_set):
    install_lab(session, version_set)
    session.run("python", "-m", "pytest", "-n", "2", f"--lab-json=reports/{version_set}.json",
                f"--junitxml=reports/{version_set}.xml", *session.posargs,
                env={"LAB_VERSION_SET": version_set}, success_codes=[0, 1])


@nox.session
def report(session):
    session.install("-e", ".")
    session.run("pitfall-lab", "report", *(f"reports/{s}.json" for s in VERSION_SETS),
                "-o", "REPORT.md")


@nox.session
def lock(session):
    """Every set's lock from PyPI; posargs go to uv (--upgrade, --upgrade-package NAME)."""
    session.install("uv")
    for version_set in [*VERSION_SETS, *KNOWN_BAD]:
        out = Path("constraints", f"{version_set}.txt")
        session.run("uv", "pip", "compile", "pyproject.toml", f"constraints/{version_set}.in",
                    "--extra", "test", "--extra", "servers", "--universal",
                    "--python-version", LOCK_PYTHON[version_set], "-o", str(out),
                    "--quiet", *session.posargs)
        if version_set in LOCK_NOTE:
            lines = out.read_text().splitlines(keepends=True)
            out.write_text("".join([*lines[:2], LOCK_NOTE[version_set], *lines[2:]]))


@nox.session
@nox.parametrize("version_set", list(KNOWN_BAD))
def known_bad(session, version_set):
    """A known-bad pair's set: its scenario's tests assert the failure its metadata declares."""
    install_lab(session, version_set)
    session.run("python", "-m", "pytest", "-n", "2", *KNOWN_BAD[version_set], *session.posargs,
                env={"LAB_VERSION_SET": version_set})


@nox.session
def latest(session):
    """The lab on the newest release of everything (no lock), and what moved since the v3 lock
    and the v3 run (reports/v3.json, when there is one)."""
    session.install("-e", ".[test,servers]")
    session.run("python", "-m", "pytest", "-n", "2", "--lab-json=reports/latest.json",
                "--junitxml=reports/latest.xml", *session.posargs,
                env={"LAB_VERSION_SET": "latest"}, success_codes=[0, 1])
    with open("reports/latest.freeze.txt", "w") as freeze:
        session.run("python", "-m", "pip", "freeze", "--all", "--exclude", "pip",
                    "--exclude-editable", stdout=freeze, stderr=None)
    session.run("python", "tools/what_moved.py")  # its defaults: the files above, v3's lock and run
