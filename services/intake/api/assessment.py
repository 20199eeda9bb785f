"""The service-needs assessment (*palvelutarpeen arviointi*)."""

from __future__ import annotations

from fastapi import APIRouter

from runtime.http import context
from services.intake.api.dependencies import CONFLICT, NOT_FOUND, Assesses, ClientIdPath, Service
from services.intake.api.models import AssessmentRequest, Written
from services.intake.api.views import written
from services.intake.domain import assessment


def router() -> APIRouter:
    api = APIRouter()

    @api.post(
        "/clients/{client_id}/assessment",
        response_model=Written,
        status_code=201,
        tags=["assessment"],
        summary="Complete the service-needs assessment (AssessmentCompleted)",
        responses={**NOT_FOUND, **CONFLICT},
    )
    async def assess(
        client_id: ClientIdPath, body: AssessmentRequest, actor: Assesses, svc: Service
    ) -> Written:
        ctx = context(actor)
        command = body.command()
        return written(
            await svc.execute(client_id, lambda s: assessment.complete_assessment(s, command, ctx=ctx))
        )

    return api
