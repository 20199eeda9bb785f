"""The steering group's statistics (ohjausryhmän tilastot): aggregates, no personal data;
small cells hidden from a caller without client access."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from contracts.intake import ReferralSource
from runtime.strict_types import IsoDate, NumberInQuery
from services.reporting.api.common import (
    AsOf,
    Municipality,
    RequiredYear,
    Stats,
    Year,
    as_of_day,
    hides_small,
    known_municipality,
    may_see_staff,
)
from services.reporting.api.models import ReferralsBySource
from services.reporting.bootstrap import Parts
from services.reporting.statistics import (
    Caseloads,
    Deadlines,
    Durations,
    IntakeAgainstTarget,
    MunicipalCost,
    Shares,
    SubsidyDays,
    Transfers,
    WaitingForGuide,
    WaitingTimes,
)

routes = APIRouter()


@routes.get(
    "/statistics/referrals-by-source",
    response_model=ReferralsBySource,
    tags=["statistics"],
    summary="Referred clients by referral source (aggregates, no personal data)",
)
async def referrals_by_source(
    actor: Stats, parts: Parts, year: Year = None, municipality: Municipality = None
) -> ReferralsBySource:
    stats, config = parts.statistics, parts.config
    municipality = known_municipality(config, municipality)
    async with parts.pool.acquire() as conn:
        shares = await stats.referral_sources(
            conn, year=year, municipality=municipality, hide_small=hides_small(actor)
        )
    by_source = {source: shares.counts.get(source.value, 0) for source in ReferralSource}
    return ReferralsBySource(year=year, municipality=municipality, total=shares.total, by_source=by_source)


@routes.get("/statistics/intake", tags=["statistics"], summary="New clients against the yearly intake target")
async def intake(
    actor: Stats,
    parts: Parts,
    year: RequiredYear,
    as_of: Annotated[
        IsoDate | None,
        Query(
            description="The day whose target is shown, YYYY-MM-DD (default: 31 December of a "
            "past year, else today, the business date in Finland)"
        ),
    ] = None,
) -> IntakeAgainstTarget:
    stats = parts.statistics
    async with parts.pool.acquire() as conn:
        return await stats.intake(
            conn, year=year, as_of=as_of_day(year, as_of), hide_small=hides_small(actor)
        )


@routes.get("/statistics/referral-sources", tags=["statistics"], summary="Shares of referral sources")
async def referral_sources(
    actor: Stats, parts: Parts, year: Year = None, municipality: Municipality = None
) -> Shares:
    stats, config = parts.statistics, parts.config
    async with parts.pool.acquire() as conn:
        return await stats.referral_sources(
            conn,
            year=year,
            municipality=known_municipality(config, municipality),
            hide_small=hides_small(actor),
        )


@routes.get(
    "/statistics/outcomes",
    tags=["statistics"],
    summary="Outcome shares of closed relationships (year closed)",
)
async def outcomes(
    actor: Stats, parts: Parts, year: Year = None, municipality: Municipality = None
) -> Shares:
    stats, config = parts.statistics, parts.config
    async with parts.pool.acquire() as conn:
        return await stats.outcomes(
            conn,
            year=year,
            municipality=known_municipality(config, municipality),
            hide_small=hides_small(actor),
        )


@routes.get(
    "/statistics/subsidy-days",
    tags=["statistics"],
    summary="Share of new clients with over 500 days of labour-market subsidy",
)
async def subsidy_days(
    actor: Stats, parts: Parts, year: Year = None, municipality: Municipality = None
) -> SubsidyDays:
    stats, config = parts.statistics, parts.config
    async with parts.pool.acquire() as conn:
        return await stats.subsidy_days(
            conn,
            year=year,
            municipality=known_municipality(config, municipality),
            hide_small=hides_small(actor),
        )


@routes.get(
    "/statistics/caseloads",
    tags=["statistics"],
    summary="Clients in active guidance per guide vs the limit",
)
async def caseloads(actor: Stats, parts: Parts, municipality: Municipality = None) -> Caseloads:
    stats, config = parts.statistics, parts.config
    async with parts.pool.acquire() as conn:
        return await stats.caseloads(
            conn, municipality=known_municipality(config, municipality), show_staff=may_see_staff(actor)
        )


@routes.get(
    "/statistics/waiting-for-guide",
    tags=["statistics"],
    summary="Relationships open now and waiting for a named guide, by the year they opened",
)
async def waiting_for_guide(
    actor: Stats, parts: Parts, year: Year = None, municipality: Municipality = None
) -> WaitingForGuide:
    stats, config = parts.statistics, parts.config
    async with parts.pool.acquire() as conn:
        return await stats.waiting_for_guide(
            conn,
            year=year,
            municipality=known_municipality(config, municipality),
            hide_small=hides_small(actor),
        )


@routes.get(
    "/statistics/waiting-times",
    tags=["statistics"],
    summary="Referral to assessment and assessment to named guide: median and mean days",
)
async def waiting_times(
    actor: Stats, parts: Parts, year: Year = None, municipality: Municipality = None
) -> WaitingTimes:
    stats, config = parts.statistics, parts.config
    async with parts.pool.acquire() as conn:
        return await stats.waiting_times(
            conn,
            year=year,
            municipality=known_municipality(config, municipality),
            hide_small=hides_small(actor),
        )


@routes.get(
    "/statistics/durations",
    tags=["statistics"],
    summary="Closed relationships that lasted over three years",
)
async def durations(
    actor: Stats, parts: Parts, year: Year = None, municipality: Municipality = None
) -> Durations:
    stats, config = parts.statistics, parts.config
    async with parts.pool.acquire() as conn:
        return await stats.durations(
            conn,
            year=year,
            municipality=known_municipality(config, municipality),
            hide_small=hides_small(actor),
        )


@routes.get(
    "/statistics/transfers", tags=["statistics"], summary="Transfers to and returns from social services"
)
async def transfers(
    actor: Stats, parts: Parts, year: Year = None, municipality: Municipality = None
) -> Transfers:
    stats, config = parts.statistics, parts.config
    async with parts.pool.acquire() as conn:
        return await stats.transfers(
            conn,
            year=year,
            municipality=known_municipality(config, municipality),
            hide_small=hides_small(actor),
        )


@routes.get(
    "/statistics/deadlines",
    tags=["statistics"],
    summary="Assessment and plan deadlines (rules of the referral and opening dates): met, late, overdue",
)
async def deadlines(
    actor: Stats,
    parts: Parts,
    year: Year = None,
    municipality: Municipality = None,
    as_of: AsOf = None,
) -> Deadlines:
    stats, config = parts.statistics, parts.config
    async with parts.pool.acquire() as conn:
        return await stats.deadlines(
            conn,
            year=year,
            municipality=known_municipality(config, municipality),
            as_of=as_of_day(year, as_of),
            hide_small=hides_small(actor),
        )


@routes.get(
    "/statistics/municipal-cost",
    tags=["statistics"],
    summary="Municipalities' estimated share of labour-market subsidy cost, by the rules of each day",
)
async def municipal_cost(
    actor: Stats,
    parts: Parts,
    year: RequiredYear,
    municipality: Municipality = None,
    as_of: AsOf = None,
    daily_amount: Annotated[
        NumberInQuery | None,
        Query(ge=0, le=1000, description="Euros per paid day (default: configured)"),
    ] = None,
) -> MunicipalCost:
    stats, config = parts.statistics, parts.config
    async with parts.pool.acquire() as conn:
        return await stats.municipal_cost(
            conn,
            year=year,
            municipality=known_municipality(config, municipality),
            as_of=as_of_day(year, as_of),
            daily_amount=daily_amount,
            hide_small=hides_small(actor),
        )
