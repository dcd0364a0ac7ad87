"""``pitfall-lab``: list the scenarios, show one, run one."""
from __future__ import annotations

import json
import re
import sys
import textwrap
import time
from importlib.metadata import version
from pathlib import Path

import click

from pitfall_lab.catalogue import locate, scenario, treediff
from pitfall_lab.catalogue.text import shorten
from pitfall_lab.harness import procs, runrecord
from pitfall_lab.harness import report as lab_report

EXIT_BAD_INPUT = 2
# The lab's own machinery failed (procs.HarnessError, a server that did not start): the run
# says nothing about the pitfall. A test not as declared still wins: its exit is 1.
EXIT_HARNESS = 3


def _fail(message: str, code: int = EXIT_BAD_INPUT):
    click.echo(f"pitfall-lab: {message}", err=True)
    sys.exit(code)


def _need_tests(command: str) -> None:
    """run, stress and demo run the lab's own tests: without its test tools, say what to
    install, in one line."""
    missing = runrecord.missing_test_tools()
    if missing:
        _fail(f"{command} runs the lab's tests, which need {', '.join(missing)}: "
              f"{runrecord.INSTALL_TESTS}")


def _load(sid: str) -> scenario.Scenario:
    try:
        return scenario.load(sid)
    except (scenario.UnknownScenario, scenario.MetadataError) as exc:
        _fail(str(exc).strip("'\""))


@click.group()
@click.version_option(version("flask-sqlalchemy-pitfall-lab"), prog_name="pitfall-lab")  # click 7 too
def main():
    """Runnable evidence of the failures of Flask + Flask-SQLAlchemy + SQLAlchemy."""
    try:
        procs.timeout_factor()
    except ValueError as exc:
        _fail(str(exc))
    problem = locate.problem()
    if problem:
        _fail(problem)


def verdict(row: dict) -> str:
    """What a recorded test says: as declared, NOT as declared, harness error, skipped."""
    if row.get("harness"):
        return "harness error"
    return {"passed": "as declared", "failed": "NOT as declared",
            "skipped": "skipped"}[row["outcome"]]


def exit_code(rows: list[dict]) -> int:
    verdicts = {verdict(r) for r in rows}
    return 1 if "NOT as declared" in verdicts else EXIT_HARNESS if "harness error" in verdicts \
        else 0


@main.command("list")
def list_():
    """The scenarios, their variants and the servers they start."""
    try:
        scenarios = scenario.load_all()
    except scenario.MetadataError as exc:
        _fail(str(exc))
    width = max(len(s.id) for s in scenarios.values())
    for s in scenarios.values():
        click.echo(f"{s.code:<4} {s.id:<{width}}  {s.title}")
        click.echo(f"     variants: {', '.join(str(v) for v in s.variants)}")
        if s.servers:
            click.echo(f"     servers: {', '.join(s.servers)}")


def _fill(text: str, **kw) -> str:
    """Wrapped at 88 columns, never inside a URL or a command-line flag: both must copy whole."""
    return textwrap.fill(text, 88, break_long_words=False, break_on_hyphens=False, **kw)


def symptom_scope(sym: scenario.Symptom) -> str:
    """Which versions, variants and servers a symptom line is for, and whether it is the
    failure or the absence of it there."""
    parts = [", ".join(map(str, sym.when)) or "all versions"]
    where = dict(sym.where)
    variant = where.pop("variant", None)
    parts.append(f"variant {variant}" if variant else "every repro")
    parts += [f"{name.replace('_', ' ')} {value}" for name, value in where.items()]
    if not sym.affected:
        parts.append("not affected: it runs without the failure there")
    return "; ".join(parts)


