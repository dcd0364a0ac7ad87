"""The one function that finds the catalogue: the folder holding scenarios/, repros/, fixes/ and
the tests that run them.

- ``PITFALL_LAB_ROOT``, when set (a copy of the catalogue, or a checkout beside an installed lab);
- an installed lab: the copy inside the package (``pitfall_lab/_lab``, placed there by the
  wheel's build; see pyproject.toml), found through importlib.resources;
- an editable install or a checkout on ``sys.path``: the checkout the package lives in.
"""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

ENV = "PITFALL_LAB_ROOT"


def root() -> Path:
    given = os.environ.get(ENV)
    if given:
        return Path(given).resolve()
    shipped = resources.files("pitfall_lab").joinpath("_lab")
    if isinstance(shipped, Path) and shipped.is_dir():
        return shipped
    return Path(__file__).resolve().parents[2]


def problem(where: Path | None = None) -> str | None:
    """Why ``where`` (default: :func:`root`) holds no catalogue, in one line, or None."""
    where = where or root()
    if (where / "scenarios").is_dir():
        return None
    how = f"{ENV}={os.environ[ENV]}" if os.environ.get(ENV) else f"the lab's catalogue at {where}"
    return (f"{how}: no scenarios/ folder there; set {ENV} to a checkout of the lab, or "
            "reinstall it: pip install flask-sqlalchemy-pitfall-lab")
