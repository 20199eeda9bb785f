"""The project's modules, each read and parsed once per test session: the tests that
check a rule over every module (layers, one SQL style, one config) share the trees
instead of each parsing the whole code base again. The trees are only read, never changed."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def python_files(package: str) -> tuple[Path, ...]:
    """Every ``.py`` file under ``package`` (a top-level folder of the repository), sorted."""
    return tuple(sorted((ROOT / package).rglob("*.py")))


@functools.cache
def source(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@functools.cache
def tree(path: Path) -> ast.Module:
    """The parsed module at ``path``: shared, so never modify it."""
    return ast.parse(source(path))
