"""The steering group's statistics, by year and municipality: aggregates only.

Each function reads the steering partition (or, for the subsidy cost, which grows every
day a relationship is open, the centre partition's facts) and returns a model the API
answers with and the dashboard draws. The arithmetic is in :mod:`services.reporting.figures`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import asyncpg
from pydantic import BaseModel, Field

from contracts.guidance import Outcome
from contracts.intake import ReferralSource
from runtime.db import quote_ident
from services.reporting import figures
from services.reporting.config import ReportingConfig
from services.reporting.facts import CaseFacts
from services.reporting.partitions import NOT_BY_YEAR, Metric

_COUNTS = """
SELECT year, municipality, bucket, n FROM {s}.steering_counts
WHERE metric = $1 AND ($2::int IS NULL OR year = $2) AND ($3::text IS NULL OR municipality = $3)
"""
_REFERRALS = """
SELECT municipality, source, sum(referred)::int AS referred FROM {s}.referrals_by_source
WHERE ($1::int IS NULL OR year = $1) AND ($2::text IS NULL OR municipality = $2)
GROUP BY municipality, source
"""
_REFERRAL_YEARS = "SELECT DISTINCT year FROM {s}.referrals_by_source ORDER BY year"
_METRIC_YEARS = "SELECT DISTINCT year FROM {s}.steering_counts WHERE metric = $1 AND year <> 0 ORDER BY year"
_CASES_WITH_SUBSIDY_DAYS = """
SELECT facts::text FROM {s}.centre_cases
WHERE ($1::text IS NULL OR municipality = $1)
  AND facts ->> 'referral_date' IS NOT NULL AND facts ->> 'subsidy_days' IS NOT NULL
