"""What moved between the v3 lock and the newest releases: packages, then test outcomes.

`nox -s latest` installs the lab with no lock, runs it, saves `pip freeze` and then runs this.
It prints (a) every package whose installed version differs from the lock, is not in the lock,
or is locked but not installed, and (b) every test whose outcome differs between two run records
(written by `pytest --lab-json`), and the tests found in one record only. It reports and does
not judge: exit 0, or 2 with one line when an input cannot be read.

    python tools/what_moved.py            # the defaults below
    python tools/what_moved.py --freeze my.freeze.txt --run reports/mine.json

The lock's markers (`; python_full_version < '3.11'`) are evaluated for the Python running this,
so run it with the Python the freeze came from.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from pitfall_lab.harness import runrecord


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: str, *, lock: bool) -> dict[str, str]:
    """name -> version of each `name==version` line (a lock's lines for other Pythons left out);
    a freeze's `name @ url` line keeps its url as its version; editable installs are left out."""
    found = {}
    try:
        text = Path(path).read_text()
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not text") from None
    for line in text.splitlines():
        line = line.split("#")[0].strip() if lock else line.strip()
        if not line or line.startswith(("#", "-")):
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement as exc:
            raise ValueError(f"{path}: not a pip requirement: {line!r} "
                             f"({str(exc).splitlines()[0]})") from None
        if req.marker and not req.marker.evaluate():
            continue
        exact = [s.version for s in req.specifier if s.operator == "=="]
        found[canonical(req.name)] = exact[0] if exact else req.url or str(req.specifier)
    return found


def outcomes(record: dict) -> dict[str, str]:
    """nodeid -> what the test did: its call's outcome, and any other phase that did not pass."""
    seen: dict[str, list[str]] = {}
    for row in runrecord.counted(record["tests"]):
        what = row["outcome"] if row["when"] == "call" else f"{row['when']} {row['outcome']}"
        seen.setdefault(row["nodeid"], []).append(what)
    return {nodeid: ", ".join(whats) for nodeid, whats in seen.items()}


def packages(freeze: str, lock: str) -> list[str]:
    installed, locked = pins(freeze, lock=False), pins(lock, lock=True)
    lines = [f"Packages: {freeze} against the lock {lock}"]
    for name in sorted(installed.keys() | locked.keys()):
        have, want = installed.get(name), locked.get(name)
        if have != want:
            lines.append(f"  {name:28} {want or '(not in the lock)'} -> "
                         f"{have or '(not installed)'}")
    same = sum(installed.get(n) == v for n, v in locked.items())
    return lines + [f"  as locked: {same} of {len(locked)} locked packages"]


def tests(run: str, baseline: str) -> list[str]:
    if not Path(baseline).exists():
        return [f"Tests: no {baseline}, so no test outcomes to compare"]
    now, then = outcomes(runrecord.load(run)), outcomes(runrecord.load(baseline))
    lines = [f"Tests: {run} against {baseline}"]
    changed = sorted(n for n in now.keys() & then.keys() if now[n] != then[n])
    lines += [f"  {nodeid}: {then[nodeid]} -> {now[nodeid]}" for nodeid in changed]
    for only, path in ((sorted(now.keys() - then.keys()), run),
                       (sorted(then.keys() - now.keys()), baseline)):
        lines += [f"  only in {path}: {nodeid} ({(now | then)[nodeid]})" for nodeid in only]
    same = len(now.keys() & then.keys()) - len(changed)
    return lines + [f"  tests in both with the same outcome: {same}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--freeze", default="reports/latest.freeze.txt", help="pip freeze output")
    parser.add_argument("--lock", default="constraints/v3.txt")
    parser.add_argument("--run", default="reports/latest.json", help="the newer run record")
    parser.add_argument("--baseline", default="reports/v3.json", help="the run record on the lock")
    args = parser.parse_args(argv)
    try:  # every input read before a line is printed
        lines = [*packages(args.freeze, args.lock), "", *tests(args.run, args.baseline)]
    except OSError as exc:
        print(f"what_moved: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"what_moved: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
