"""What the doctor reads plainly in the source (issue 27, item 6): interpreter options in the
lines that run the project's code (Procfile, crontab, Dockerfile)."""
from pathlib import Path

import pytest

from pitfall_lab.doctor import discover
from pitfall_lab.doctor import project as proj


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.mark.parametrize("line, command", [
    ("worker: python -u manage.py run_worker", ("script", "manage.py")),
    ("jobs: python3 -W ignore -m app.jobs", ("module", "app.jobs")),
    ("jobs: python -Wignore::DeprecationWarning -m app.jobs", ("module", "app.jobs")),
    ("0 3 * * * cd /srv && venv/bin/python3.11 -OO -X dev -B scripts/nightly.py",
     ("script", "scripts/nightly.py")),
    ("worker: python -u -m rq.cli worker", ("module", "rq.cli")),
    ("clock: python -c 'import app; app.tick()'", None),
], ids=["u-script", "W-module", "W-attached", "OO-X-B", "u-m", "c"])
def test_a_procfile_or_crontab_line_with_interpreter_options_is_a_command(tmp_path, line,
                                                                          command):
    name = "crontab" if line[0].isdigit() else "Procfile"
    project = proj.read(write(tmp_path, {name: line + "\n", "app.py": ""}))
    assert [(c.kind, c.target) for c in project.commands] == ([command] if command else [])
    if command:
        assert project.commands[0].source == f"{name}:1"


@pytest.mark.parametrize("line, target", [
    ("python -u run.py", "run.py"),
    ("python3 -W ignore run.py", "run.py"),
    ("python -X dev -u -m gunicorn -b :80 wsgi:app", "wsgi:app"),
    ("python -Wd -m flask --app blog run", "blog"),
    ("python3 -W ignore -m app.jobs", None),
], ids=["u", "W", "X-u-m-gunicorn", "Wd-m-flask", "W-m-jobs"])
def test_a_served_line_with_interpreter_options_names_its_app(line, target):
    assert discover.from_command(line) == target
    assert [t for _, t in discover.from_dockerfile(f"CMD {line}\n")] == (
        [target] if target else [])
