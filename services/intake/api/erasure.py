"""Erasure of a client's personal data (*poisto*) and the legal hold."""

from __future__ import annotations

from fastapi import APIRouter

from contracts.intake import ErasureReason
from runtime import clock
from runtime.http import context
from services.intake.api.dependencies import CONFLICT, NOT_FOUND, ClientIdPath, Erases, Service
from services.intake.api.models import ErasureRequest, LegalHoldRequest, LegalHoldView, Written
from services.intake.api.views import written


def router() -> APIRouter:
    api = APIRouter()

    @api.post(
        "/clients/{client_id}/erasure",
        response_model=Written,
        tags=["erasure"],
        summary="Erase the client's personal data on a lawful request (deletes their key)",
        description="Every personal field of the client's events then reads `[erased]` in every "
        "service, store and replay; statistics and the audit trail are kept. Cannot be undone.",
        responses={**NOT_FOUND, **CONFLICT},
    )
    async def erase(client_id: ClientIdPath, body: ErasureRequest, actor: Erases, svc: Service) -> Written:
        return written(
            await svc.erase(
                client_id,
                reason=ErasureReason.LAWFUL_REQUEST,
                note=body.reference,
                ctx=context(actor),
                erased_on=clock.today(),
            )
        )

    @api.post(
        "/clients/{client_id}/legal-hold",
        response_model=LegalHoldView,
        tags=["erasure"],
        summary="Set or clear a legal hold: a held client is not erased when retention ends",
        responses=NOT_FOUND,
    )
    async def legal_hold(
        client_id: ClientIdPath, body: LegalHoldRequest, actor: Erases, svc: Service
    ) -> LegalHoldView:
        await svc.set_legal_hold(client_id, body.hold)
        return LegalHoldView(client_id=client_id, legal_hold=body.hold)

    return api
