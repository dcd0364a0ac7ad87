"""The run record: what each test of a lab run did, as JSON (``pytest --lab-json PATH``).

One module owns it: the plugin that writes it, the scenario and variant of a test, the loader
that validates a record, which of its rows count, and the one function that runs a child pytest
and returns its record (``pitfall-lab run``, ``demo``, ``stress``, the swap check, the
benchmarks).
"""
from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from pitfall_lab.catalogue import scenario
from pitfall_lab.harness import procs

FORMAT = 2  # 2: rows carry "scenario" and "variant"; 1 (unversioned) parsed node ids
# Rows also carry "params" (each test parameter as text: variant, server...) and "harness" (why
# the lab's own machinery stopped the test, or null), which no reader requires: records written
# before them still load.
ROW_KEYS = {"nodeid", "scenario", "variant", "when", "outcome", "duration", "observed"}
RECORD_KEYS = {"format", "version_set", "libraries", "python", "date", "wall_seconds",
               "exit_status", "tests", "collected"}


def scenario_of(path: str | Path) -> str | None:
    """The scenario a test module is about: tests/test_<scenario>.py, when that scenario exists."""
    stem = Path(str(path).split("::")[0]).stem
    sid = stem.removeprefix("test_")
    return sid if stem.startswith("test_") and (scenario.SCENARIO_DIR / f"{sid}.toml").is_file() \
        else None


def variant_of(item) -> scenario.Variant | None:
    """The variant a collected test runs: its ``variant`` parameter."""
    callspec = getattr(item, "callspec", None)
    value = callspec.params.get("variant") if callspec else None
    return value if isinstance(value, scenario.Variant) else None


SIDES = ("repro", "fix")  # a name that selects every variant of that side


def selects(variant: scenario.Variant, wanted: list[str]) -> bool:
    """``wanted`` names variants (``repro-checkout``) or a whole side (``repro``, ``fix``)."""
    return any(w in (str(variant), variant.kind) for w in wanted)


def harness(report) -> str | None:
    """Why the lab's own machinery stopped this test, or None: a failed setup or teardown (the
    fixtures start the servers; a verdict is asserted in the call), or a call stopped by
    procs.HarnessError (conftest.py marks it)."""
    if not report.failed:
        return None
    marked = dict(report.user_properties).get("harness")
    if marked or report.when == "call":
        return marked
    lines = report.longreprtext.strip().splitlines()
    return f"harness: {report.when}: {lines[-1] if lines else 'failed'}"


def counted(rows: list[dict]) -> list[dict]:
    """The rows that say what a test did: its call, and any phase that did not pass (a setup
    that failed or skipped never reaches the call)."""
    return [r for r in rows if r["when"] == "call" or r["outcome"] != "passed"]


