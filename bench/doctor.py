"""Benchmark `pitfall-lab doctor` on generated projects, as a user runs it (a fresh process,
start-up included): one of about 20 modules (the goal: at most 10 s of wall time on 2 cores),
and one of 150 modules that are slow to import (each imports rq and alembic, as real modules
import their libraries, and builds a table at import), where the import probe must scale.

    python bench/doctor.py                   # 5 runs of each
    python bench/doctor.py --runs 3 --size 150
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

INIT = '''import os

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite:///shop.db")
    db.init_app(app)
    from shop.views import register
    register(app)
    return app
'''
MODEL = '''from shop import db


class {name}(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    label = db.Column(db.String(80), nullable=False)
'''
VIEW = '''from flask import Blueprint

from shop import db
from shop.models.{module} import {name}

bp = Blueprint("{module}", __name__, url_prefix="/{module}")


@bp.get("/")
def index():
    return {{"items": [x.label for x in db.session.scalars(db.select({name}))]}}
'''
SCRIPT = '''"""Count the {module} rows; cron runs it."""
from shop import create_app, db
from shop.models.{module} import {name}

if __name__ == "__main__":
    with create_app().app_context():
        print(db.session.scalar(db.select(db.func.count({name}.id))))
'''
SECTION = '''"""Catalogue section {n}: its table is built at import."""
import rq  # noqa: F401  libraries a real module imports: slow the first time
from alembic import op  # noqa: F401

from shop import db  # noqa: F401

TABLE = [n for n in range(2, 15000) if all(n % p for p in range(2, int(n ** 0.5) + 1))]


def price(i):
    return TABLE[({n} + i) % len(TABLE)]
'''
NAMES = ["Product", "Order", "Customer", "Invoice", "Shipment", "Coupon"]


def make_project(root: Path) -> int:
    """shop/ with a factory, 6 models, 6 views, a services module; 3 cron scripts; wsgi.py."""
    (root / "shop" / "models").mkdir(parents=True)
    (root / "shop" / "views").mkdir()
    (root / "shop" / "tasks").mkdir()
    (root / "shop" / "__init__.py").write_text(INIT)
    (root / "shop" / "models" / "__init__.py").write_text("")
    (root / "shop" / "tasks" / "__init__.py").write_text("")
    modules = [n.lower() for n in NAMES]
    (root / "shop" / "views" / "__init__.py").write_text(
        "def register(app):\n" + "".join(
            f"    from shop.views.{m} import bp as {m}\n    app.register_blueprint({m})\n"
            for m in modules))
    for name, module in zip(NAMES, modules):
        (root / "shop" / "models" / f"{module}.py").write_text(MODEL.format(name=name))
        (root / "shop" / "views" / f"{module}.py").write_text(VIEW.format(name=name, module=module))
    for name, module in list(zip(NAMES, modules))[:3]:
        (root / "shop" / "tasks" / f"count_{module}.py").write_text(
            SCRIPT.format(name=name, module=module))
    (root / "shop" / "services.py").write_text("def total(items):\n    return sum(items)\n")
    (root / "wsgi.py").write_text("from shop import create_app\n\napp = create_app()\n")
    (root / "crontab").write_text("".join(
        f"0 {h} * * * cd /srv/shop && python -m shop.tasks.count_{m}\n"
        for h, m in enumerate(modules[:3], 1)))
    return len(list(root.rglob("*.py")))


def make_large_project(root: Path, modules: int = 150) -> int:
    """The project above, with a shop/catalog/ package of slow modules up to ``modules``."""
    small = make_project(root)
    (root / "shop" / "catalog").mkdir()
    (root / "shop" / "catalog" / "__init__.py").write_text("")
    for n in range(modules - small - 1):
        (root / "shop" / "catalog" / f"section_{n:03}.py").write_text(SECTION.format(n=n))
    return len(list(root.rglob("*.py")))


def bench(make, runs: int, limit: float) -> tuple[str, bool]:
    """Run the doctor ``runs`` times on a project ``make`` writes: one line, and whether every
    run exited 0 (the generated projects have no finding)."""
    exe = Path(sys.executable).parent / "pitfall-lab"
    with tempfile.TemporaryDirectory() as tmp:
        modules = make(Path(tmp))
        walls, failed = [], []
        for _ in range(runs):
            started = time.perf_counter()
            run = subprocess.run([str(exe), "doctor", tmp], capture_output=True, text=True,
                                 timeout=limit)
            walls.append(time.perf_counter() - started)
            if run.returncode != 0:
                last = ((run.stderr or run.stdout).strip().splitlines() or [""])[-1]
                failed.append(f"exit {run.returncode}: {last[:200]}")
    line = (f"pitfall-lab doctor, a project of {modules} modules, {runs} runs: "
            f"min {min(walls):.2f}s, median {statistics.median(walls):.2f}s, "
            f"max {max(walls):.2f}s")
    if make is make_project:
        line += f"; under 10 s in {sum(w <= 10 for w in walls)}/{runs}"
    if failed:
        line += f"; FAILED in {len(failed)}/{runs} ({failed[0]})"
    return line, not failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", choices=("20", "150", "both"), default="both",
                        help="which generated project (default: both)")
    args = parser.parse_args()
    ok = True
    for size, make, limit in (("20", make_project, 120), ("150", make_large_project, 900)):
        if args.size in (size, "both"):
            line, passed = bench(make, args.runs, limit)
            print(line, flush=True)
            ok = ok and passed
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