ORDER BY client_id
"""


class IntakeRow(BaseModel):
    municipality: str
    new_clients: int
    target: int | None = Field(description="The year's target apportioned by population")
    share_of_target: float | None


class IntakeAgainstTarget(BaseModel):
    year: int
    new_clients: int
    target: int | None = Field(description="The steering group's intake target for the year")
    share_of_target: float | None
    municipalities: list[IntakeRow]


class Shares(BaseModel):
    year: int | None
    municipality: str | None
    total: int
    counts: dict[str, int]
    shares: dict[str, float] = Field(description="Fractions of the total, four decimals")

    @classmethod
    def of(cls, counts: dict[str, int], *, year: int | None, municipality: str | None) -> Shares:
        """The counts with their total and shares."""
        total = sum(counts.values())
        return cls(
            year=year, municipality=municipality, total=total, counts=counts, shares=figures.shares(counts)
        )


class SubsidyDays(BaseModel):
    year: int | None
    municipality: str | None
    clients_with_known_days: int
    over_500_days: int
    share_over_500_days: float | None


class GuideCaseload(BaseModel):
    guide_person_id: str
    active_clients: int
    over_limit: bool


class Caseloads(BaseModel):
    municipality: str | None
    limit: int
    guides: list[GuideCaseload]
    guides_over_limit: int


class Waiting(BaseModel):
    clients: int
    median_days: float | None
    mean_days: float | None


class WaitingTimes(BaseModel):
    year: int | None
    municipality: str | None
    referral_to_assessment: Waiting
    assessment_to_named_guide: Waiting


class Durations(BaseModel):
    year: int | None
    municipality: str | None
    closed: int
    over_three_years: int
    share_over_three_years: float | None


class Transfers(BaseModel):
    year: int | None
    municipality: str | None
    transferred_to_social_services: int
    returned_from_social_services: int


class DeadlineStatus(BaseModel):
    due: int
    met_on_time: int
    met_late: int
    overdue: int = Field(description="Not met and past due on the as-of day")
    pending: int = Field(description="Not met and not yet due on the as-of day")


class Deadlines(BaseModel):
    year: int | None = Field(description="Year of the due dates")
    municipality: str | None
    as_of: date
    assessment: DeadlineStatus = Field(description="Assessment deadline under the rules of the referral date")
    plan: DeadlineStatus = Field(description="Plan deadline under the rules of the opening date")


class MunicipalCostRow(BaseModel):
    municipality: str
    clients: int
    paid_days: int
    municipal_cost: Decimal = Field(description="Euros, estimated")


class MunicipalCost(BaseModel):
    year: int
    as_of: date
    daily_amount: Decimal
    assumption: str
    municipalities: list[MunicipalCostRow]
    total: Decimal


class ServicesUsed(BaseModel):
    year: int | None
    municipality: str
    measures_by_kind: dict[str, int]


COST_ASSUMPTION = (
    "Subsidy days at referral are the paid days so far; from the day after the referral until "
    "the closure (or the as-of day) every weekday is a paid day at the daily amount; each day's "
    "municipal share is that of the rules in force on that day; activated days (plan measures, "
    "rehabilitative work activity) are exempt where those rules say so."
)


class Statistics:
    """The statistics queries against one reporting schema."""

    def __init__(self, schema: str, config: ReportingConfig) -> None:
        s = quote_ident(schema)
        self.config = config
        self._counts = _COUNTS.format(s=s)
        self._referrals = _REFERRALS.format(s=s)
        self._referral_years = _REFERRAL_YEARS.format(s=s)
        self._metric_years = _METRIC_YEARS.format(s=s)
        self._cases = _CASES_WITH_SUBSIDY_DAYS.format(s=s)

    async def _buckets(
        self, conn: asyncpg.Connection, metric: Metric, year: int | None, municipality: str | None
    ) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for r in await conn.fetch(self._counts, metric.value, year, municipality):
            out[r["bucket"]] += r["n"]
        return dict(out)

    async def referral_years(self, conn: asyncpg.Connection) -> list[int]:
        return [r["year"] for r in await conn.fetch(self._referral_years)]

    async def years(self, conn: asyncpg.Connection, metric: Metric) -> list[int]:
        """The years that have counts of ``metric``."""
        return [r["year"] for r in await conn.fetch(self._metric_years, metric.value)]

    async def intake(self, conn: asyncpg.Connection, *, year: int) -> IntakeAgainstTarget:
        per_municipality: dict[str, int] = defaultdict(int)
        for r in await conn.fetch(self._referrals, year, None):
            per_municipality[r["municipality"]] += r["referred"]
        target = self.config.intake_targets.get(year)
        populations = {m: p for m, p in self.config.populations.items() if m in self.config.municipalities}
        targets = figures.apportion(target, populations) if target is not None and populations else {}
        names = list(self.config.municipalities) + sorted(
            set(per_municipality) - set(self.config.municipalities)
        )
        rows = [
            IntakeRow(
                municipality=m,
                new_clients=per_municipality.get(m, 0),
                target=targets.get(m),
                share_of_target=figures.share(per_municipality.get(m, 0), targets.get(m) or 0),
            )
            for m in names
        ]
        total = sum(per_municipality.values())
        return IntakeAgainstTarget(
            year=year,
            new_clients=total,
            target=target,
            share_of_target=figures.share(total, target or 0),
            municipalities=rows,
        )

    async def referral_sources(
        self, conn: asyncpg.Connection, *, year: int | None, municipality: str | None
    ) -> Shares:
        counts = {s.value: 0 for s in ReferralSource}
        for r in await conn.fetch(self._referrals, year, municipality):
            counts[r["source"]] = counts.get(r["source"], 0) + r["referred"]
        return Shares.of(counts, year=year, municipality=municipality)

    async def outcomes(
        self, conn: asyncpg.Connection, *, year: int | None, municipality: str | None
    ) -> Shares:
        closed = await self._buckets(conn, Metric.CLOSED, year, municipality)
        counts = {o.value: closed.get(o.value, 0) for o in Outcome}
        return Shares.of(counts, year=year, municipality=municipality)

    async def subsidy_days(
        self, conn: asyncpg.Connection, *, year: int | None, municipality: str | None
    ) -> SubsidyDays:
        known = sum((await self._buckets(conn, Metric.SUBSIDY_DAYS_KNOWN, year, municipality)).values())
        over = sum((await self._buckets(conn, Metric.OVER_500_DAYS, year, municipality)).values())
        return SubsidyDays(
            year=year,
            municipality=municipality,
            clients_with_known_days=known,
            over_500_days=over,
            share_over_500_days=figures.share(over, known),
        )

    async def caseloads(self, conn: asyncpg.Connection, *, municipality: str | None) -> Caseloads:
        active = await self._buckets(conn, Metric.ACTIVE_CASELOAD, NOT_BY_YEAR, municipality)
        limit = self.config.caseload_limit
        guides = [
            GuideCaseload(guide_person_id=g, active_clients=n, over_limit=n > limit)
            for g, n in sorted(active.items(), key=lambda item: (-item[1], item[0]))
        ]
        return Caseloads(
            municipality=municipality,
            limit=limit,
            guides=guides,
            guides_over_limit=sum(g.over_limit for g in guides),
        )

    async def waiting_times(
        self, conn: asyncpg.Connection, *, year: int | None, municipality: str | None
    ) -> WaitingTimes:
        def waiting(buckets: dict[str, int]) -> Waiting:
            found = figures.spread({int(days): n for days, n in buckets.items()})
            return Waiting(clients=found.clients, median_days=found.median_days, mean_days=found.mean_days)

        return WaitingTimes(
            year=year,
            municipality=municipality,
            referral_to_assessment=waiting(
                await self._buckets(conn, Metric.WAIT_REFERRAL_TO_ASSESSMENT, year, municipality)
            ),
            assessment_to_named_guide=waiting(
                await self._buckets(conn, Metric.WAIT_ASSESSMENT_TO_GUIDE, year, municipality)
            ),
        )

    async def durations(
        self, conn: asyncpg.Connection, *, year: int | None, municipality: str | None
    ) -> Durations:
        closed = sum((await self._buckets(conn, Metric.CLOSED, year, municipality)).values())
        over = sum((await self._buckets(conn, Metric.CLOSED_OVER_THREE_YEARS, year, municipality)).values())
        return Durations(
            year=year,
            municipality=municipality,
            closed=closed,
            over_three_years=over,
            share_over_three_years=figures.share(over, closed),
        )

    async def transfers(
        self, conn: asyncpg.Connection, *, year: int | None, municipality: str | None
    ) -> Transfers:
        to = sum((await self._buckets(conn, Metric.TRANSFERRED, year, municipality)).values())
        back = sum((await self._buckets(conn, Metric.RETURNED, year, municipality)).values())
        return Transfers(
            year=year,
            municipality=municipality,
            transferred_to_social_services=to,
            returned_from_social_services=back,
        )

    async def deadlines(
        self, conn: asyncpg.Connection, *, year: int | None, municipality: str | None, as_of: date
    ) -> Deadlines:
        def status(buckets: dict[str, int]) -> DeadlineStatus:
            c = figures.deadline_counts(buckets, as_of)
            return DeadlineStatus(
                due=c.total,
                met_on_time=c.met_on_time,
                met_late=c.met_late,
                overdue=c.overdue,
                pending=c.pending,
            )

        return Deadlines(
            year=year,
            municipality=municipality,
            as_of=as_of,
            assessment=status(await self._buckets(conn, Metric.ASSESSMENT_DEADLINE, year, municipality)),
            plan=status(await self._buckets(conn, Metric.PLAN_DEADLINE, year, municipality)),
        )

    async def services_used(
        self, conn: asyncpg.Connection, *, year: int | None, municipality: str
    ) -> ServicesUsed:
        measures = await self._buckets(conn, Metric.MEASURES, year, municipality)
        return ServicesUsed(
            year=year, municipality=municipality, measures_by_kind=dict(sorted(measures.items()))
        )

    async def municipal_cost(
        self,
        conn: asyncpg.Connection,
        *,
        year: int,
        municipality: str | None,
        as_of: date,
        daily_amount: Decimal | None = None,
    ) -> MunicipalCost:
        amount = self.config.subsidy_daily_amount if daily_amount is None else daily_amount
        cases = [CaseFacts.model_validate_json(r[0]) for r in await conn.fetch(self._cases, municipality)]
        rows = [
            MunicipalCostRow(
                municipality=c.municipality,
                clients=c.clients,
                paid_days=c.paid_days,
                municipal_cost=c.municipal_cost,
            )
            for c in figures.municipal_costs(cases, year=year, as_of=as_of, daily_amount=amount)
        ]
        return MunicipalCost(
            year=year,
            as_of=as_of,
            daily_amount=amount,
            assumption=COST_ASSUMPTION,
            municipalities=rows,
            total=sum((r.municipal_cost for r in rows), Decimal("0.00")),
        )
