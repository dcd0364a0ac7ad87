"""The wheel carries the catalogue: the top-level scenarios/, repros/, fixes/, tests/ and
constraints/ (the version sets explain names a symptom's measurements by) folders, conftest.py
and pyproject.toml (the tests' pytest settings) go into pitfall_lab/_lab/, where
pitfall_lab.catalogue.locate finds them in an installed lab. Files git ignores stay out (the
lab's kept bytecode, databases a run left). An editable install reads them in the checkout and
maps the package alone."""
from __future__ import annotations

from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface
from pathspec import GitIgnoreSpec

FOLDERS = ("scenarios", "repros", "fixes", "tests", "constraints")
FILES = ("conftest.py", "pyproject.toml")
ALWAYS_IGNORED = ["__pycache__/", "*.pyc", ".pytest_cache/", ".hypothesis/"]


class CatalogueHook(BuildHookInterface):
    PLUGIN_NAME = "catalogue"

    def initialize(self, version: str, build_data: dict) -> None:
        if version == "editable":
            return
        root = Path(self.root)
        gitignore = root / ".gitignore"
        ignored = GitIgnoreSpec.from_lines(
            ALWAYS_IGNORED + (gitignore.read_text().splitlines() if gitignore.exists() else []))
        paths = [root / name for name in FILES]
        paths += [p for folder in FOLDERS for p in sorted((root / folder).rglob("*")) if p.is_file()]
        for path in paths:
            relative = path.relative_to(root).as_posix()
            if not ignored.match_file(relative):
                build_data["force_include"][str(path)] = f"pitfall_lab/_lab/{relative}"
