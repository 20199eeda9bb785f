"""One way of writing the commands: the README says once to activate the virtual
environment, and from then on the README, the documents and the command's own help and
messages write ``reitti``, ``python`` and ``pip``, never ``.venv/bin/...`` (docs/adr/0033)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: the README's one sentence for a shell where the environment is not active
NOT_ACTIVE = (
    "In a shell where it is not active, write\n"
    "`.venv/bin/reitti` for `reitti` and `.venv/bin/python` for `python`."
)
VENV_COMMAND = re.compile(r"\.venv/bin/(?!activate\b)[\w.-]+")


def documents() -> list[Path]:
    found = [
        ROOT / "README.md",
        *sorted((ROOT / "docs").rglob("*.md")),
        *sorted((ROOT / "bench").rglob("*.md")),
    ]
    for package in ("reitti", "runtime", "services", "contracts"):
        found += sorted((ROOT / package).rglob("*.py"))
    return found


def test_the_readme_says_once_to_activate_the_environment_and_how_to_do_without() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    run_it = readme[readme.index("## Run it") :]
    assert run_it.index(". .venv/bin/activate") < run_it.index("reitti token"), "activation comes first"
    assert readme.count(NOT_ACTIVE) == 1


def test_no_document_or_message_writes_a_command_of_the_environment_by_its_path() -> None:
    offenders = []
    for path in documents():
        text = path.read_text(encoding="utf-8")
        if path.name == "README.md" and path.parent == ROOT:
            text = text.replace(NOT_ACTIVE, "")
        for number, line in enumerate(text.splitlines(), 1):
            if VENV_COMMAND.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "write `reitti`/`python` (the environment is active):\n" + "\n".join(offenders)