@main.command()
@click.argument("scenario_id", metavar="SCENARIO")
def show(scenario_id):
    """The symptom, the cause, and each fix as a diff from the repro."""
    s = _load(scenario_id)
    click.secho(f"{s.code} {s.title}", bold=True)
    click.secho("\nSymptoms", bold=True)
    for sym in s.symptoms:
        mark = "*" if sym.applies() else " "
        click.echo(f"{mark} [{sym.case}] ({symptom_scope(sym)})")
        click.echo(textwrap.indent(sym.text, "    "))
    click.echo("  (* applies to the installed versions)")
    click.secho("\nRoot cause", bold=True)
    click.echo(_fill(" ".join(s.root_cause.split())))
    if s.family:
        click.secho(f"\nEvery cause of '{s.family}' in the lab", bold=True)
        for other in scenario.family(scenario.load_all(), s.family):
            mark = "*" if other.id == s.id else "-"
            click.echo(_fill(f"{other.code} {other.id}: {other.cause}",
                             initial_indent=f"{mark} ", subsequent_indent="  "))
        click.echo("  (* this scenario; `pitfall-lab show <id>` for another)")
    for label, items in (("Catches", s.catches), ("Sources", s.sources),
                         ("References", s.references)):
        if items:
            click.secho(f"\n{label}", bold=True)
            for item in items:
                click.echo(_fill(item, initial_indent="- ", subsequent_indent="  "))
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
              help="repro, fix (every variant of that side), repro-<name> or fix-<name>; "
                   "repeatable; default: all")
@click.option("--collect-only", is_flag=True, help="list the tests it would run, run none")
def run(scenario_id, variants, collect_only):
    """Run a scenario's tests and print what each variant was observed to do."""
    s = _load(scenario_id)
    _need_tests("run")
    for name in variants:
        if name not in runrecord.SIDES:
            try:
                s.variant(name)
            except scenario.UnknownScenario as exc:
                _fail(str(exc).strip("'\""))
    if collect_only:
        planned = plan([s], variants or runrecord.SIDES)
        for (_, name), tests in planned.items():
            click.echo(f"{name}: {len(tests)} test(s)")
            for test in tests:
                click.echo(f"  {test}")
        sys.exit(0 if all(planned.values()) else 1)
    rows = runrecord.counted(run_tests(s, variants))
    if not rows:
        _fail(f"no test ran for {s.id}", code=1)
    for row in rows:
        test = row["nodeid"].split("::", 1)[1]
        click.echo(f"{test}  [{verdict(row)}, {row['duration']:.2f}s]")
        if row["observed"]:
            click.echo(textwrap.indent(str(row["observed"]), "    observed: ", lambda _: True))
        if row.get("harness"):
            click.echo(f"    {row['harness']}")
        elif row["error"]:
            click.echo(f"    error: {row['error']}")
    sys.exit(exit_code(rows))


@main.command()
@click.argument("scenario_ids", metavar="SCENARIO...", nargs=-1, required=True)
@click.option("--runs", default=50, show_default=True, type=click.IntRange(1, 10_000),
              help="how many times to run each test")
@click.option("-n", "workers", default="2", show_default=True, help="pytest-xdist workers")
@click.option("--timeout", type=float, default=None, metavar="SECONDS",
              help="stop the run (and every process it started) after this long; default: none")
def stress(scenario_ids, runs, workers, timeout):
    """Run scenarios' tests many times; print per variant how often it behaved as declared."""
    chosen = [_load(sid) for sid in scenario_ids]
    _need_tests("stress")
    rows = run_tests(chosen, (), ["--count", str(runs), "-n", workers], timeout=timeout)
    tally: dict[str, list[int]] = {}  # per test: as declared, runs that said anything, runs
    kinds: dict[str, str] = {}
    first_error: dict[str, str] = {}
    counted = [r for r in runrecord.counted(rows) if r["outcome"] != "skipped"]
    for row in counted:
        test = re.sub(r"-\d+-\d+\]$", "]", row["nodeid"].partition("::")[2])  # pytest-repeat's
        key = f"{row['scenario']}::{test}"                                    # "-<i>-<n>" suffix
        kinds[key] = row["variant"].partition("-")[0]
        tally.setdefault(key, [0, 0, 0])
        tally[key][0] += row["outcome"] == "passed"
        tally[key][1] += not row.get("harness")
        tally[key][2] += 1
        if row["outcome"] == "failed":
            first_error.setdefault(key, row.get("harness") or f"{row['when']}: {row['error']}")
    for key, (ok, judged, total) in sorted(tally.items()):
        verb = "reproduced" if kinds[key] == "repro" else "held"
        broken = f", harness error {total - judged}/{total}" if judged != total else ""
        click.echo(f"{key}: {verb} {ok}/{judged}{broken}")
        if key in first_error:
            click.echo(f"    first failure, {first_error[key]}")
    sys.exit(exit_code(counted) if tally else 1)


