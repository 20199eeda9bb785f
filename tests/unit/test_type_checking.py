"""The tests and the benchmarks are type-checked like the code, and a ``type: ignore``
comment in them says why it is there (issue 13)."""

from __future__ import annotations

import io
import re
import tokenize
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: an ignore comment, and after it (optionally its error codes, then) what follows
IGNORE = re.compile(r"#\s*type:\s*ignore(?:\[[^\]]*\])?(?P<after>.*)")


def unexplained_ignores(source: str) -> list[int]:
    """Lines of ``source`` with a ``type: ignore`` comment that no reason comment follows."""
    lines = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        found = IGNORE.search(token.string) if token.type == tokenize.COMMENT else None
        if found and not re.match(r"\s*#\s*\S", found.group("after")):
            lines.append(token.start[0])
    return lines


def test_a_bare_ignore_is_told_from_one_with_its_reason() -> None:
    ignore = "# type" + ": ignore"  # not written whole, so this file's own comments stay clean
    source = (
        f"a = 1  {ignore}[misc]\n"
        f"b = 2  {ignore}\n"
        f"c = 3  {ignore}[misc]  # frozen is the point\n"
        f"d = '{ignore}'  # in a string, not a comment\n"
    )
    assert unexplained_ignores(source) == [1, 2]


def test_every_type_ignore_in_the_tests_and_the_benchmarks_says_why() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for folder in ("tests", "bench")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for line in unexplained_ignores(path.read_text(encoding="utf-8"))
    ]
    assert found == [], "type it properly, or say after the ignore why it must stay"


def test_mypy_checks_the_tests_and_the_benchmarks() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = config["tool"]["mypy"]["packages"]
    assert {"tests", "bench"} <= set(packages)
    assert (ROOT / "bench" / "__init__.py").is_file(), "mypy checks bench as a package"
