"""Run a variant's ``crontab`` line the way cron would, with its /srv/<project> folder being
the variant's private copy."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

from pitfall_lab.harness import procs


def command(app_dir: Path) -> str:
    """The command of the first entry in ``app_dir/crontab``, pointed at ``app_dir``."""
    line = next(line for line in (app_dir / "crontab").read_text().splitlines()
                if line.strip() and not line.lstrip().startswith("#"))
    return re.sub(r"/srv/[\w.-]+", shlex.quote(str(app_dir)), line.split(None, 5)[5])


def run(app_dir: Path, env: dict[str, str] | None = None, timeout: float = 60) -> procs.Result:
    return procs.run(["sh", "-c", command(app_dir)], cwd=app_dir, env=env, timeout=timeout)