@main.command()
@click.argument("source", metavar="[FILE | -]", default="-")
@click.option("--json", "as_json", is_flag=True, help="the ranked list as JSON, alone on stdout")
@click.option("--top", default=3, show_default=True, type=click.IntRange(1, 50),
              help="how many ranks to show")
def explain(source, as_json, top):
    """Which pitfall explains this error: paste it, or give a traceback or log file."""
    from pitfall_lab import explain as lab_explain

    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(errors="replace")
    except OSError as exc:
        _fail(f"cannot read {source}: {exc.strerror}")
    if not text.strip():
        _fail(f"nothing to explain: {'standard input' if source == '-' else source} is empty")
    try:
        scenarios = scenario.load_all()
    except scenario.MetadataError as exc:
        _fail(str(exc))
    answer = lab_explain.explain(text, scenarios, top=top)
    if as_json:
        click.echo(json.dumps(lab_explain.as_json(answer), indent=1))
    else:
        click.echo(lab_explain.as_text(answer), nl=False)
    sys.exit(0 if answer.kind == "match" else 1)


@main.command()
@click.argument("path", metavar="PATH", default=".")
@click.option("--app", metavar="MODULE[:NAME]", help="the app, as `flask --app` takes it "
              "(default: FLASK_APP, then wsgi.py or app.py, as the flask command finds it)")
@click.option("--dburi", metavar="URL", help="a PostgreSQL or MySQL server to make throwaway "
              "databases on (default: temporary SQLite files)")
@click.option("--json", "as_json", is_flag=True, help="the results as JSON, alone on stdout")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "sarif"]), default="table",
              show_default=True)
@click.option("--select", metavar="IDS", help="run only these checks, and only the probes they "
              "need (ids or scenario codes, comma-separated, as --list-checks names them); the "
              "others are listed as skipped")
@click.option("--fail-level",
              type=click.Choice([level.value for level in reversed(scenario.Level)]),
              default=scenario.Level.ERROR.value, show_default=True,
              help="the lowest level of a finding that makes the exit 1")
@click.option("--quiet", is_flag=True, help="print nothing when nothing is found")
@click.option("--show-silenced", is_flag=True, help="list the silenced findings too")
@click.option("--baseline", "baseline_path", metavar="FILE", type=click.Path(dir_okay=False),
              help="fail only on findings that are not in this baseline")
@click.option("--write-baseline", metavar="FILE", type=click.Path(dir_okay=False),
              help="record today's findings as the baseline")
