"""The dashboard page (kojelauta): the steering group's figures as HTML, with a picker."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from runtime import clock
from runtime.field_docs import MUNICIPALITY_FILTER
from runtime.openapi_names import MUNICIPALITY_OR_ALL
from runtime.strict_types import IsoDate
from services.reporting import dashboard
from services.reporting.api.common import (
    DashboardViewer,
    Year,
    as_of_day,
    hides_small,
    known_municipality,
    may_see_staff,
)
from services.reporting.bootstrap import Parts
from services.reporting.dashboard_session import COOKIE, SIGN_OUT_PATH

routes = APIRouter()


@routes.get(
    "/dashboard",
    response_class=HTMLResponse,
    tags=["dashboard"],
    summary="The dashboard page",
    description="A browser signs in at /dashboard/sign-in and is sent there (303) without a "
    "session; an API client sends Authorization: Bearer. A token in the URL is not accepted.",
    responses={303: {"description": "A browser without a session: on to the sign-in page"}},
)
async def show_dashboard(
    actor: DashboardViewer,
    parts: Parts,
    request: Request,
    year: Year = None,
    municipality: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            description=f"{MUNICIPALITY_FILTER}; `all` (the picker's choice) means leaving it out",
            json_schema_extra=MUNICIPALITY_OR_ALL,
        ),
    ] = None,
    as_of: Annotated[
        IsoDate | None,
        Query(description="The day to count as of, YYYY-MM-DD (default: the end of the year, or today)"),
    ] = None,
) -> HTMLResponse:
    stats, config = parts.statistics, parts.config
    # the picker's "all municipalities" is a value of its own: a form sends every field
    name = None if municipality == dashboard.ALL else known_municipality(config, municipality)
    async with parts.pool.acquire() as conn:
        years = await stats.referral_years(conn)
        if year is None:
            year = years[-1] if years else clock.today().year
        data = await dashboard.collect(
            stats,
            conn,
            year=year,
            municipality=name,
            as_of=as_of_day(year, as_of),
            hide_small=hides_small(actor),
            show_staff=may_see_staff(actor),
        )
    root = request.scope.get("root_path", "")
    signed_in = "authorization" not in request.headers and COOKIE in request.cookies
    sign_out = f"{root}{SIGN_OUT_PATH}" if signed_in else None
    picker = dashboard.Picker(
        action=f"{root}/dashboard",
        years=tuple(sorted({*years, year - 1, year, clock.today().year})),
        municipalities=tuple(config.municipalities),
    )
    return HTMLResponse(dashboard.render(data, picker=picker, sign_out=sign_out))
