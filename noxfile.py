"""The version matrix: the whole lab on each pinned version set, then REPORT.md from the runs.

    nox                      # every set, then the report
    nox -s "lab(version_set='v2')"   # one set
    nox -s report            # REPORT.md from the records in reports/

Each set installs the lab with constraints/<set>.txt into a fresh virtualenv and runs the suite
with two workers, writing reports/<set>.json (the run record) and reports/<set>.xml (JUnit).
"""
import nox

nox.options.sessions = ["lab", "report"]
nox.options.error_on_missing_interpreters = True
VERSION_SETS = ["v1", "v2", "v3", "v3b"]


@nox.session
@nox.parametrize("version_set", VERSION_SETS)
def lab(session, version_set):
    session.install("-e", ".[test,servers]", "-c", f"constraints/{version_set}.txt")
    session.run("python", "-m", "pytest", "-n", "2", f"--lab-json=reports/{version_set}.json",
                f"--junitxml=reports/{version_set}.xml", *session.posargs,
                env={"LAB_VERSION_SET": version_set}, success_codes=[0, 1])


@nox.session
def report(session):
    session.install("-e", ".")
    session.run("pitfall-lab", "report", *(f"reports/{s}.json" for s in VERSION_SETS),
                "-o", "REPORT.md")
