"""The doctor on big projects: the imports probe is a fork server (the project's libraries
imported once, each module then imported in a fork of its own with none of the project's
modules imported, two at a time) with a time budget that grows with the module count; out of
time, that one check says how far it got, and nothing else changes."""
import json

import pytest

from pitfall_lab import doctor
from pitfall_lab.doctor import project as proj
from pitfall_lab.guard import observe
from pitfall_lab.harness import procs

pytestmark = pytest.mark.skipif(observe.unsupported() is not None,
                                reason=str(observe.unsupported()))

# A module that lists the project's other modules already imported when it is imported (before
# it imports any): each fork must start with none.
FRESH = '''import sys

import rq  # noqa: F401  a library: the fork server imports it once

BEFORE = sorted(m for m in sys.modules if m.split(".")[0] in {others})
if BEFORE:
    raise ImportError(f"imported before {name}: {{BEFORE}}")
'''


def write(root, files):
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def imports_result(report):
    (result,) = [r for r in report.results if r.check.code == "S02"]
    return result


def test_each_fork_starts_with_none_of_the_projects_modules(tmp_path):
    write(tmp_path, {
        "first.py": FRESH.format(name="first", others=("later", "shop")),
        "later.py": FRESH.format(name="later", others=("first", "shop")),
        "shop/__init__.py": FRESH.format(name="shop", others=("first", "later"))})
    report = doctor.examine(tmp_path)
    result = imports_result(report)
    assert (result.verdict, result.message) == ("not found", "3 module(s) import on their own")


def test_the_libraries_the_modules_import_at_module_level_are_preloaded(tmp_path):
    write(tmp_path, {"shop/__init__.py": "from flask import Flask, json\nimport rq.job\n"
                                         "from . import models\nfrom shop.models import x\n",
                     "shop/models.py": "try:\n    import ujson\nexcept ImportError:\n"
                                       "    ujson = None\nx = 1\n\n\ndef f():\n"
                                       "    import celery\n",
                     "manage.py": "import shop\n"})
    project = proj.read(tmp_path)
    assert proj.third_party_imports(project) == [
        "flask", "flask.Flask", "flask.json", "rq.job", "ujson"]


def test_out_of_time_the_imports_check_says_how_far_it_got(tmp_path, monkeypatch):
    """Two modules that never finish importing: the budget (here 1 s) runs out, S02 says so,
    the other checks run, and nothing is found."""
    write(tmp_path, {"stuck_a.py": "import threading\n\nthreading.Event().wait()\n",
                     "stuck_b.py": "import threading\n\nthreading.Event().wait()\n"})
    assert doctor.import_budget(150) == (180.0, "the import probe's time budget: 30 s + 1 s a "
                                                "module")
    monkeypatch.setattr(doctor, "IMPORT_BUDGET", (1.0, 0.0))
    report = doctor.examine(tmp_path)
    result = imports_result(report)
    assert (result.verdict, result.message) == (
        "could not check", "0 of 2 modules in 1 s (the import probe's time budget: 1 s + 0 s "
                           "a module)")
    assert not report.found


def test_the_benchmarks_150_slow_modules_are_all_imported(tmp_path):
    """bench/doctor.py's big project (each module imports rq and alembic and builds a table at
    import): every module is imported on its own, within the budget, and nothing is found."""
    import importlib.util

    from pitfall_lab.catalogue import scenario

    spec = importlib.util.spec_from_file_location("bench_doctor",
                                                  scenario.ROOT / "bench" / "doctor.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.make_large_project(tmp_path) == 150
    report = doctor.examine(tmp_path)
    assert (imports_result(report).verdict, imports_result(report).message) == (
        "not found", "150 module(s) import on their own")
    assert not report.found


FALLBACK = '''import json, sys, time
from pitfall_lab.doctor import probe
probe._pidfds = lambda: False
probe.CROSSED = sys.argv[1] + ".crossed"
sys.path.insert(0, ".")
probe.STARTED = time.monotonic()
probe.imports(["ok", "bad", "stuck"], 2.0)
print(json.dumps([probe.report["imports"], probe.report["imports_budget"]]))
'''


def test_without_pidfds_the_deadline_still_holds(tmp_path):
    """Where the kernel gives no pidfd, the fork server waits for its forks with an alarm at
    the deadline: the same results, the module that never ends killed."""
    write(tmp_path, {"ok.py": "x = 1\n", "bad.py": "import ok\n\nraise RuntimeError('boom')\n",
                     "stuck.py": "import threading\n\nthreading.Event().wait()\n"})
    result = procs.python("-c", FALLBACK, str(tmp_path / "out.json"), cwd=tmp_path, timeout=60)
    imports, budget = json.loads(result.stdout)
    assert (imports["ok"], imports["bad"]["line"], imports["bad"]["at"]) == (
        None, "RuntimeError: boom", ["bad.py", 3])
    assert budget == {"done": 2, "of": 3, "seconds": 2.0}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.py", "ok.py", "stuck.py"]


def test_a_project_with_no_importable_module_is_not_called_clean(tmp_path):
    """Folders without __init__.py (uWSGI's --wsgi-file=web/run.py): nothing to import on its
    own, which is 'could not check', not 'not found' after 0 modules."""
    write(tmp_path, {"web/run.py": "from flask import Flask\napp = Flask(__name__)\n"})
    (result,) = [r for r in doctor.examine(tmp_path, app="web/run.py").results
                 if r.check.code == "S02"]
    assert (result.verdict, result.message) == (
        "could not check", "no module of the project can be imported on its own (its folders "
        "have no __init__.py, or it is scripts only)")
