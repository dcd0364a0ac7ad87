"""``pitfall-lab``: list the scenarios, show one, run one."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import click

from pitfall_lab import report as lab_report
from pitfall_lab import scenario, treediff

EXIT_BAD_INPUT = 2


def _fail(message: str, code: int = EXIT_BAD_INPUT):
    click.echo(f"pitfall-lab: {message}", err=True)
    sys.exit(code)


def _load(sid: str) -> scenario.Scenario:
    try:
        return scenario.load(sid)
    except (scenario.UnknownScenario, scenario.MetadataError) as exc:
        _fail(str(exc).strip("'\""))


@click.group()
def main():
    """Runnable evidence of the failures of Flask + Flask-SQLAlchemy + SQLAlchemy."""


@main.command("list")
def list_():
    """The scenarios, their seeds and variants."""
    try:
        scenarios = scenario.load_all()
    except scenario.MetadataError as exc:
        _fail(str(exc))
    for s in scenarios.values():
        click.echo(f"{s.code:<4} {s.id:<24} {s.title}")
        click.echo(f"     seeds: {', '.join(s.seeds)}")
        click.echo(f"     variants: {', '.join(str(v) for v in s.variants)}")


@main.command()
@click.argument("scenario_id", metavar="SCENARIO")
def show(scenario_id):
    """The symptom, the cause, and each fix as a diff from the repro."""
    s = _load(scenario_id)
    click.secho(f"{s.code} {s.title}", bold=True)
    click.echo(f"seeds: {', '.join(s.seeds)}")
    click.secho("\nSymptoms", bold=True)
    for sym in s.symptoms:
        when = ", ".join(map(str, sym.when)) or "all versions"
        mark = "*" if sym.applies() else " "
        click.echo(f"{mark} [{sym.case}] ({when})")
        click.echo(textwrap.indent(sym.text, "    "))
    click.echo("  (* applies to the installed versions)")
    click.secho("\nRoot cause", bold=True)
    click.echo(textwrap.fill(" ".join(s.root_cause.split()), 88))
    for label, items in (("Catches", s.catches), ("References", s.references)):
        if items:
            click.secho(f"\n{label}", bold=True)
            for item in items:
                click.echo(textwrap.fill(item, 88, initial_indent="- ", subsequent_indent="  "))
    repro = s.repros[0]
    for fix in s.fixes:
        label = f"Fix {fix.name}" if fix.name else "Fix"
        click.secho(f"\n{label}: {fix.summary}", bold=True)
        click.echo(treediff.unified(repro.path, fix.path,
                                    str(repro.path.relative_to(scenario.ROOT)),
                                    str(fix.path.relative_to(scenario.ROOT))), nl=False)


@main.command()
@click.argument("scenario_id", metavar="SCENARIO")
@click.option("--variant", "variants", multiple=True, metavar="NAME",
              help="repro, repro-<name> or fix-<name>; repeatable; default: all")
def run(scenario_id, variants):
    """Run a scenario's tests and print what each variant was observed to do."""
    s = _load(scenario_id)
    for name in variants:
        try:
            s.variant(name)
        except scenario.UnknownScenario as exc:
            _fail(str(exc).strip("'\""))
    rows = [r for r in run_tests(s, variants) if r["when"] == "call" or r["outcome"] != "passed"]
    if not rows:
        _fail(f"no test ran for {s.id}", code=1)
    failed = False
    for row in rows:
        test = row["nodeid"].split("::", 1)[1]
        verdict = {"passed": "as declared", "failed": "NOT as declared",
                   "skipped": "skipped"}[row["outcome"]]
        failed |= row["outcome"] == "failed"
        click.echo(f"{test}  [{verdict}, {row['duration']:.2f}s]")
        if row["observed"]:
            click.echo(textwrap.indent(str(row["observed"]), "    observed: ", lambda _: True))
        if row["error"]:
            click.echo(f"    error: {row['error']}")
    sys.exit(1 if failed else 0)


@main.command()
@click.argument("scenario_ids", metavar="SCENARIO...", nargs=-1, required=True)
@click.option("--runs", default=50, show_default=True, type=click.IntRange(1, 10_000),
              help="how many times to run each test")
@click.option("-n", "workers", default="2", show_default=True, help="pytest-xdist workers")
def stress(scenario_ids, runs, workers):
    """Run scenarios' tests many times; print per variant how often it behaved as declared."""
    chosen = [_load(sid) for sid in scenario_ids]
    rows = run_tests(chosen, (), ["--count", str(runs), "-n", workers], timeout=None)
    tally: dict[str, list[int]] = {}
    first_error: dict[str, str] = {}
    for row in rows:
        if row["when"] != "call" and row["outcome"] != "failed":
            continue
        module, _, test = row["nodeid"].partition("::")
        test = re.sub(r"-\d+-\d+\]$", "]", test)  # pytest-repeat's "-<i>-<n>" suffix
        key = f"{Path(module).stem.removeprefix('test_')}::{test}"
        tally.setdefault(key, [0, 0])
        tally[key][0] += row["outcome"] == "passed"
        tally[key][1] += 1
        if row["outcome"] == "failed":
            first_error.setdefault(key, f"{row['when']}: {row['error']}")
    failed = False
    for key, (ok, total) in sorted(tally.items()):
        verb = "reproduced" if re.search(r"[\[-]repro(-|\])", key) else "held"
        failed |= ok != total
        click.echo(f"{key}: {verb} {ok}/{total}")
        if key in first_error:
            click.echo(f"    first failure, {first_error[key]}")
    sys.exit(1 if failed or not tally else 0)


