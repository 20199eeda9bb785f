"""No module over 400 lines without a reason written at its top (issue 13).

A module in runtime/, services/, contracts/ or reitti/ longer than :data:`LIMIT` lines
must say why in its first :data:`HEAD` lines, as "Over 400 lines because ...".
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("runtime", "services", "contracts", "reitti")
LIMIT = 400
HEAD = 30
REASON = "Over 400 lines because"


def unexplained(path: Path) -> bool:
    """Whether ``path`` is over the limit with no reason in its first lines."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return len(lines) > LIMIT and not any(REASON in line for line in lines[:HEAD])


def modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_every_long_module_says_why() -> None:
    found = modules()
    assert len(found) > 100, "the packages' modules are found"
    long = [p.relative_to(ROOT).as_posix() for p in found if unexplained(p)]
    assert not long, f"over {LIMIT} lines with no {REASON!r} in the first {HEAD} lines: {long}"


def test_a_long_module_needs_the_reason_near_its_top(tmp_path: Path) -> None:
    body = ["x = 1"] * LIMIT
    short = tmp_path / "short.py"
    short.write_text("\n".join(body) + "\n")
    long = tmp_path / "long.py"
    long.write_text("\n".join([*body, "y = 2"]) + "\n")
    explained = tmp_path / "explained.py"
    explained.write_text("\n".join([f'"""{REASON} it must be."""', *body]) + "\n")
    too_late = tmp_path / "too_late.py"
    too_late.write_text("\n".join([*body[:HEAD], f"# {REASON} it must be.", *body]) + "\n")
    assert not unexplained(short)
    assert unexplained(long)
    assert not unexplained(explained)
    assert unexplained(too_late)
