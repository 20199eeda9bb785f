"""Statistical disclosure control, tested as an attacker would use it: from every figure a
table publishes (every cell and every margin), no hidden cell can be worked out.

The attacker here is independent of the protection: exact linear algebra over the
rationals. A hidden figure is recoverable exactly when its row (which inner cells it
sums) lies in the span of the rows of the figures shown; the test solves that for every
hidden figure of many random tables and of the seed's small municipalities.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping, Sequence

import pytest

from services.reporting.disclosure_control import TOTAL, ProtectedTable, protect, with_margins
from tests.support.disclosure_attack import possible_values, recoverable, small_shown


def random_table(rng: random.Random, shape: Sequence[int]) -> dict[tuple[int, ...], int]:
    cells = itertools.product(*[range(n) for n in shape])
    # mostly small counts with zeros, as a small municipality's year looks
    return {c: rng.choice((0, 0, 1, 1, 2, 3, 4, 7, 12)) for c in cells}


def dims_of(shape: Sequence[int]) -> list[list[int]]:
    return [list(range(n)) for n in shape]


@pytest.mark.parametrize("shape", [(5,), (3, 4), (4, 2), (2, 3, 4), (3, 3, 3), (1, 4, 3), (2, 1, 5)])
@pytest.mark.parametrize("seed", range(12))
def test_no_small_cell_is_shown_and_no_hidden_one_can_be_worked_out(
    shape: tuple[int, ...], seed: int
) -> None:
    rng = random.Random(f"{shape}-{seed}")
    table = protect(dims_of(shape), random_table(rng, shape), 3)
    assert small_shown(table, 3) == []
    assert recoverable(table) == []


def test_the_seeds_small_municipality_shows_none_of_its_one_one_one() -> None:
    """Pertunmaa's 2010 outcomes were 1 / 1 / 1 out of 3; Mikkeli's are large."""
    outcomes = ("education", "unemployed", "interrupted", "open_labour_market")
    inner = {
        ("Pertunmaa", "education"): 1,
        ("Pertunmaa", "unemployed"): 1,
        ("Pertunmaa", "interrupted"): 1,
        ("Mikkeli", "education"): 9,
        ("Mikkeli", "unemployed"): 8,
        ("Mikkeli", "interrupted"): 6,
        ("Mikkeli", "open_labour_market"): 7,
    }
    table = protect([("Mikkeli", "Pertunmaa"), outcomes], inner, 3)
    assert all(table.value("Pertunmaa", o) is None for o in outcomes[:3])
    # Pertunmaa's total of 3 may stay, and Mikkeli's large cells mostly do
    assert table.value("Mikkeli", "open_labour_market") == 7
    assert recoverable(table) == []


def test_a_cell_hidden_alone_would_be_given_back_by_subtraction() -> None:
    """The attacker is able: hiding only the small cells leaves them recoverable."""
    inner = {(0, 0): 1, (0, 1): 5, (1, 0): 6, (1, 1): 7}
    values = with_margins([[0, 1], [0, 1]], inner)
    primary_only = ProtectedTable(((0, 1), (0, 1)), values, frozenset({(0, 0)}))
    assert recoverable(primary_only) == [(0, 0)]
    assert recoverable(protect([[0, 1], [0, 1]], inner, 3)) == []


def test_every_query_of_a_table_hides_the_same_cells() -> None:
    inner = {(2010, "Pertunmaa"): 2, (2010, "Mikkeli"): 40, (2011, "Mikkeli"): 30, (2011, "Pertunmaa"): 5}
    dims: list[list[int | str]] = [[2010, 2011], ["Mikkeli", "Pertunmaa"]]
    first, second = protect(dims, inner, 3), protect(dims, dict(reversed(inner.items())), 3)
    assert first.hidden == second.hidden and (2010, "Pertunmaa") in first.hidden


def test_threshold_one_hides_nothing_and_unknown_indexes_count_nothing() -> None:
    inner: Mapping[tuple[int, int], int] = {(0, 0): 1, (0, 1): 2}
    table = protect([[0], [0, 1]], inner, 1)
    assert table.hidden == frozenset()
    assert table.value(0, TOTAL) == 3
    assert table.value(1999, TOTAL) == 0
    assert table.exact(0, 0) == 1


@pytest.mark.parametrize("shape", [(4,), (2, 3), (3, 2), (2, 2, 2)])
@pytest.mark.parametrize("seed", range(8))
def test_no_hidden_cell_is_pinned_down_by_knowing_counts_are_never_negative(
    shape: tuple[int, ...], seed: int
) -> None:
    rng = random.Random(f"bounds-{shape}-{seed}")
    inner = {c: rng.choice((0, 0, 0, 1, 1, 2, 4, 6)) for c in itertools.product(*[range(n) for n in shape])}
    table = protect(dims_of(shape), inner, 3)
    pinned = {cell: values for cell, values in possible_values(table).items() if len(values) < 2}
    assert pinned == {}