class Recorder:
    """Collects every test's outcome and observed symptom; lives in the xdist controller (or the
    only process), and writes the record when the session ends."""

    def __init__(self, path: str):
        """``ValueError`` with one line if the record cannot be written at ``path``: the run
        is refused before it starts, not at its end."""
        self.path, self.rows, self.collected = Path(path), [], []
        self.started = time.time()
        parent = self.path.parent
        try:  # its folder may not exist yet (reports/ in a fresh clone), as junitxml allows
            parent.mkdir(parents=True, exist_ok=True)
        except FileExistsError as exc:
            problem = f"{exc.filename} is not a folder"
        except OSError as exc:
            problem = f"cannot create {parent} ({exc.strerror})"
        else:
            problem = ("a folder, not a file" if self.path.is_dir() else
                       None if os.access(parent, os.W_OK) else f"cannot write in {parent}")
        if problem:
            raise ValueError(f"--lab-json {path}: {problem}")

    def pytest_collection_finish(self, session):  # the controller collects only under -n 0
        self.collected = [{"nodeid": i.nodeid, **_labels(i.user_properties)} for i in session.items]

    def pytest_runtest_logreport(self, report):  # every phase: fixtures start servers
        props = dict(report.user_properties)
        self.rows.append({
            "nodeid": report.nodeid, **_labels(report.user_properties),
            "when": report.when, "outcome": report.outcome,
            "duration": round(report.duration, 3),
            "observed": props.get("observed"),
            "error": report.longreprtext.strip().splitlines()[-1] if report.failed else None,
            "skip": report.longrepr[2] if report.skipped and isinstance(report.longrepr, tuple)
            else None,
            "harness": harness(report),
        })

    def pytest_sessionfinish(self, exitstatus):
        self.path.write_text(json.dumps({
            "format": FORMAT,
            "version_set": os.environ.get("LAB_VERSION_SET", "installed"),
            "libraries": scenario.installed_versions(),
            "python": platform.python_version(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "wall_seconds": round(time.time() - self.started, 1),
            "exit_status": int(exitstatus),
            "tests": self.rows,
            "collected": self.collected,
        }, indent=1))


def label(item) -> scenario.Variant | None:
    """Stamp a collected test with its scenario and variant, which travel with its reports;
    return the variant."""
    variant = variant_of(item)
    callspec = getattr(item, "callspec", None)
    item.user_properties += [("lab_scenario", scenario_of(item.nodeid)),
                             ("lab_variant", str(variant) if variant else None),
                             ("lab_params", {k: str(v) for k, v in callspec.params.items()}
                              if callspec else {})]
    return variant


def _labels(user_properties) -> dict:
    props = dict(user_properties)
    return {"scenario": props.get("lab_scenario"), "variant": props.get("lab_variant"),
            "params": props.get("lab_params") or {}}


def load(path: str | Path) -> dict:
    """A record written by :class:`Recorder`; ``ValueError`` with one line otherwise."""
    try:
        record = json.loads(Path(path).read_text())
        problem = None
        if not isinstance(record, dict) or not RECORD_KEYS <= record.keys():
            problem = f"needs the fields {', '.join(sorted(RECORD_KEYS))}"
        elif record["format"] != FORMAT:
            problem = f"format {record['format']}, this lab reads format {FORMAT}: run it again"
        elif not isinstance(record["tests"], list) or not all(
                isinstance(r, dict) and ROW_KEYS <= r.keys() for r in record["tests"]):
            problem = f"every test row needs {', '.join(sorted(ROW_KEYS))}"
    except (OSError, ValueError) as exc:
        problem = str(exc).splitlines()[0]
    if problem:
        raise ValueError(f"{path}: not a run record written by pytest --lab-json ({problem})")
    return record


# What a child pytest of the lab's own tests needs beyond the lab itself (its test extra); the
# import name of each, and the package that provides it.
TEST_TOOLS = {"pytest": "pytest", "xdist": "pytest-xdist", "pytest_repeat": "pytest-repeat",
              "hypothesis": "hypothesis", "port_for": "port-for"}
INSTALL_TESTS = "pip install 'flask-sqlalchemy-pitfall-lab[test,servers]'"


def missing_test_tools() -> list[str]:
    """The packages of the lab's test extra that this environment lacks."""
    from importlib.util import find_spec

    return [package for module, package in TEST_TOOLS.items() if find_spec(module) is None]


class ChildPytestError(RuntimeError):
    """The child pytest wrote no record (it could not start, or ran over its time)."""


def run_pytest(args: list[str], *, timeout: float | None = 900,
               on_line: Callable[[str], None] | None = None, root: Path | None = None,
               env: dict | None = None, launcher: list[str] = ()) -> dict:
    """Run pytest in a child process on the lab's process control (its own process group,
    killed with its xdist workers when it ends or runs over ``timeout``); pass each output line
    to ``on_line`` as it comes; return its run record. ``launcher`` goes before the interpreter
    (the benchmark counts interpreters under strace)."""
    root = root or scenario.ROOT
    with tempfile.TemporaryDirectory(prefix="pitfall-lab-record-") as tmp:
        path = Path(tmp) / "record.json"
        child = procs.LiveProcess(
            [*launcher, sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--rootdir={root}",
             f"--lab-json={path}", *args],
            cwd=root, env={"PITFALL_LAB_ROOT": str(root), **(env or {})}, on_line=on_line)
        try:  # the caller's own limit (stress --timeout), not one of the harness's: unscaled
            child.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise ChildPytestError(f"pytest ran over {timeout:.0f}s and was stopped") from None
        finally:
            child.stop()
        if not path.exists():
            last = [line for line in child.lines if line.strip()][-1:] or ["(no output)"]
            raise ChildPytestError(f"pytest wrote no run record: {last[0].strip()}")
        return load(path)
