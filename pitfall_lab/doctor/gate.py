"""How a team gates on the doctor: which checks run (--select), which findings are silenced
(pyproject's [tool.pitfall-lab], an inline comment), which are already known (a baseline), and
which level fails the run (--fail-level).

A check is named by its id (``<code>-<name>``) or by its scenario code alone, the same in the
table, the JSON, the SARIF, the config and the comments; every scenario has one, those no check
covers included (pitfall_lab.doctor.registry).
"""
from __future__ import annotations

import fnmatch
import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pitfall_lab.doctor import Report, registry
from pitfall_lab.doctor.registry import Level, Result

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_KEYS = {"ignore", "per-path-ignores"}
INLINE = re.compile(r"#\s*pitfall-lab:\s*ignore\[([^\]]*)\]")
BASELINE_FORMAT = 1


class ConfigError(ValueError):
    """Bad configuration or option; ``str()`` is one line naming the file, key or value."""


def known_names() -> dict[str, list[str]]:
    """Every accepted name, to the check ids it stands for: the id, and the scenario code."""
    names: dict[str, list[str]] = {}
    for check in registry.checks():
        names.setdefault(check.id, []).append(check.id)
        names.setdefault(check.code, []).append(check.id)
    return names


def resolve(tokens, where: str) -> set[str]:
    names = known_names()
    out = set()
    for token in tokens:
        token = token.strip()
        if token not in names:
            raise ConfigError(f"{where}: unknown check {token!r} (pitfall-lab doctor "
                              "--list-checks names them)")
        out.update(names[token])
    return out


@dataclass
class Config:
    ignore: set[str] = field(default_factory=set)
    per_path: list[tuple[str, set[str]]] = field(default_factory=list)


def read_config(root: Path) -> Config:
    """[tool.pitfall-lab] from the project's pyproject.toml; an empty config without one."""
    path = root / "pyproject.toml"
    if not path.is_file():
        return Config()
    try:
        table = tomllib.loads(path.read_text()).get("tool", {}).get("pitfall-lab", {})
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({str(exc).splitlines()[0]})") from None
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.pitfall-lab] must be a table")
    unknown = sorted(set(table) - CONFIG_KEYS)
    if unknown:
        raise ConfigError(f"{path}: [tool.pitfall-lab]: unknown key {unknown[0]!r} "
                          f"(known: {', '.join(sorted(CONFIG_KEYS))})")
    ignore = table.get("ignore", [])
    if not isinstance(ignore, list) or not all(isinstance(i, str) for i in ignore):
        raise ConfigError(f"{path}: [tool.pitfall-lab] ignore: must be a list of check ids")
    per_path = table.get("per-path-ignores", {})
    if not isinstance(per_path, dict) or not all(
            isinstance(v, list) and all(isinstance(i, str) for i in v) for v in per_path.values()):
        raise ConfigError(f"{path}: [tool.pitfall-lab] per-path-ignores: must map path "
                          "patterns to lists of check ids")
    return Config(resolve(ignore, f"{path}: [tool.pitfall-lab] ignore"),
                  [(pattern, resolve(ids, f"{path}: [tool.pitfall-lab] per-path-ignores"))
                   for pattern, ids in per_path.items()])


def fingerprint(report: Report, result: Result) -> str:
    """Stable across unrelated edits: the check, the file, and the text of the line the finding
    points at (not its number), so that lines inserted above it change nothing."""
    path, line = result.location or ("", 0)
    try:
        text = (report.root / path).read_text(errors="replace").splitlines()[line - 1] \
            if path else ""
    except (OSError, IndexError):
        text = ""
    return hashlib.sha256(f"{result.check.id}\0{path}\0{' '.join(text.split())}"
                          .encode()).hexdigest()


def silenced_by(report: Report, result: Result, config: Config) -> str | None:
    """Why a finding is silenced: the config's ignore, a per-path ignore, or the comment on the
    line it points at; None when it is not."""
    if result.check.id in config.ignore:
        return "ignore in pyproject.toml"
    path, line = result.location or ("", 0)
    for pattern, ids in config.per_path:
        if result.check.id in ids and fnmatch.fnmatch(path, pattern):
            return f"per-path-ignores {pattern!r} in pyproject.toml"
    if path:
        try:
            text = (report.root / path).read_text(errors="replace").splitlines()[line - 1]
        except (OSError, IndexError):
            text = ""
        comment = INLINE.search(text)
        if comment:
            ids = resolve(comment.group(1).split(","), f"{path}:{line}")
            if result.check.id in ids:
                return f"comment at {path}:{line}"
    return None


@dataclass
class Gated:
    """The report after the gate: what counts, what was silenced, what the baseline knew."""
    findings: list[Result]
    silenced: list[tuple[Result, str]]
    known: list[Result]
    gone: int  # baseline entries no longer found
    skipped: list[str]  # checks --select left out
    fail_level: Level

    @property
    def failing(self) -> list[Result]:
        return [r for r in self.findings if r.check.level.rank >= self.fail_level.rank]


def apply(report: Report, config: Config, select: set[str] | None = None,
          baseline: set[str] | None = None, fail_level: str | Level = Level.ERROR) -> Gated:
    skipped = sorted(c.id for c in registry.checks() if select is not None and c.id not in select)
    findings, silenced, known = [], [], []
    seen = set()
    for result in report.found:  # examine(select=...) left out the other checks' results
        reason = silenced_by(report, result, config)
        if reason:
            silenced.append((result, reason))
            continue
        print_ = fingerprint(report, result)
        seen.add(print_)
        (known if baseline is not None and print_ in baseline else findings).append(result)
    gone = len(baseline - seen) if baseline is not None else 0
    return Gated(findings, silenced, known, gone, skipped, Level(fail_level))


def write_baseline(report: Report, gated: Gated, path: Path) -> int:
    entries = sorted({fingerprint(report, r) for r in gated.findings + gated.known})
    path.write_text(json.dumps({"format": BASELINE_FORMAT, "fingerprints": entries}, indent=1)
                    + "\n")
    return len(entries)


def read_baseline(path: Path) -> set[str]:
    try:
        data = json.loads(Path(path).read_text())
        if data.get("format") != BASELINE_FORMAT or not isinstance(data.get("fingerprints"), list):
            raise ValueError(f"format {data.get('format')!r}")
        return set(data["fingerprints"])
    except (OSError, ValueError, AttributeError) as exc:
        raise ConfigError(f"{path}: not a baseline written by pitfall-lab doctor "
                          f"--write-baseline ({str(exc).splitlines()[0]})") from None
