"""CI runs exactly the README's test command (the second of the two commands)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Test it\n", 1)[1]
    block = re.search(r"```sh\n(.*?)\n```", section, flags=re.S)
    assert block, "the README's 'Test it' section has a sh block"
    return block.group(1).strip()


def test_ci_runs_the_readme_test_command_and_lint_and_types_are_steps_of_it() -> None:
    command = readme_test_command()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci[-1] == command
    steps = [step.strip() for step in command.split("&&")]
    assert {"ruff check .", "ruff format --check .", "mypy"} <= set(steps)
    assert steps[-2:] == ['python -m pytest -n 2 -m "not solo"', "python -m pytest -m solo"], (
        "the tests run last, everything included: two at a time, then the solo ones alone"
    )
