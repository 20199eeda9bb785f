"""An attacker on published statistics, independent of the protection that hides them:
exact linear algebra over the rationals, and a search of every table of whole counts of
zero or more that publishes the same figures. Used by the unit tests of
services/reporting/disclosure_control.py and by the end-to-end tests of the API."""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Mapping
from fractions import Fraction

from services.reporting.disclosure_control import TOTAL, ProtectedTable


def rows_of(table: ProtectedTable) -> tuple[list[tuple[Hashable, ...]], dict[tuple[object, ...], list[int]]]:
    """The inner cells (the unknowns), and for every published position which of them it sums."""
    inner = list(itertools.product(*table.dims))
    index = {cell: i for i, cell in enumerate(inner)}
    rows: dict[tuple[object, ...], list[int]] = {}
    for cell in table.values:
        rows[cell] = [
            index[c] for c in inner if all(p is TOTAL or p == q for p, q in zip(cell, c, strict=True))
        ]
    return inner, rows


def recoverable(table: ProtectedTable) -> list[tuple[object, ...]]:
    """The hidden figures that the shown ones determine (Gaussian elimination over Q)."""
    inner, rows = rows_of(table)
    n = len(inner)
    basis: dict[int, list[Fraction]] = {}  # pivot column -> reduced row

    def reduce(vector: list[Fraction]) -> list[Fraction]:
        v = vector[:]
        for pivot, row in basis.items():
            if v[pivot]:
                factor = v[pivot] / row[pivot]
                v = [a - factor * b for a, b in zip(v, row, strict=True)]
        return v

    for cell, members in rows.items():
        if cell in table.hidden:
            continue
        v = reduce([Fraction(1) if i in members else Fraction(0) for i in range(n)])
        pivot = next((i for i, a in enumerate(v) if a), None)
        if pivot is not None:
            for other, row in basis.items():
                if row[pivot]:
                    factor = row[pivot] / v[pivot]
                    basis[other] = [a - factor * b for a, b in zip(row, v, strict=True)]
            basis[pivot] = v
    found = []
    for cell in table.hidden:
        members = rows[cell]
        if not any(reduce([Fraction(1) if i in members else Fraction(0) for i in range(n)])):
            found.append(cell)
    return found


def small_shown(table: ProtectedTable, min_cell: int) -> list[tuple[object, ...]]:
    return [c for c, v in table.values.items() if 0 < v < min_cell and c not in table.hidden]


def possible_values(table: ProtectedTable) -> dict[tuple[object, ...], set[int]]:
    """Every value each hidden figure can take in some table of whole counts of zero or
    more that publishes the same figures: an attacker who also knows no count is negative."""
    inner, rows = rows_of(table)
    shown = {cell: table.values[cell] for cell in table.values if cell not in table.hidden}
    unknown = [i for i, cell in enumerate(inner) if cell in table.hidden]
    known = {i: table.values[cell] for i, cell in enumerate(inner) if cell not in table.hidden}
    bound = max(table.values.values())
    found: dict[tuple[object, ...], set[int]] = {cell: set() for cell in table.hidden}

    def consistent(values: Mapping[int, int], complete: bool) -> bool:
        for cell, total in shown.items():
            members = rows[cell]
            if complete or all(i in values for i in members):
                if sum(values[i] for i in members) != total:
                    return False
            elif sum(values.get(i, 0) for i in members) > total:
                return False
        return True

    def search(k: int, values: dict[int, int]) -> None:
        if not consistent(values, False):
            return
        if k == len(unknown):
            if consistent(values, True):
                for cell in table.hidden:
                    found[cell].add(sum(values[i] for i in rows[cell]))
            return
        for v in range(bound + 1):
            values[unknown[k]] = v
            search(k + 1, values)
        del values[unknown[k]]

    search(0, dict(known))
    return found
