"""``diff -ru repros/X fixes/X`` in Python: the lesson of a fix, as a unified diff."""
from __future__ import annotations

import difflib
from pathlib import Path

SKIP = {"__pycache__", "instance", ".pytest_cache"}


def _files(root: Path) -> dict[str, Path]:
    return {str(p.relative_to(root)): p for p in sorted(root.rglob("*"))
            if p.is_file() and not SKIP & set(p.relative_to(root).parts)}


def unified(old: Path, new: Path, old_label: str, new_label: str) -> str:
    before, after = _files(old), _files(new)
    out: list[str] = []
    for name in sorted(before.keys() | after.keys()):
        a = before[name].read_text().splitlines(keepends=True) if name in before else []
        b = after[name].read_text().splitlines(keepends=True) if name in after else []
        out.extend(difflib.unified_diff(
            a, b, f"{old_label}/{name}" if name in before else "/dev/null",
            f"{new_label}/{name}" if name in after else "/dev/null"))
    return "".join(line if line.endswith("\n") else line + "\n" for line in out)
