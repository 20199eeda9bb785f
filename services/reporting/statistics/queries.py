"""The statistics queries per figure family (luvut): intake, shares, caseloads, waits,
durations, transfers, deadlines, services and cost, each from its one table."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from decimal import Decimal

import asyncpg

from contracts.guidance import Outcome
from contracts.intake import ReferralSource
from services.reporting import figures
from services.reporting.disclosure_control import TOTAL, protect
from services.reporting.facts import TRANSFER_STATES, CaseFacts
from services.reporting.partitions import NOT_BY_YEAR, Metric
from services.reporting.statistics.cost import COST_ASSUMPTION, cost_basis
from services.reporting.statistics.models import (
    PART,
    REST,
    CaseloadBand,
    Caseloads,
    Deadlines,
    DeadlineStatus,
    Durations,
    GuideCaseload,
    IntakeAgainstTarget,
    IntakeRow,
    MunicipalCost,
    MunicipalCostRow,
    ServicesUsed,
    Shares,
    SubsidyDays,
    Transfers,
    Waiting,
    WaitingForGuide,
    WaitingTimes,
)
from services.reporting.statistics.tables import Cells, StatisticsTables
from services.rules import caseload


class Statistics(StatisticsTables):
    """The statistics queries against one reporting schema.

    ``hide_small`` (each query's keyword) is for callers without access to any client's
    data: their figures are protected by statistical disclosure control. Each figure comes
    from the one table it belongs to, read whole, so every query of it hides the same
    cells and no two answers can be subtracted into a hidden one."""

    async def referral_years(self, conn: asyncpg.Connection) -> list[int]:
        return [r["year"] for r in await conn.fetch(self.sql.referral_years)]

    async def years(self, conn: asyncpg.Connection, metric: Metric) -> list[int]:
        """The years that have counts of ``metric``."""
        return [r["year"] for r in await conn.fetch(self.sql.metric_years, metric.value)]

    async def target(
        self, conn: asyncpg.Connection, *, year: int, as_of: date | None
    ) -> figures.TargetSetting | None:
        """The steering group's intake target for ``year`` in force on ``as_of`` (the
        latest setting when None), from the settings reporting holds (IntakeTargetSet)."""
        rows = await conn.fetch(self.sql.targets, year)
        return figures.target_in_force(
            (
                figures.TargetSetting(
                    set_on=r["set_on"],
                    order=r["stream_version"],
                    target=r["target"],
                    municipalities=None if r["municipalities"] is None else json.loads(r["municipalities"]),
                )
                for r in rows
            ),
            as_of,
        )

    async def intake(
        self, conn: asyncpg.Connection, *, year: int, as_of: date | None = None, hide_small: bool = False
    ) -> IntakeAgainstTarget:
        cells = await self._referrals(conn, hide_small=hide_small)
        setting = await self.target(conn, year=year, as_of=as_of)
        target = None if setting is None else setting.target
        targets = (
            {}
            if setting is None
            else figures.municipal_targets(setting, self.config.populations, self.config.municipalities)
        )
        seen = [str(m) for m in cells.table.dims[1] if cells.table.exact(year, m, TOTAL)]
        rows = []
        for m in self._municipalities([*seen, *targets]):
            n = cells(year, m, TOTAL)
            rows.append(
                IntakeRow(
                    municipality=m,
                    new_clients=n,
                    target=targets.get(m),
                    share_of_target=None if n is None else figures.share(n, targets.get(m) or 0),
                )
            )
        total = cells(year, TOTAL, TOTAL)
        return IntakeAgainstTarget(
            year=year,
            new_clients=total,
            target=target,
            target_set_on=None if setting is None else setting.set_on,
            target_apportioned=None if setting is None else setting.municipalities is None,
            share_of_target=None if total is None else figures.share(total, target or 0),
            municipalities=rows,
        )

    async def referral_sources(
        self,
        conn: asyncpg.Connection,
        *,
        year: int | None,
        municipality: str | None,
        hide_small: bool = False,
    ) -> Shares:
        cells = await self._referrals(conn, hide_small=hide_small)
        counts = {s.value: cells(year, municipality, s.value) for s in ReferralSource}
        return Shares.of(counts, cells(year, municipality, TOTAL), year=year, municipality=municipality)

    async def outcomes(
        self,
        conn: asyncpg.Connection,
        *,
        year: int | None,
        municipality: str | None,
        hide_small: bool = False,
    ) -> Shares:
        cells, _ = await self._closures(conn, hide_small=hide_small)
        counts = {o.value: cells(year, municipality, o.value) for o in Outcome}
        return Shares.of(counts, cells(year, municipality, TOTAL), year=year, municipality=municipality)

    async def subsidy_days(
        self,
        conn: asyncpg.Connection,
        *,
        year: int | None,
        municipality: str | None,
        hide_small: bool = False,
    ) -> SubsidyDays:
        known_rows = [
            (r["year"], r["municipality"], r["n"])
            for r in await conn.fetch(self.sql.metric_cells, Metric.SUBSIDY_DAYS_KNOWN.value)
        ]
        cells = self._cells(
            await self._part_of(conn, known_rows, Metric.OVER_500_DAYS), [PART, REST], hide_small=hide_small
        )
        known, over = cells(year, municipality, TOTAL), cells(year, municipality, PART)
        return SubsidyDays(
            year=year,
            municipality=municipality,
            clients_with_known_days=known,
            over_500_days=over,
            share_over_500_days=None if known is None or over is None else figures.share(over, known),
        )

    async def caseloads(
        self, conn: asyncpg.Connection, *, municipality: str | None, show_staff: bool = True
    ) -> Caseloads:
        """A guide's workload, not a client's figure: never hidden. Guides are named only
        with ``show_staff``; the bands (services/rules/caseload.py) are anonymous."""
        active = await self._buckets(conn, Metric.ACTIVE_CASELOAD, NOT_BY_YEAR, municipality)
        limit = self.config.caseload_limit
        guides = [
            GuideCaseload(guide_person_id=g, active_clients=n, over_limit=caseload.over_limit(n, limit))
            for g, n in sorted(active.items(), key=lambda item: (-item[1], item[0]))
        ]
        in_band = Counter(caseload.caseload_band(g.active_clients, limit) for g in guides)
        return Caseloads(
            municipality=municipality,
            limit=limit,
            staff_shown=show_staff,
            guides=guides if show_staff else [],
            bands=[CaseloadBand(band=b, guides=in_band[b]) for b in caseload.caseload_bands(limit)],
            guides_over_limit=sum(g.over_limit for g in guides),
        )

    async def waiting_for_guide(
        self,
        conn: asyncpg.Connection,
        *,
        year: int | None,
        municipality: str | None,
        hide_small: bool = False,
    ) -> WaitingForGuide:
        cells = await self._metric(conn, Metric.WAITING_FOR_GUIDE, hide_small=hide_small)
        return WaitingForGuide(year=year, municipality=municipality, clients=cells(year, municipality))

    async def waiting_times(
        self,
        conn: asyncpg.Connection,
        *,
        year: int | None,
        municipality: str | None,
        hide_small: bool = False,
    ) -> WaitingTimes:
        async def waiting(metric: Metric) -> Waiting:
            clients = (await self._metric(conn, metric, hide_small=hide_small))(year, municipality)
            if clients is None:
                return Waiting(clients=None, median_days=None, mean_days=None)
            buckets = await self._buckets(conn, metric, year, municipality)
            found = figures.spread({int(days): n for days, n in buckets.items()})
            return Waiting(clients=found.clients, median_days=found.median_days, mean_days=found.mean_days)

        return WaitingTimes(
            year=year,
            municipality=municipality,
            referral_to_assessment=await waiting(Metric.WAIT_REFERRAL_TO_ASSESSMENT),
            assessment_to_named_guide=await waiting(Metric.WAIT_ASSESSMENT_TO_GUIDE),
        )

    async def durations(
        self,
        conn: asyncpg.Connection,
        *,
        year: int | None,
        municipality: str | None,
        hide_small: bool = False,
    ) -> Durations:
        # The closed count is the outcome table's total too: the two are protected together.
        _, split = await self._closures(conn, hide_small=hide_small)
        closed, over = split(year, municipality, TOTAL), split(year, municipality, PART)
        return Durations(
            year=year,
            municipality=municipality,
            closed=closed,
            over_three_years=over,
            share_over_three_years=None if closed is None or over is None else figures.share(over, closed),
        )

    async def transfers(
        self,
        conn: asyncpg.Connection,
        *,
        year: int | None,
        municipality: str | None,
        hide_small: bool = False,
    ) -> Transfers:
        # One table of the transfers by where they stand: its total is the transfers made.
        states = await self._metric(conn, Metric.TRANSFER_STATE, TRANSFER_STATES, hide_small=hide_small)
        back = await self._metric(conn, Metric.RETURNED, hide_small=hide_small)
        return Transfers(
            year=year,
            municipality=municipality,
            transferred_to_social_services=states(year, municipality, TOTAL),
            returned_from_social_services=back(year, municipality),
            by_state={state: states(year, municipality, state) for state in TRANSFER_STATES},
        )

    async def deadlines(
        self,
        conn: asyncpg.Connection,
        *,
        year: int | None,
        municipality: str | None,
        as_of: date,
        hide_small: bool = False,
    ) -> Deadlines:
        async def status(metric: Metric) -> DeadlineStatus:
            rows = await conn.fetch(self.sql.metric_cells, metric.value)
            cells = self._cells(
                (
                    (r["year"], r["municipality"], figures.deadline_state(r["bucket"], as_of), r["n"])
                    for r in rows
                ),
                figures.DEADLINE_STATES,
                hide_small=hide_small,
            )
            counts = {state: cells(year, municipality, state) for state in figures.DEADLINE_STATES}
            return DeadlineStatus(due=cells(year, municipality, TOTAL), **counts)

        return Deadlines(
            year=year,
            municipality=municipality,
            as_of=as_of,
            assessment=await status(Metric.ASSESSMENT_DEADLINE),
            plan=await status(Metric.PLAN_DEADLINE),
        )

    async def services_used(
        self, conn: asyncpg.Connection, *, year: int | None, municipality: str, hide_small: bool = False
    ) -> ServicesUsed:
        cells = await self._metric(conn, Metric.MEASURES, [], hide_small=hide_small)
        kinds = sorted(str(k) for k in cells.table.dims[2] if cells.table.exact(year, municipality, k))
        return ServicesUsed(
            year=year,
            municipality=municipality,
            measures_by_kind={k: cells(year, municipality, k) for k in kinds},
        )

    async def municipal_cost(
        self,
        conn: asyncpg.Connection,
        *,
        year: int,
        municipality: str | None,
        as_of: date,
        daily_amount: Decimal | None = None,
        hide_small: bool = False,
    ) -> MunicipalCost:
        amount = self.config.subsidy_daily_amount if daily_amount is None else daily_amount
        # Every municipality's row is computed, so the hidden ones are the same whichever is asked.
        cases = [CaseFacts.model_validate_json(r[0]) for r in await conn.fetch(self.sql.cases, None)]
        costs = figures.municipal_costs(cases, year=year, as_of=as_of, daily_amount=amount)
        table = protect(
            [[c.municipality for c in costs]],
            {(c.municipality,): c.clients for c in costs},
            self.config.min_cell,
        )
        cells = Cells(table, hide_small=hide_small)
        rows = [
            MunicipalCostRow(
                municipality=c.municipality,
                clients=cells(c.municipality),
                paid_days=None if cells(c.municipality) is None else c.paid_days,
                municipal_cost=None if cells(c.municipality) is None else c.municipal_cost,
            )
            for c in costs
            if municipality is None or c.municipality == municipality
        ]
        if municipality is None:
            total = None if cells(TOTAL) is None else sum((c.municipal_cost for c in costs), Decimal("0.00"))
        else:
            total = rows[0].municipal_cost if rows else Decimal("0.00")
        return MunicipalCost(
            year=year,
            as_of=as_of,
            daily_amount=amount,
            assumption=COST_ASSUMPTION,
            basis=cost_basis(year, as_of),
            municipalities=rows,
            total=total,
        )
