"""One case (asiakkuus) with its deadlines and flags; its phase and employment plan."""

from __future__ import annotations

from fastapi import APIRouter

from runtime.http import Purpose, context
from runtime.timeline import TimelineEntry, timeline
from services.guidance.api.common import (
    ERRORS,
    ClientIdPath,
    Parts,
    Plans,
    Reads,
    ensure_readable,
    read_case,
    today,
)
from services.guidance.api.models import CaseView, PhaseRequest, PlanRequest, Written
from services.guidance.api.views import case_view, written
from services.guidance.domain import plan

routes = APIRouter()


@routes.get(
    "/cases/{client_id}",
    response_model=CaseView,
    tags=["cases"],
    responses=ERRORS,
    summary="One guidance case with its deadlines and flags",
)
async def get_case(client_id: ClientIdPath, actor: Reads, why: Purpose, parts: Parts) -> CaseView:
    state = await read_case(parts, actor, client_id)
    await parts.access_log.record(actor, [client_id], what="guidance case", purpose=why)
    referred = await parts.queries.referral_dates([client_id])
    return case_view(
        state,
        today(),
        acknowledgement_days=parts.options.acknowledgement_days,
        referral_date=referred.get(client_id),
    )


@routes.get(
    "/cases/{client_id}/timeline",
    response_model=list[TimelineEntry],
    tags=["cases"],
    responses=ERRORS,
    summary="The case's timeline: what happened in guidance, who did it and when",
)
async def case_timeline(
    client_id: ClientIdPath, actor: Reads, why: Purpose, parts: Parts
) -> list[TimelineEntry]:
    """Every event of the client's guidance stream, its type, day and doer only, to
    whom the disclosure policy lets read the case (as ``GET /cases/{client_id}``); the
    read is in the access log."""
    state, events = await parts.service.history(client_id)
    await ensure_readable(parts, actor, state)
    await parts.access_log.record(actor, [client_id], what="guidance timeline", purpose=why)
    return timeline("guidance", events)


@routes.post(
    "/cases/{client_id}/phase",
    response_model=Written,
    tags=["plan"],
    responses=ERRORS,
    summary="Move the case to another phase",
)
async def phase(client_id: ClientIdPath, body: PhaseRequest, actor: Plans, parts: Parts) -> Written:
    ctx = context(actor)
    return written(
        await parts.service.execute(
            client_id, lambda s: plan.change_phase(s, body.phase, changed_on=body.changed_on, ctx=ctx)
        )
    )


@routes.post(
    "/cases/{client_id}/plan",
    response_model=Written,
    tags=["plan"],
    responses=ERRORS,
    summary="Draw up or revise (review) the employment plan; revisions keep history",
)
async def revise(client_id: ClientIdPath, body: PlanRequest, actor: Plans, parts: Parts) -> Written:
    ctx = context(actor)
    catalogue = parts.options.measure_catalogue
    return written(
        await parts.service.execute(
            client_id,
            lambda s: plan.revise_plan(
                s, body.measures, revised_on=body.revised_on, review=body.review, catalogue=catalogue, ctx=ctx
            ),
        )
    )
