"""The statistics' tables (taulukot) built for disclosure control: each figure's one
table read whole and protected (services/reporting/disclosure_control.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

import asyncpg

from contracts.guidance import Outcome
from contracts.intake import ReferralSource
from services.reporting.config import ReportingConfig
from services.reporting.disclosure_control import TOTAL, ProtectedTable, protect, protect_linked
from services.reporting.partitions import Metric
from services.reporting.statistics.models import (
    PART,
    REST,
    Count,
)
from services.reporting.statistics.sql import StatisticsSql


class Cells:
    """One table's published cells for one caller: every value for a role with client
    access, the protected ones otherwise (services/reporting/disclosure_control.py)."""

    def __init__(self, table: ProtectedTable, *, hide_small: bool) -> None:
        self.table = table
        self.hide_small = hide_small

    def __call__(self, *cell: object) -> Count:
        return self.table.value(*cell) if self.hide_small else self.table.exact(*cell)


class StatisticsTables:
    """The tables the statistics queries read, against one reporting schema."""

    def __init__(self, schema: str, config: ReportingConfig) -> None:
        self.config = config
        self.sql = StatisticsSql(schema)

    def _municipalities(self, seen: Iterable[str]) -> tuple[str, ...]:
        return tuple(self.config.municipalities) + tuple(sorted(set(seen) - set(self.config.municipalities)))

    def _table(
        self, rows: Iterable[tuple[int, str, str, int]], buckets: Sequence[str] | None
    ) -> tuple[list[Sequence[int | str]], dict[tuple[int | str, ...], int]]:
        """The dimensions and inner cells of (year, municipality[, bucket]) from ``rows``;
        without ``buckets`` the bucket is summed away."""
        inner: dict[tuple[int | str, ...], int] = defaultdict(int)
        years: set[int] = set()
        municipalities: set[str] = set()
        seen_buckets: set[str] = set()
        for year, municipality, bucket, n in rows:
            years.add(year)
            municipalities.add(municipality)
            seen_buckets.add(bucket)
            inner[(year, municipality) if buckets is None else (year, municipality, bucket)] += n
        dims: list[Sequence[int | str]] = [sorted(years), self._municipalities(municipalities)]
        if buckets is not None:
            dims.append(tuple(buckets) + tuple(sorted(seen_buckets - set(buckets))))
        return dims, inner

    def _cells(
        self,
        rows: Iterable[tuple[int, str, str, int]],
        buckets: Sequence[str] | None,
        *,
        hide_small: bool,
    ) -> Cells:
        dims, inner = self._table(rows, buckets)
        return Cells(protect(dims, inner, self.config.min_cell), hide_small=hide_small)

    async def _part_of(
        self, conn: asyncpg.Connection, whole: Sequence[tuple[int, str, int]], part: Metric
    ) -> list[tuple[int, str, str, int]]:
        """Rows of a {part, rest} table: ``part`` (a subset of ``whole``, for example the
        clients over 500 days among those whose days are known) and the rest of the whole.
        One table, so that the whole minus the part is protected like any other cell."""
        parts: dict[tuple[int, str], int] = defaultdict(int)
        for r in await conn.fetch(self.sql.metric_cells, part.value):
            parts[(r["year"], r["municipality"])] += r["n"]
        wholes: dict[tuple[int, str], int] = defaultdict(int)
        for year, municipality, n in whole:
            wholes[(year, municipality)] += n
        return [
            row
            for key in sorted(wholes.keys() | parts.keys())
            for row in ((*key, PART, parts[key]), (*key, REST, wholes[key] - parts[key]))
        ]

    async def _closures(self, conn: asyncpg.Connection, *, hide_small: bool) -> tuple[Cells, Cells]:
        """The outcome table and the {over three years, rest} table of closures. Both
        publish the closures per year and municipality, so they are protected together
        (:func:`protect_linked`): a total hidden in one is hidden in the other."""
        closed = [
            (r["year"], r["municipality"], r["bucket"], r["n"])
            for r in await conn.fetch(self.sql.metric_cells, Metric.CLOSED.value)
        ]
        durations = await self._part_of(
            conn, [(y, m, n) for y, m, _, n in closed], Metric.CLOSED_OVER_THREE_YEARS
        )
        outcome_dims, outcome_inner = self._table(closed, [o.value for o in Outcome])
        duration_dims, duration_inner = self._table(durations, [PART, REST])
        # the same years and municipalities in both, so a shared total sits at one position
        years = sorted({*outcome_dims[0], *duration_dims[0]})
        municipalities = self._municipalities([str(m) for m in (*outcome_dims[1], *duration_dims[1])])
        outcomes, split = protect_linked(
            ([years, municipalities, outcome_dims[2]], outcome_inner),
            ([years, municipalities, duration_dims[2]], duration_inner),
            self.config.min_cell,
            shared=lambda cell: cell[2] is TOTAL,
        )
        return Cells(outcomes, hide_small=hide_small), Cells(split, hide_small=hide_small)

    async def _metric(
        self,
        conn: asyncpg.Connection,
        metric: Metric,
        buckets: Sequence[str] | None = None,
        *,
        hide_small: bool,
    ) -> Cells:
        rows = await conn.fetch(self.sql.metric_cells, metric.value)
        return self._cells(
            ((r["year"], r["municipality"], r["bucket"], r["n"]) for r in rows),
            buckets,
            hide_small=hide_small,
        )

    async def _referrals(self, conn: asyncpg.Connection, *, hide_small: bool) -> Cells:
        rows = await conn.fetch(self.sql.referral_cells)
        return self._cells(
            ((r["year"], r["municipality"], r["bucket"], r["n"]) for r in rows),
            [s.value for s in ReferralSource],
            hide_small=hide_small,
        )

    async def _buckets(
        self, conn: asyncpg.Connection, metric: Metric, year: int | None, municipality: str | None
    ) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for r in await conn.fetch(self.sql.counts, metric.value, year, municipality):
            out[r["bucket"]] += r["n"]
        return dict(out)
