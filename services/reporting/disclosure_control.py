"""Statistical disclosure control: small cells the steering group never sees, and never
works out by subtraction (docs/adr/0023).

A table of counts (for example new clients by year, municipality and referral source) is
published with every margin: any position of a cell may be :data:`TOTAL`, the sum over
that dimension. A cell counting fewer than ``min_cell`` clients, but some, could point at
a person (Pertunmaa's three closures of 2010 ended 1 / 1 / 1), so it is *primary*
suppressed. Hiding it alone is not enough: its line's total minus the other cells shown
gives it back. So every primary cell is protected by a *hypercube*: for each dimension a
second index is chosen (another value or the margin), and all 2^d corners are hidden.

Why that cannot be undone: give each corner the sign ``+1`` or ``-1``, flipping it for
every dimension where the corner takes the second index, except that a margin index does
not flip it. Adding ``t`` times its sign to every corner keeps every published sum true
(each line through a corner meets exactly two corners, whose changes cancel, or add up in
the margin as they must), and changes no cell that is shown. A hypercube is only chosen
if ``t = +1`` or ``t = -1`` keeps every corner at zero or more, so at least two tables,
both possible, give every published figure, and they differ in the primary cell. The
search always finds one: take an inner cell of one client or more inside the primary
(the primary itself if it is inner), and as second indices its values where the primary
is a margin, and the margin elsewhere; every corner is then a margin of that cell.

The choice prefers hiding inner cells to hiding totals, then few cells, then small ones;
a cell hidden for an earlier primary costs nothing again. The result depends only on the
table, so every query of a table is answered with the same cells hidden.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

#: A position that stands for the total over its dimension.
TOTAL = None
#: The default threshold: a cell of 1 or 2 clients is never shown (``REITTI_MIN_CELL``).
DEFAULT_MIN_CELL = 3

Index = Hashable | None
Cell = tuple[Index, ...]


@dataclass(frozen=True)
class ProtectedTable:
    """A table's every cell and margin, and which of them are hidden."""

    dims: tuple[tuple[Hashable, ...], ...]
    values: Mapping[Cell, int]
    hidden: frozenset[Cell]

    def value(self, *cell: Index) -> int | None:
        """The published value of ``cell`` (:data:`TOTAL` for a margin): None if hidden.
        An index the table does not know counts nothing (0): no client has it."""
        key = self._key(cell)
        if key is None:
            return 0
        return None if key in self.hidden else self.values.get(key, 0)

    def exact(self, *cell: Index) -> int:
        """The true value, for roles that may see every cell."""
        key = self._key(cell)
        return 0 if key is None else self.values.get(key, 0)

    def is_hidden(self, *cell: Index) -> bool:
        key = self._key(cell)
        return key is not None and key in self.hidden

    def _key(self, cell: Sequence[Index]) -> Cell | None:
        if len(cell) != len(self.dims):
            raise ValueError(f"a cell of this table has {len(self.dims)} positions, not {len(cell)}")
        for index, dim in zip(cell, self.dims, strict=True):
            if index is not TOTAL and index not in dim:
                return None
        return tuple(cell)


def with_margins(dims: Sequence[Sequence[Hashable]], inner: Mapping[tuple[Any, ...], int]) -> dict[Cell, int]:
    """Every cell of the table with every margin: positions set to :data:`TOTAL` sum over
    their dimension. Inner cells not given count 0."""
    d = len(dims)
    values: dict[Cell, int] = {cell: 0 for cell in itertools.product(*[[*dim, TOTAL] for dim in dims])}
    for cell, n in inner.items():
        if len(cell) != d:
            raise ValueError(f"an inner cell of this table has {d} positions, not {len(cell)}")
        for mask in itertools.product((False, True), repeat=d):
            key = tuple(TOTAL if blank else index for index, blank in zip(cell, mask, strict=True))
            values[key] += n
    return values


def protect(
    dims: Sequence[Iterable[Hashable]],
    inner: Mapping[tuple[Any, ...], int],
    min_cell: int,
    *,
    also: Iterable[Cell] = (),
) -> ProtectedTable:
    """The table with every cell of 1 to ``min_cell - 1`` hidden, and the cells that would
    give one back by subtraction hidden with it (see the module's docstring). ``also``
    names cells to hide as if they were small: a figure another table publishes too, and
    hides there (:func:`protect_linked`)."""
    frozen_dims = tuple(tuple(dim) for dim in dims)
    items = tuple(sorted(((tuple(k), int(v)) for k, v in inner.items() if v), key=repr))
    return _protect(frozen_dims, items, min_cell, frozenset(also))


