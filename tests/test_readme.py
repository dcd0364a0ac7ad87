"""The README's set-up commands are the ones CI runs."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_commands():
    readme = ROOT.joinpath("README.md").read_text()
    commands = [line for line in ROOT.joinpath(".ci/run").read_text().splitlines()
                if line.startswith("python -m ")]
    assert [c.split()[2] for c in commands] == ["pip", "pytest"]
    for command in commands:
        assert f"\n{command}\n" in readme
