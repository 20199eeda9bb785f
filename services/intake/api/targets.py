"""The steering group's intake targets (*tavoitteet*)."""

from __future__ import annotations

from fastapi import APIRouter

from runtime.http import context
from runtime.known_names import invalid, municipality_at
from services.intake.api.dependencies import CONFLICT, Service, SetsTargets
from services.intake.api.models import IntakeTargetRequest, IntakeTargetWritten
from services.intake.domain import targets


def router() -> APIRouter:
    api = APIRouter()

    @api.post(
        "/intake-targets",
        response_model=IntakeTargetWritten,
        status_code=201,
        tags=["intake targets"],
        summary="Set a year's intake target (IntakeTargetSet); a later setting supersedes",
        description="The steering group's yearly target of new clients, for the centre and, "
        "optionally, per municipality; reporting shows it beside the actual intake.",
        responses=CONFLICT,
    )
    async def set_intake_target(
        body: IntakeTargetRequest, actor: SetsTargets, svc: Service
    ) -> IntakeTargetWritten:
        split = None
        if body.municipalities is not None:
            split = {}
            for name, n in body.municipalities.items():
                known = municipality_at(name, svc.municipalities, "body", "municipalities", name)
                if known in split:
                    raise invalid(("body", "municipalities", name), f"{known} is named twice")
                split[known] = n
        event = await svc.set_intake_target(
            targets.SetIntakeTarget(body.year, body.target, body.set_on, split), context(actor)
        )
        return IntakeTargetWritten(
            stream_id=event.stream_id,
            stream_version=event.stream_version,
            event_id=event.event_id,
            year=event.year,
            target=event.target,
            set_on=event.set_on,
            municipalities=event.municipalities,
        )

    return api