@click.option("--list-checks", is_flag=True, help="print every check: id, level, title, hint")
def doctor(path, app, dburi, as_json, fmt, select, fail_level, quiet, show_silenced,
           baseline_path, write_baseline, list_checks):
    """Which of the catalogue's pitfalls this project has, found by running it in a throwaway
    copy against a throwaway database. Exit 0: nothing found at --fail-level; 1: found; 2: bad
    input, or nothing found while the app could not load (the checks that need no app still
    ran). Configuration: [tool.pitfall-lab] in the project's pyproject.toml (ignore,
    per-path-ignores) and `# pitfall-lab: ignore[ID]` on a finding's line."""
    from pitfall_lab import doctor as lab_doctor
    from pitfall_lab.doctor import gate, output, registry

    fmt = "json" if as_json else fmt

    try:
        if list_checks:
            click.echo(output.list_checks(), nl=False)
            return
        chosen = gate.resolve(select.split(","), "--select") if select else None
        config = gate.read_config(Path(path))
        baseline = gate.read_baseline(Path(baseline_path)) if baseline_path else None
        report = lab_doctor.examine(path, app=app, dburi=dburi, select=chosen)
        gated = gate.apply(report, config, chosen, baseline, fail_level)
    except (lab_doctor.BadProject, gate.ConfigError, registry.RegistryError,
            scenario.MetadataError) as exc:
        if fmt == "json":  # JSON on stdout whatever happens
            click.echo(json.dumps({"format": output.FORMAT, "project": str(Path(path)),
                                   "error": str(exc), "results": []}, indent=1))
        _fail(str(exc))
    if write_baseline:
        count = gate.write_baseline(report, gated, Path(write_baseline))
        click.echo(f"wrote {write_baseline}: {count} finding(s)", err=True)
    if not report.loaded:
        click.echo(f"pitfall-lab: {output.app_line(report)}", err=True)
    if quiet and not gated.findings:
        pass
    elif fmt == "table":
        click.echo(output.table(report, gated, show_silenced), nl=False)
    else:
        data = output.as_json(report, gated) if fmt == "json" else output.sarif(report, gated)
        click.echo(json.dumps(data, indent=1))
    sys.exit(1 if gated.failing and not write_baseline
             else EXIT_BAD_INPUT if not report.loaded else 0)


