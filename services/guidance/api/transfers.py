"""Transfers to social services (siirto kuntouttavaan työtoimintaan): the hand-over, its
acknowledgement and the client's return."""

from __future__ import annotations

from uuid import uuid4

from fastapi import APIRouter

from runtime.http import context
from runtime.known_names import municipality_at
from services.guidance.api.common import (
    ERRORS,
    Acknowledges,
    ClientIdPath,
    Parts,
    Returns,
    TransferIdPath,
    Transfers,
)
from services.guidance.api.models import (
    AcknowledgementRequest,
    ReturnRequest,
    TransferCreated,
    TransferRequest,
    Written,
)
from services.guidance.api.views import written
from services.guidance.domain import transfer

routes = APIRouter()


@routes.post(
    "/cases/{client_id}/transfers",
    response_model=TransferCreated,
    status_code=201,
    tags=["transfers"],
    responses=ERRORS,
    summary="Transfer to the municipality's rehabilitative work activity",
)
async def transfer_out(
    client_id: ClientIdPath, body: TransferRequest, actor: Transfers, parts: Parts
) -> TransferCreated:
    municipalities = parts.settings.municipalities
    receiving = body.receiving_municipality
    if receiving is not None:
        receiving = municipality_at(receiving, municipalities, "body", "receiving_municipality")
    ctx = context(actor)
    transfer_id = f"transfer-{uuid4()}"
    outcome = await parts.service.disclosing(
        client_id,
        lambda s, consents: transfer.transfer(
            s,
            transfer_id=transfer_id,
            receiving_municipality=receiving or s.municipality,
            transferred_on=body.transferred_on,
            plan=body.activation_plan.terms(),
            stays_open=body.relationship_stays_open,
            consents=consents,
            centre=municipalities,
            ctx=ctx,
        ),
    )
    return TransferCreated(**written(outcome).model_dump(), transfer_id=transfer_id)


@routes.post(
    "/cases/{client_id}/transfers/{transfer_id}/acknowledgement",
    response_model=Written,
    tags=["transfers"],
    responses=ERRORS,
    summary="The receiving social services accept or decline the hand-over",
)
async def acknowledge(
    client_id: ClientIdPath,
    transfer_id: TransferIdPath,
    body: AcknowledgementRequest,
    actor: Acknowledges,
    parts: Parts,
) -> Written:
    ctx = context(actor)
    return written(
        await parts.service.execute(
            client_id,
            lambda s: transfer.acknowledge(
                s,
                transfer_id=transfer_id,
                accepted=body.accepted,
                reason=body.reason,
                acknowledged_on=body.acknowledged_on,
                ctx=ctx,
                plan=body.activation_plan.terms() if body.activation_plan else None,
            ),
        )
    )


@routes.post(
    "/cases/{client_id}/transfers/{transfer_id}/return",
    response_model=Written,
    tags=["transfers"],
    responses=ERRORS,
    summary="The client returns from social services",
)
async def return_back(
    client_id: ClientIdPath,
    transfer_id: TransferIdPath,
    body: ReturnRequest,
    actor: Returns,
    parts: Parts,
) -> Written:
    ctx = context(actor)
    return written(
        await parts.service.execute(
            client_id,
            lambda s: transfer.return_from_social_services(
                s, transfer_id=transfer_id, returned_on=body.returned_on, ctx=ctx
            ),
        )
    )
