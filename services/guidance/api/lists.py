"""The lists: clients waiting for a named guide (jonotilanne), the worklist with its
overdue flags, and the measure catalogue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from runtime.http import Purpose
from runtime.strict_types import IsoDate
from services.guidance.api.common import Parts, Reads, cases, today
from services.guidance.api.models import MeasureGuideEntry, WaitingEntry, WorklistEntry
from services.guidance.api.views import case_view, waiting_days
from services.guidance.domain.case import Status

routes = APIRouter()

WaitingAsOf = Annotated[
    IsoDate | None,
    Query(
        description="The day the waits are counted to, YYYY-MM-DD (default: today, the business date "
        "in Finland). The list holds the clients who wait for a named guide now and whose wait "
        "began on or before that day; a closed case, or one with a guide, is never listed"
    ),
]


@routes.get(
    "/waiting",
    response_model=list[WaitingEntry],
    tags=["guides"],
    summary="Clients waiting for a named guide, longest first, their waits counted to as_of",
)
async def waiting(actor: Reads, why: Purpose, parts: Parts, as_of: WaitingAsOf = None) -> list[WaitingEntry]:
    day = as_of or today()
    return [
        WaitingEntry(
            client_id=c.client_id,
            municipality=c.municipality,
            route=c.route,
            waiting_since=c.waiting_since,
            waiting_days=waiting_days(c.waiting_since, day),
        )
        for c in await cases(
            parts, actor, why, "guidance waiting list", status=Status.WAITING_FOR_GUIDE.value
        )
        if c.waiting_since <= day
    ]


@routes.get(
    "/worklist",
    response_model=list[WorklistEntry],
    tags=["guides"],
    summary="Open cases with their overdue flags, for one guide or all",
)
async def worklist(
    actor: Reads,
    why: Purpose,
    parts: Parts,
    guide: Annotated[
        str | None, Query(max_length=200, description="Only this guide's clients (a person id)")
    ] = None,
) -> list[WorklistEntry]:
    now = today()
    found = await cases(parts, actor, why, "guidance worklist", guide=guide)
    referred = await parts.queries.referral_dates([c.client_id for c in found])
    days = parts.options.acknowledgement_days
    return [
        WorklistEntry(
            client_id=c.client_id,
            municipality=c.municipality,
            status=c.status,
            phase=c.phase,
            guide=c.guide,
            flags=case_view(c, now, acknowledgement_days=days, referral_date=referred.get(c.client_id)).flags,
        )
        for c in found
    ]


@routes.get(
    "/measure-catalogue",
    response_model=dict[str, str],
    tags=["plan"],
    summary="The measures a plan may contain (configuration)",
)
async def measure_catalogue(actor: Reads, parts: Parts) -> dict[str, str]:
    return dict(parts.options.measure_catalogue)


@routes.get(
    "/measure-guide",
    response_model=list[MeasureGuideEntry],
    tags=["plan"],
    summary="The catalogue's measures, each with when it is meant to be used",
)
async def measure_guide(actor: Reads, parts: Parts) -> list[MeasureGuideEntry]:
    """The measure catalogue in its order, each measure with when it is meant to be used
    (null for a code the texts, ``REITTI_MEASURE_USES``, do not know)."""
    return [
        MeasureGuideEntry(kind=kind, name=name, when_to_use=parts.options.measure_uses.get(kind))
        for kind, name in parts.options.measure_catalogue.items()
    ]
