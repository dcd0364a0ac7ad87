"""The throwaway copy the doctor runs in: everything Python can import, whatever its folder's
name (migrations, build, env, instance ...), and only data, virtualenvs, version control
folders and caches left out, each known by what it is; the output lists what was left out."""
import json
from pathlib import Path

import pytest

from pitfall_lab import doctor
from pitfall_lab.catalogue import scenario
from pitfall_lab.doctor import output
from pitfall_lab.doctor import project as proj
from pitfall_lab.guard import observe
from pitfall_lab.harness import procs

pytestmark = pytest.mark.skipif(observe.unsupported() is not None,
                                reason=str(observe.unsupported()))

SAMPLE = Path(__file__).parent / "doctor_samples" / "ledger"
CACHEDIR_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# a cache\n"


@pytest.mark.parametrize("files, folder, why", [
    ({"shop/utils/migrations/__init__.py": ""}, "shop/utils/migrations", None),
    ({"migrations/env.py": "", "migrations/versions/1_a.py": ""}, "migrations", None),
    ({"build/__init__.py": ""}, "build", None),
    ({"env/__init__.py": "", "env/lib/helpers.py": ""}, "env", None),
    ({"instance/config.py": ""}, "instance", None),
    ({"dist/shop-1.0.tar.gz": ""}, "dist", None),
    ({".env": "SECRET_KEY=x\n"}, ".env", None),
    ({"notes/site-packages.txt": ""}, "notes", None),
    ({".venv/pyvenv.cfg": "home = /usr/bin\n"}, ".venv", "a virtualenv"),
    ({"env/pyvenv.cfg": "home = /usr/bin\n"}, "env", "a virtualenv"),
    ({"py/lib/python3.11/site-packages/x.py": ""}, "py", "a virtualenv"),
    ({"conda/conda-meta/history": ""}, "conda", "a virtualenv"),
    ({".git/HEAD": "ref: refs/heads/main\n"}, ".git", "version control"),
    ({".hg/requires": ""}, ".hg", "version control"),
    ({"shop/__pycache__/x.cpython-311.pyc": ""}, "shop/__pycache__", "a cache"),
    ({"node_modules/x/index.js": ""}, "node_modules", "a cache"),
    ({".pytest_cache/CACHEDIR.TAG": CACHEDIR_TAG}, ".pytest_cache", "a cache"),
    ({"shop.db": ""}, "shop.db", "data"),
    ({"instance/app.sqlite": ""}, "instance/app.sqlite", "data"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_what_is_left_out_is_known_by_what_it_is(tmp_path, files, folder, why):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert proj.leave_out(tmp_path / folder) == why


@pytest.fixture(scope="module")
def examined():
    return doctor.examine(SAMPLE)


def test_a_package_named_migrations_is_copied_and_the_app_loads(examined):
    assert examined.loaded, examined.load_error
    assert "ledger.utils.migrations" in proj.read(SAMPLE).modules
    (imports,) = [r for r in examined.results if r.check.code == "S02"]
    assert imports.message == "4 module(s) import on their own"


def test_the_output_lists_what_was_left_out(examined):
    assert examined.left_out == [("env", "a virtualenv"), ("instance/ledger.sqlite3", "data")]
    assert output.copy_line(examined) == (
        "left out of the copy: env (a virtualenv), instance/ledger.sqlite3 (data)")
    assert output.as_json(examined)["left_out"] == [
        {"path": "env", "why": "a virtualenv"}, {"path": "instance/ledger.sqlite3", "why": "data"}]


def test_the_table_says_it_in_one_line(tmp_path):
    result = procs.run(["pitfall-lab", "doctor", str(SAMPLE)], cwd=scenario.ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert [line for line in result.stdout.splitlines() if line.startswith("left out")] == [
        "left out of the copy: env (a virtualenv), instance/ledger.sqlite3 (data)"]
    data = json.loads(procs.run(["pitfall-lab", "doctor", str(SAMPLE), "--json"],
                                cwd=scenario.ROOT, timeout=120).stdout)
    assert data["loaded"] is True


def test_sockets_pipes_and_dangling_links_do_not_stop_the_copy(tmp_path):
    """What no copy can hold is left out and said; a dangling link is nothing to copy."""
    import os
    import socket

    (tmp_path / "app.py").write_text("from flask import Flask\n\napp = Flask(__name__)\n")
    os.mkfifo(tmp_path / "events.fifo")
    os.symlink(tmp_path / "nowhere.py", tmp_path / "gone.py")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp_path / "app.sock"))
    try:
        report = doctor.examine(tmp_path)
    finally:
        server.close()
    assert report.loaded, report.load_error
    assert report.left_out == [("app.sock", "not a regular file"),
                               ("events.fifo", "not a regular file")]
