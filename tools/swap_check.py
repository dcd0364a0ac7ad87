"""Check that a scenario's tests check behaviour, not file names.

Copies the lab, puts the first repro's code in every fix folder and the first fix's code in every
repro folder, runs the scenario's tests there, and requires every one of them to fail.

    python tools/swap_check.py shared_base [more scenarios]   # exit 0 when every test failed
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from pitfall_lab import runrecord, scenario

ROOT = Path(__file__).resolve().parents[1]


def swapped_copy(s: scenario.Scenario, dest: Path) -> None:
    for name in ("scenarios", "repros", "fixes", "tests", "conftest.py", "pyproject.toml"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / name)
    repro, fix = s.repros[0].path, s.fixes[0].path
    for variants, source in ((s.fixes, repro), (s.repros, fix)):
        for v in variants:
            target = dest / v.path.relative_to(ROOT)
            shutil.rmtree(target)
            shutil.copytree(source, target)


def check(sid: str) -> bool:
    s = scenario.load(sid)
    with tempfile.TemporaryDirectory() as tmp:
        lab = Path(tmp) / "lab"
        lab.mkdir()
        swapped_copy(s, lab)
        record = runrecord.run_pytest(["-q", f"tests/test_{sid}.py"], root=lab, timeout=900)
        rows = [r for r in record["tests"] if r["when"] == "call"]
    survivors = [r["nodeid"] for r in rows if r["outcome"] != "failed"]
    print(f"{sid}: {len(rows) - len(survivors)}/{len(rows)} tests failed with repro and fix swapped")
    for nodeid in survivors:
        print(f"  still {nodeid}")
    return bool(rows) and not survivors


if __name__ == "__main__":
    ids = sys.argv[1:] or list(scenario.load_all())
    sys.exit(0 if all([check(sid) for sid in ids]) else 1)