@main.command()
@click.argument("records", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", default="REPORT.md", show_default=True, type=click.Path())
def report(records, output):
    """Write REPORT.md from run records (pytest --lab-json PATH), one per version set."""
    try:
        runs = [runrecord.load(r) for r in records]
    except ValueError as exc:
        _fail(str(exc))
    Path(output).write_text(lab_report.render(runs))
    broken = [r["version_set"] for r in runs if r["exit_status"] != 0]
    click.echo(f"wrote {output} from {len(runs)} run(s)"
               + (f"; failures on {', '.join(broken)}" if broken else ""))
    sys.exit(1 if broken else 0)  # a gate: a fix that stopped holding fails the build


def _pytest_args(scenarios, variants) -> list[str]:
    if isinstance(scenarios, scenario.Scenario):
        scenarios = [scenarios]
    return ["-m", " or ".join(s.id for s in scenarios),
            *(f"--lab-variant={v}" for v in variants),
            *(str(scenario.ROOT / "tests" / f"test_{s.id}.py") for s in scenarios)]


def run_tests(scenarios, variants=(), extra: list[str] = (), timeout: float | None = 900,
              progress=None) -> list[dict]:
    """Run the scenarios' tests (of ``variants`` only, if given) in a child pytest, in one
    process unless ``extra`` says otherwise; return its recorded rows. With ``progress``, pytest
    runs verbosely and each finished test's line is passed to it."""
    def on_line(line: str):
        if re.search(r" (PASSED|FAILED|SKIPPED|ERROR)\b", line):
            progress(line.strip())
    try:
        record = runrecord.run_pytest(
            ["-v" if progress else "-q", "-n", "0", *extra, *_pytest_args(scenarios, variants)],
            timeout=timeout, on_line=on_line if progress else None)
    except runrecord.ChildPytestError as exc:
        _fail(str(exc), code=1)
    return record["tests"]


def plan(scenarios: list[scenario.Scenario], variants) -> dict[tuple[str, str], list[str]]:
    """For each scenario and each of ``variants`` (a variant's name or a side), the tests that
    ``run_tests`` would run for it, found by one collection with the same selection; none is
    run. A name that a scenario does not have plans nothing for it."""
    try:
        record = runrecord.run_pytest(["-q", "-n", "0", "--collect-only",
                                       *_pytest_args(scenarios, variants)], timeout=120)
    except runrecord.ChildPytestError as exc:
        _fail(str(exc), code=1)
    planned = {(s.id, name): [] for s in scenarios for name in variants}
    by_id = {s.id: s for s in scenarios}
    for row in record["collected"]:
        s = by_id.get(row["scenario"])
        for name in variants if s else ():
            if runrecord.selects(s.variant(row["variant"]), [name]):
                planned[s.id, name].append(row["nodeid"].split("::", 1)[1])
    return planned


@main.command()
@click.argument("scenario_ids", metavar="SCENARIO...", nargs=-1, required=True)
@click.option("--collect-only", is_flag=True,
              help="print the steps and the tests each would run, run none")
def demo(scenario_ids, collect_only):
    """Workshop mode: the repro's real symptom, the fix as a diff, the fix run, the lesson; for
    each scenario in turn."""
    chosen = [_load(sid) for sid in scenario_ids]
    _need_tests("demo")
    steps = {s.id: [("the repro", "repro"), *((f"the fix {fix}", str(fix)) for fix in s.fixes)]
             for s in chosen}
    names = sorted({name for s in chosen for _, name in steps[s.id]})
    planned = plan(chosen, names) if collect_only else {}
    empty: list[str] = []
    failed: list[dict] = []
    broken: list[dict] = []
    started = time.monotonic()

    def progress(line: str):
        found = re.search(r"::(\S+) (PASSED|FAILED|SKIPPED|ERROR)", line)
        if found:
            test, verdict = found.groups()
            click.echo(f"  [{time.monotonic() - started:5.1f}s] {verdict:<7} {test}")

    def step(s: scenario.Scenario, title: str, name: str) -> None:
        if collect_only:
            tests = planned[s.id, name]
            for test in tests:
                click.echo(f"   would run {test}")
        else:
            click.echo("   running it ...")
            rows = runrecord.counted(run_tests(s, [name], progress=progress))
            _show_observed(rows)
            tests = [r for r in rows if r["outcome"] != "skipped"]
            failed.extend(r for r in rows if verdict(r) == "NOT as declared")
            broken.extend(r for r in rows if r.get("harness"))
        if not tests:
            click.secho(f"   NO TEST RAN for {title}", fg="yellow")
            empty.append(f"{s.id}: {title}")

    for number, s in enumerate(chosen):
        if number:
            click.echo()
        click.secho(f"{s.code}  {s.title}", bold=True)
        for source in s.sources:
            click.echo(_fill(source, initial_indent="reported by: ", subsequent_indent="  "))
        click.echo()
        for v in s.repros:
            click.secho(f"1. The repro ({v}): {v.summary}", bold=True)
        step(s, *steps[s.id][0])
        repro = s.repros[0]
        for n, (fix, (title, name)) in enumerate(zip(s.fixes, steps[s.id][1:]), 2):
            click.secho(f"\n{n}. The fix{f' {fix.name}' if fix.name else ''}: {fix.summary}",
                        bold=True)
            click.echo(treediff.unified(repro.path, fix.path,
                                        str(repro.path.relative_to(scenario.ROOT)),
                                        str(fix.path.relative_to(scenario.ROOT))), nl=False)
            step(s, title, name)
        click.secho("\nThe lesson", bold=True)
        for fix in s.fixes:
            click.echo(f"  - {fix.summary}")
        if s.catches:
            click.echo(f"  Catch: {s.catches[0]}")
    if empty or failed:
        _fail(f"{len(empty)} step(s) ran no test, {len(failed)} test(s) not as declared"
              + (f", {len(broken)} harness error(s)" if broken else ""), code=1)
    if broken:
        _fail(f"{len(broken)} harness error(s): the lab's own machinery failed, which says "
              "nothing about the pitfall", code=EXIT_HARNESS)


def _show_observed(rows: list[dict]) -> None:
    for row in rows:
        if row["when"] == "call" and row.get("observed"):
            test = row["nodeid"].split("::", 1)[-1]
            click.echo(f"   {test}:")
            lines = str(row["observed"]).splitlines()
            for line in lines[:8]:
                click.secho(f"     {shorten(line, 200)}",
                            fg="red" if row["variant"].startswith("repro") else "green")
            if len(lines) > 8:
                click.echo(f"     ... {len(lines) - 8} more lines")
        if row.get("harness"):
            click.secho(f"   HARNESS ERROR: {row['harness']}", fg="yellow")
        elif row["outcome"] == "failed":
            click.secho(f"   NOT AS DECLARED: {row['error']}", fg="yellow")
