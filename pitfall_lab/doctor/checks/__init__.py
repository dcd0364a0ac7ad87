"""The doctor's checks, one module per area; each module registers its check functions with
:func:`pitfall_lab.doctor.registry.register`, naming the scenario codes they give a verdict on
and the probes they need. Their titles, levels and hints are the scenarios' metadata.

- ``imports``: what runs while the app loads, and each module imported on its own;
- ``scripts``: the scripts that cron or a Procfile runs, run as they run them;
- ``fork``: connections open when a process forks;
- ``models``: SQLAlchemy instances and their declarative bases;
- ``jobs``: rq, its workers and its jobs;
- ``celeryjobs``: Celery, its tasks, their arguments and its prefork pool;
- ``engine``: the options of the app's engines, and the URL they ask for given a host's
  DATABASE_URL;
- ``config``: Flask-SQLAlchemy settings given to an app after the extension read them, and
  extension objects no app initialises;
- ``sessions``: a session used again after a failed flush, before its rollback;
- ``sqlitepaths``: relative SQLite paths and the folder they resolve in;
- ``schema``: whether the migrations (or create_all) make what the models map;
- ``deletes``: what deleting a parent row does to its children;
- ``threads``: the app's long-lived threads and the pooled connections they keep;
- ``params``: values of the wrong Python type for the models' typed columns;
- ``detached``: model instances read after the app context that loaded them ended.

A new area is a new module here, imported below.
"""
from __future__ import annotations

from pitfall_lab.doctor.checks import engine, fork, imports, jobs, models, scripts  # noqa: F401
from pitfall_lab.doctor.checks import celeryjobs, config, sessions, sqlitepaths  # noqa: F401
from pitfall_lab.doctor.checks import deletes, detached, params, schema, threads  # noqa: F401
from pitfall_lab.doctor.checks import upgrade  # noqa: F401


def __getattr__(name: str):
    # CHECKS: the checks that cover a scenario, as tools/doctor_recall.py reads them.
    if name == "CHECKS":
        from pitfall_lab.doctor import registry
        return [c for c in registry.checks() if c.covered]
    raise AttributeError(name)
