"""The dashboard's figures (luvut): everything the page shows, collected from the same
statistics the API answers with, never recomputed here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import asyncpg

from runtime.openapi_names import ALL as PICKER_ALL
from services.reporting.partitions import Metric
from services.reporting.statistics import (
    Caseloads,
    Deadlines,
    Durations,
    IntakeAgainstTarget,
    MunicipalCost,
    Shares,
    Statistics,
    SubsidyDays,
    Transfers,
    WaitingForGuide,
    WaitingTimes,
)

#: the municipality picker's choice of every municipality (also in the OpenAPI enum)
ALL = PICKER_ALL


@dataclass(frozen=True)
class Picker:
    """The year and municipality picker: a GET form, no script."""

    action: str
    years: tuple[int, ...]
    municipalities: tuple[str, ...]


@dataclass(frozen=True)
class DashboardData:
    year: int
    municipality: str | None
    as_of: date
    intake: IntakeAgainstTarget
    #: the previous year's intake, as of the same day a year before (or its end)
    last_year: IntakeAgainstTarget
    sources: Shares
    outcomes_by_year: dict[int, Shares]
    caseloads: Caseloads
    waiting: WaitingTimes
    waiting_for_guide: WaitingForGuide
    #: the same, whatever year the relationship opened
    waiting_for_guide_all: WaitingForGuide
    subsidy: SubsidyDays
    durations: Durations
    transfers: Transfers
    last_transfers: Transfers
    deadlines: Deadlines
    cost: MunicipalCost
    #: figures are protected by statistical disclosure control (a role without client access)
    hide_small: bool = False
    min_cell: int = 1

    @property
    def last_as_of(self) -> date:
        return last_year_as_of(self.year, self.as_of)


def last_year_as_of(year: int, as_of: date) -> date:
    """The day the previous year is counted as of, to compare like with like."""
    try:
        same_day = as_of.replace(year=as_of.year - 1)
    except ValueError:  # 29 February
        same_day = as_of.replace(year=as_of.year - 1, day=28)
    return min(date(year - 1, 12, 31), same_day)


async def collect(
    stats: Statistics,
    conn: asyncpg.Connection,
    *,
    year: int,
    as_of: date,
    municipality: str | None = None,
    hide_small: bool = False,
    show_staff: bool = True,
) -> DashboardData:
    """Everything the page shows, asked of the same functions the API uses, with the same
    arguments (year, municipality, as_of), hidden alike: never recomputed here."""
    outcome_years = sorted(set(await stats.years(conn, Metric.CLOSED)) | {year - 1, year})
    h, m = hide_small, municipality
    return DashboardData(
        year=year,
        municipality=m,
        as_of=as_of,
        intake=await stats.intake(conn, year=year, as_of=as_of, hide_small=h),
        last_year=await stats.intake(conn, year=year - 1, as_of=last_year_as_of(year, as_of), hide_small=h),
        sources=await stats.referral_sources(conn, year=year, municipality=m, hide_small=h),
        outcomes_by_year={
            y: await stats.outcomes(conn, year=y, municipality=m, hide_small=h) for y in outcome_years
        },
        caseloads=await stats.caseloads(conn, municipality=m, show_staff=show_staff),
        waiting=await stats.waiting_times(conn, year=year, municipality=m, hide_small=h),
        waiting_for_guide=await stats.waiting_for_guide(conn, year=year, municipality=m, hide_small=h),
        waiting_for_guide_all=await stats.waiting_for_guide(conn, year=None, municipality=m, hide_small=h),
        subsidy=await stats.subsidy_days(conn, year=year, municipality=m, hide_small=h),
        durations=await stats.durations(conn, year=year, municipality=m, hide_small=h),
        transfers=await stats.transfers(conn, year=year, municipality=m, hide_small=h),
        last_transfers=await stats.transfers(conn, year=year - 1, municipality=m, hide_small=h),
        deadlines=await stats.deadlines(conn, year=year, municipality=m, as_of=as_of, hide_small=h),
        cost=await stats.municipal_cost(conn, year=year, municipality=m, as_of=as_of, hide_small=h),
        hide_small=h,
        min_cell=stats.config.min_cell,
    )
