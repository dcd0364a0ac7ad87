"""Check that a scenario's tests check behaviour, not file names.

Copies the lab, puts in every repro folder the code of the first fix that answers it, and in every
fix folder the code of the first repro it answers (a fix answers every repro unless its metadata
names the ones it does), runs the scenario's tests there, and requires every one of them to fail, except a
test that observed what the metadata declares not affected on the installed versions (or for
that test's server): there the repro's code and the fix's behave alike, as declared.

    python tools/swap_check.py shared_base [more scenarios]   # exit 0 when every test failed
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import runrecord

ROOT = Path(__file__).resolve().parents[1]


def swapped_copy(s: scenario.Scenario, dest: Path) -> None:
    for name in ("scenarios", "repros", "fixes", "tests", "conftest.py", "pyproject.toml"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / name)
    sources = {r: s.fix_for(r).path for r in s.repros}
    sources |= {f: next(r for r in s.repros if not f.answers or r.name in f.answers).path
                for f in s.fixes}
    for v, source in sources.items():
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
    passed = [r for r in rows if r["outcome"] != "failed"]
    alike = [r for r in passed if declared_alike(s, r)]
    survivors = [r for r in passed if r not in alike]
    print(f"{sid}: {len(rows) - len(passed)}/{len(rows)} tests failed with repro and fix swapped"
          + (f"; {len(alike)} passed as declared not affected here" if alike else ""))
    for row in alike:
        print(f"  not affected here, by the metadata: {row['nodeid']}")
    for row in survivors:
        print(f"  still {row['nodeid']}")
    return bool(rows) and not survivors


def declared_alike(s: scenario.Scenario, row: dict) -> bool:
    """The test observed a text that the metadata declares not affected for the code it ran
    (a repro test runs its fix's code, which behaves as declared for its own repro; a fix test
    runs its repro's code) with the test's other parameters."""
    params = dict(row.get("params") or {})
    v = s.variant(row["variant"])
    if v.kind == "fix":
        params["variant"] = str(next(r for r in s.repros if not v.answers or r.name in v.answers))
    return row["observed"] in s.unaffected_texts(**params)


if __name__ == "__main__":
    ids = sys.argv[1:] or list(scenario.load_all())
    sys.exit(0 if all([check(sid) for sid in ids]) else 1)
