"""Benchmark `pitfall-lab doctor` on a generated project of about 20 modules, as a user runs it
(a fresh process, start-up included). The goal: at most 10 s of wall time on 2 cores.

    python bench/doctor.py            # 5 runs
    python bench/doctor.py --runs 10
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    exe = Path(sys.executable).parent / "pitfall-lab"
    with tempfile.TemporaryDirectory() as tmp:
        modules = make_project(Path(tmp))
        walls = []
        for _ in range(args.runs):
            started = time.perf_counter()
            run = subprocess.run([str(exe), "doctor", tmp], capture_output=True, text=True,
                                 timeout=120)
            walls.append(time.perf_counter() - started)
            if run.returncode != 0:
                sys.exit(f"bench: doctor exited {run.returncode} on the generated project: "
                         f"{(run.stderr or run.stdout).strip()[-300:]}")
    print(f"pitfall-lab doctor, a project of {modules} modules, {args.runs} runs: "
          f"min {min(walls):.2f}s, median {statistics.median(walls):.2f}s, max {max(walls):.2f}s; "
          f"under 10 s in {sum(w <= 10 for w in walls)}/{args.runs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
