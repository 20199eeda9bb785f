"""The health check (terveystarkastus): a summary for the team, details for health staff."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from runtime.http import Purpose, context
from services.disclosure.policy import Kind
from services.guidance.api.common import ERRORS, ClientIdPath, Parts, ReadsHealth, RecordsHealth, read_case
from services.guidance.api.models import HealthCheckRequest, Written
from services.guidance.api.views import written
from services.guidance.domain import health

routes = APIRouter()


@routes.post(
    "/cases/{client_id}/health-check",
    response_model=Written,
    tags=["health"],
    responses=ERRORS,
    summary="The nurse records a health check: a summary for the team, details for health staff",
)
async def health_check(
    client_id: ClientIdPath, body: HealthCheckRequest, actor: RecordsHealth, parts: Parts
) -> Written:
    ctx = context(actor)
    return written(
        await parts.service.execute(
            client_id,
            lambda s: health.record_health_check(
                s,
                checked_on=body.checked_on,
                work_restrictions_found=body.work_restrictions_found,
                recommended_next_step=body.recommended_next_step,
                details=body.details,
                ctx=ctx,
            ),
        )
    )


@routes.get(
    "/cases/{client_id}/health-details",
    response_model=list[dict[str, Any]],
    tags=["health"],
    responses=ERRORS,
    summary="Health check details: health staff only",
)
async def health_details(
    client_id: ClientIdPath, actor: ReadsHealth, why: Purpose, parts: Parts
) -> list[dict[str, Any]]:
    await read_case(parts, actor, client_id, Kind.HEALTH_DETAILS)
    await parts.access_log.record(actor, [client_id], what="health check details", purpose=why)
    found = await parts.queries.health_details(client_id)
    return [{"checked_on": e.checked_on, "details": e.details} for e in found]