def protect_linked(
    first: tuple[Sequence[Iterable[Hashable]], Mapping[tuple[Any, ...], int]],
    second: tuple[Sequence[Iterable[Hashable]], Mapping[tuple[Any, ...], int]],
    min_cell: int,
    shared: Callable[[Cell], bool],
) -> tuple[ProtectedTable, ProtectedTable]:
    """Two tables that publish the same figures (the cells ``shared`` picks, at the same
    positions in both, for example the closures per year and municipality): each is
    protected, and a shared figure hidden in one is hidden in the other as if it were
    small there, until neither hides one the other shows."""
    also_first: set[Cell] = set()
    also_second: set[Cell] = set()
    while True:
        a = protect(*first, min_cell, also=also_first)
        b = protect(*second, min_cell, also=also_second)
        from_a = {c for c in a.hidden if shared(c)} - also_second
        from_b = {c for c in b.hidden if shared(c)} - also_first
        if not from_a and not from_b:
            return a, b
        also_second |= from_a
        also_first |= from_b


@lru_cache(maxsize=256)
def _protect(
    dims: tuple[tuple[Hashable, ...], ...],
    items: tuple[tuple[tuple[Hashable, ...], int], ...],
    min_cell: int,
    also: frozenset[Cell] = frozenset(),
) -> ProtectedTable:
    values = with_margins(dims, dict(items))
    if min_cell <= 1:
        return ProtectedTable(dims, values, frozenset())
    known = {c for c in also if c in values}
    primaries = sorted(
        {cell for cell, n in values.items() if 0 < n < min_cell} | {c for c in known if values[c] > 0},
        # inner cells first: their hypercubes often cover the small margins too
        key=lambda cell: (sum(i is TOTAL for i in cell), values[cell], repr(cell)),
    )
    # a figure hidden elsewhere that counts nobody is hidden here too (nothing to move)
    hidden: set[Cell] = {c for c in known if values[c] == 0}
    covered: set[Cell] = set(hidden)
    for primary in primaries:
        if primary in covered:
            continue  # already a corner of a hypercube that moves it
        corners = _cheapest_hypercube(dims, values, hidden, primary)
        hidden.update(corners)
        covered.update(corners)
    return ProtectedTable(dims, values, frozenset(hidden))


#: inner values tried per dimension for a hypercube's second index (besides the margin)
CANDIDATES_PER_DIMENSION = 3


def _cheapest_hypercube(
    dims: tuple[tuple[Hashable, ...], ...], values: Mapping[Cell, int], hidden: set[Cell], primary: Cell
) -> list[Cell]:
    d = len(dims)
    masks = list(itertools.product((False, True), repeat=d))
    best: tuple[tuple[int, int, int], list[Cell]] | None = None
    for second in itertools.product(*_candidates(dims, values, hidden, primary)):
        signs = [-1 if s is not TOTAL else 1 for s in second]
        corners: list[Cell] = []
        plus_ok = minus_ok = True
        for mask in masks:
            corner = tuple(s if m else p for p, s, m in zip(primary, second, mask, strict=True))
            if values[corner] < 1:
                sign = math.prod(sg for sg, m in zip(signs, mask, strict=True) if m)
                if sign > 0:
                    plus_ok = False
                else:
                    minus_ok = False
                if not (plus_ok or minus_ok):
                    break
            corners.append(corner)
        if not (plus_ok or minus_ok):
            continue
        new = [c for c in corners if c not in hidden]
        cost = (sum(TOTAL in c for c in new), len(new), sum(values[c] for c in new))
        if best is None or cost < best[0]:
            best = (cost, corners)
            if not new:
                break
    # Never None: see the module's docstring for the hypercube that always qualifies, and
    # :func:`_candidates`, which always offers its indices.
    assert best is not None
    return best[1]


def _candidates(
    dims: tuple[tuple[Hashable, ...], ...], values: Mapping[Cell, int], hidden: set[Cell], primary: Cell
) -> list[list[Index]]:
    """Per dimension, the second indices worth trying: the margin, the inner values whose
    neighbour of the primary is already hidden or small but not empty, and (where the
    primary is a margin) the values of its largest inner cell, which always qualify."""
    largest = max(
        (
            cell
            for cell in itertools.product(
                *[dim if p is TOTAL else (p,) for dim, p in zip(dims, primary, strict=True)]
            )
        ),
        key=lambda cell: values[cell],
    )
    out: list[list[Index]] = []
    for i, (dim, p) in enumerate(zip(dims, primary, strict=True)):
        neighbours = {j: (*primary[:i], j, *primary[i + 1 :]) for j in dim if j != p}
        inner: list[Index] = sorted(
            neighbours,
            key=lambda j: (neighbours[j] not in hidden, values[neighbours[j]] < 1, values[neighbours[j]]),
        )[:CANDIDATES_PER_DIMENSION]
        if p is TOTAL:
            if largest[i] not in inner:
                inner.append(largest[i])
            out.append(inner)
        else:
            out.append([*inner, TOTAL])
    return out
