"""Reporting's HTTP API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from contracts.intake import ReferralSource
from services.reporting.projections import ReferralStatistics


class ReferralsBySource(BaseModel):
    year: int | None = Field(description="The year asked for, or null for all years")
    municipality: str | None
    total: int
    by_source: dict[ReferralSource, int] = Field(
        description="Referred clients per referral source; every source is listed"
    )


def router() -> APIRouter:
    api = APIRouter(tags=["statistics"])

    @api.get(
        "/statistics/referrals-by-source",
        response_model=ReferralsBySource,
        summary="Referred clients by referral source (aggregates, no personal data)",
    )
    async def referrals_by_source(
        request: Request,
        year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
        municipality: Annotated[str | None, Query(max_length=100)] = None,
    ) -> ReferralsBySource:
        stats: ReferralStatistics = request.app.state.statistics
        async with request.app.state.host.pool.acquire() as conn:
            counts = await stats.referrals_by_source(conn, year=year, municipality=municipality)
        by_source = {source: counts.get(source.value, 0) for source in ReferralSource}
        return ReferralsBySource(
            year=year, municipality=municipality, total=sum(by_source.values()), by_source=by_source
        )

    return api
