"""The client's consents (*suostumukset*) and their withdrawal."""

from __future__ import annotations

from uuid import uuid4

from fastapi import APIRouter

from runtime.http import context
from runtime.known_names import organisation_at
from services.intake.api.dependencies import (
    CONFLICT,
    NOT_FOUND,
    ClientIdPath,
    ConsentIdPath,
    RecordsConsent,
    Service,
)
from services.intake.api.models import ConsentRecorded, ConsentRequest, WithdrawalRequest, Written
from services.intake.api.views import written
from services.intake.domain import consent


def router() -> APIRouter:
    api = APIRouter()

    @api.post(
        "/clients/{client_id}/consents",
        response_model=ConsentRecorded,
        status_code=201,
        tags=["consent"],
        summary="Record the client's consent and its scopes",
        responses={**NOT_FOUND, **CONFLICT},
    )
    async def give(
        client_id: ClientIdPath, body: ConsentRequest, actor: RecordsConsent, svc: Service
    ) -> ConsentRecorded:
        # one spelling per organisation, so a consent to social_services:Mikkeli matches
        # the social_services:mikkeli every check asks for (ADR 0027)
        organisations = [
            organisation_at(name, svc.municipalities, "body", "organisations", i)
            for i, name in enumerate(body.organisations)
        ]
        ctx = context(actor)
        consent_id = f"consent-{uuid4()}"
        outcome = await svc.execute(
            client_id,
            lambda s: consent.give_consent(
                s,
                consent_id=consent_id,
                scopes=body.scopes,
                organisations=organisations,
                given_on=body.given_on,
                ctx=ctx,
            ),
        )
        return ConsentRecorded(**written(outcome).model_dump(), consent_id=consent_id)

    @api.post(
        "/clients/{client_id}/consents/{consent_id}/withdrawal",
        response_model=Written,
        tags=["consent"],
        summary="Record that the client withdrew a consent",
        responses={**NOT_FOUND, **CONFLICT},
    )
    async def withdraw(
        client_id: ClientIdPath,
        consent_id: ConsentIdPath,
        body: WithdrawalRequest,
        actor: RecordsConsent,
        svc: Service,
    ) -> Written:
        ctx = context(actor)
        return written(
            await svc.execute(
                client_id,
                lambda s: consent.withdraw_consent(
                    s, consent_id=consent_id, withdrawn_on=body.withdrawn_on, ctx=ctx
                ),
            )
        )

    return api
