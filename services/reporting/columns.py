"""Rows turned into the arrays a set-based statement unnests (``unnest($1::text[], ...)``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def columns_of(rows: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    """``rows`` (all of one width) as one list per column, in the rows' order."""
    return [list(column) for column in zip(*rows, strict=True)]