@main.command()
@click.argument("records", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", default="REPORT.md", show_default=True, type=click.Path())
def report(records, output):
    """Write REPORT.md from run records (pytest --lab-json PATH), one per version set."""
    try:
        runs = [lab_report.load_run(Path(r)) for r in records]
    except ValueError as exc:
        _fail(str(exc))
    Path(output).write_text(lab_report.render(runs))
    broken = [r["version_set"] for r in runs if r["exit_status"] != 0]
    click.echo(f"wrote {output} from {len(runs)} run(s)"
               + (f"; failures on {', '.join(broken)}" if broken else ""))
    sys.exit(1 if broken else 0)  # a gate: a fix that stopped holding fails the build


def run_tests(scenarios, variants: tuple[str, ...], extra: list[str] = (),
              timeout: float | None = 900, progress=None) -> list[dict]:
    """Run the scenarios' test modules in a child pytest; return its recorded rows. With
    ``progress``, pytest runs verbosely and each finished test's line is passed to it."""
    if isinstance(scenarios, scenario.Scenario):
        scenarios = [scenarios]
    with tempfile.TemporaryDirectory() as tmp:
        record = Path(tmp) / "record.json"
        args = [sys.executable, "-m", "pytest", "-v" if progress else "-q", "-p", "no:cacheprovider",
                f"--rootdir={scenario.ROOT}", f"--lab-json={record}",
                "-m", " or ".join(s.id for s in scenarios), "-n", "0", *extra,
                *(str(scenario.ROOT / "tests" / f"test_{s.id}.py") for s in scenarios)]
        if variants:
            args += ["-k", " or ".join(f"[{v}]" for v in variants)]
        with subprocess.Popen(args, cwd=scenario.ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) as child:
            watchdog = threading.Timer(timeout, child.kill) if timeout else None
            if watchdog:
                watchdog.start()
            output = []
            for line in child.stdout:
                output.append(line)
                if progress and re.search(r" (PASSED|FAILED|SKIPPED|ERROR)\b", line):
                    progress(line.strip())
            child.wait()
            if watchdog:
                watchdog.cancel()
        if not record.exists():
            _fail(f"pytest did not run: {''.join(output).strip().splitlines()[-1:]}", code=1)
        return json.loads(record.read_text())["tests"]


@main.command()
@click.argument("scenario_id", metavar="SCENARIO")
def demo(scenario_id):
    """Workshop mode: the repro's real symptom, the fix as a diff, the fix run, the lesson."""
    s = _load(scenario_id)
    started = time.monotonic()

    def progress(line: str):
        found = re.search(r"::(\S+) (PASSED|FAILED|SKIPPED|ERROR)", line)
        if found:
            test, verdict = found.groups()
            click.echo(f"  [{time.monotonic() - started:5.1f}s] {verdict:<7} {test}")

    click.secho(f"{s.code}  {s.title}", bold=True)
    click.echo(f"from the write-up {', '.join(s.seeds)}\n")
    for v in s.repros:
        click.secho(f"1. The repro ({v}): {v.summary}", bold=True)
    click.echo("   running it ...")
    rows = run_tests(s, tuple(str(v) for v in s.repros), progress=progress)
    _show_observed(rows)
    repro = s.repros[0]
    for n, fix in enumerate(s.fixes, 2):
        click.secho(f"\n{n}. The fix{f' {fix.name}' if fix.name else ''}: {fix.summary}", bold=True)
        click.echo(treediff.unified(repro.path, fix.path,
                                    str(repro.path.relative_to(scenario.ROOT)),
                                    str(fix.path.relative_to(scenario.ROOT))), nl=False)
        click.echo("   running it ...")
        _show_observed(run_tests(s, (str(fix),), progress=progress))
    click.secho("\nThe lesson", bold=True)
    for fix in s.fixes:
        click.echo(f"  - {fix.summary}")
    if s.catches:
        click.echo(f"  Catch: {s.catches[0]}")


def _show_observed(rows: list[dict]) -> None:
    for row in rows:
        if row["when"] == "call" and row.get("observed"):
            test = row["nodeid"].split("::", 1)[-1]
            click.echo(f"   {test}:")
            lines = str(row["observed"]).splitlines()
            for line in lines[:8]:
                click.secho(f"     {line[:200]}", fg="red" if "[repro" in test else "green")
            if len(lines) > 8:
                click.echo(f"     ... {len(lines) - 8} more lines")
        if row["outcome"] == "failed":
            click.secho(f"   NOT AS DECLARED: {row['error']}", fg="yellow")
