"""The Flask-SQLAlchemy Pitfall Lab: documented failures as runnable evidence.

How the package is laid out, and what each part may import:

- ``catalogue``: the scenarios' metadata and where the catalogue lives; imports nothing else of
  the lab.
- ``harness``: what runs scenarios for real (processes, servers, rq workers, the run record,
  REPORT.md); imports the catalogue.
- ``doctor``, ``explain``, ``guard``: the user-facing tools, one package each; they import the
  catalogue, the harness where they run processes, and ``guard.observe`` (what the observers of
  a user's running code share), never each other's internals.
- ``cli`` (the ``pitfall-lab`` command) and ``pytest_plugin`` (the ``pytest11`` entry point):
  thin shells over the packages above.
"""
