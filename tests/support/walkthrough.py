"""The README's walkthrough "One client from referral to closure", read from README.md.

The section is the one place the steps are written: a table of steps (role,
organisation, call, date rule), then one ``### N. title`` heading per step with its
fenced ``sh`` blocks. Step 0 signs the tokens. This module reads all of it so that a
unit test can check the table against the blocks (each step's calls are made with the
token of the role its row names) and an end-to-end test can run the blocks as written.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## One client from referral to closure"
#: the addresses `reitti up` serves on by default, as the walkthrough writes them
DEFAULT_URLS = {
    "intake": "http://127.0.0.1:8001",
    "guidance": "http://127.0.0.1:8002",
    "reporting": "http://127.0.0.1:8003",
}

_FENCE = re.compile(r"^```sh\n(.*?)^```$", re.MULTILINE | re.DOTALL)
_HEADING = re.compile(r"^### (\d+)\. (.+)$", re.MULTILINE)
_TOKEN = re.compile(
    r"^(?P<var>[A-Z_]+)=\$\(reitti token --role (?P<role>\S+) --person \S+"
    r" --organisation (?P<org>[^\s)]+)\)$",
    re.MULTILINE,
)
_CODE = re.compile(r"`([^`]*)`")


class WalkthroughError(AssertionError):
    """The section is not in the shape this module reads."""


@dataclass(frozen=True)
class Row:
    """One row of the step table."""

    number: int
    name: str
    role: str
    organisation: str


@dataclass(frozen=True)
class Step:
    """One ``### N. title`` of the section and the shell of its ``sh`` blocks."""

    number: int
    title: str
    shell: str


@dataclass(frozen=True)
class Token:
    role: str
    organisation: str


@dataclass(frozen=True)
class Walkthrough:
    rows: tuple[Row, ...]
    steps: tuple[Step, ...]
    #: step 0's token variables (``ADVISOR``) and whom they sign for
    tokens: dict[str, Token]

    def script(self) -> str:
        """Every step's shell, in order, as one script."""
        return "\n".join(f"# step {s.number}. {s.title}\n{s.shell}" for s in self.steps)

    def tokens_used(self, step: Step) -> set[str]:
        """The token variables ``step`` calls with."""
        return {name for name in self.tokens if re.search(rf'"\${name}"', step.shell)}


def section(readme: str) -> str:
    """The walkthrough's text, up to the next ``## `` heading."""
    start = readme.find(SECTION + "\n")
    if start < 0:
        raise WalkthroughError(f"README.md has no section {SECTION!r}")
    end = readme.find("\n## ", start + len(SECTION))
    return readme[start : end if end >= 0 else len(readme)]


def _rows(text: str) -> tuple[Row, ...]:
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("| ") or len(cells) != 5 or not re.match(r"\d+\. ", cells[0]):
            continue
        number, _, name = cells[0].partition(". ")
        role = _CODE.findall(cells[1])
        org = _CODE.findall(cells[2])
        rows.append(Row(int(number), name, role[0] if role else "", org[0] if org else ""))
    return tuple(rows)


def _steps(text: str) -> tuple[Step, ...]:
    headings = list(_HEADING.finditer(text))
    steps = []
    for here, after in zip(headings, [*headings[1:], None], strict=True):
        body = text[here.end() : after.start() if after else len(text)]
        blocks = _FENCE.findall(body)
        if not blocks:
            raise WalkthroughError(f"step {here.group(1)} ({here.group(2)}) has no ```sh block")
        steps.append(Step(int(here.group(1)), here.group(2).strip(), "".join(blocks)))
    return tuple(steps)


def parse(readme: str) -> Walkthrough:
    text = section(readme)
    steps = _steps(text)
    if not steps or steps[0].number != 0:
        raise WalkthroughError("the walkthrough starts with step 0, which signs the tokens")
    tokens = {m["var"]: Token(m["role"], m["org"]) for m in _TOKEN.finditer(steps[0].shell)}
    return Walkthrough(rows=_rows(text), steps=steps, tokens=tokens)


def read() -> Walkthrough:
    return parse(README.read_text(encoding="utf-8"))


def runnable(script: str, urls: dict[str, str], bin_dir: Path) -> str:
    """``script`` against services at ``urls`` (service -> base URL), with ``bin_dir`` (the
    virtual environment's commands: ``reitti``, ``python``) first on the path, as an active
    environment has it; in bash's strict mode, so the first failing call stops it."""
    for service, default in DEFAULT_URLS.items():
        if default not in script:
            raise WalkthroughError(f"the walkthrough never names {service} at {default}")
        script = script.replace(default, urls[service])
    return (
        f'set -euo pipefail\nshopt -s inherit_errexit\nexport PATH={shlex.quote(str(bin_dir))}:"$PATH"\n'
        + script
    )
