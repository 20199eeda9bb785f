"""Intake's HTTP API: every command is an endpoint with a typed request and response."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from contracts.base import Actor
from contracts.intake import ClientDetails, ReferralSource
from runtime.eventstore import EventStore
from runtime.http import caller
from services.intake import domain


class ReferralRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: ReferralSource
    source_description: str | None = Field(default=None, max_length=200)
    municipality: str = Field(min_length=1, max_length=100, examples=["Mikkeli"])
    referral_date: date
    subsidy_days: int | None = Field(default=None, ge=0, le=10_000)
    unemployment_months: int | None = Field(default=None, ge=0, le=600)
    client: ClientDetails

    @model_validator(mode="after")
    def _other_needs_description(self) -> ReferralRequest:
        if self.source is ReferralSource.OTHER and not self.source_description:
            raise PydanticCustomError(
                "missing_source_description",
                "source 'other' needs source_description (for example school or health care)",
            )
        return self


class ReferralAccepted(BaseModel):
    client_id: str
    event_id: UUID
    stream_version: int


def router() -> APIRouter:
    api = APIRouter(tags=["referrals"])

    @api.post(
        "/referrals",
        status_code=status.HTTP_201_CREATED,
        response_model=ReferralAccepted,
        summary="Register a referral (emits ClientReferred)",
        responses={409: {"description": "Refused by a rule, or a concurrent change: retry"}},
    )
    async def register_referral(
        body: ReferralRequest, request: Request, actor: Annotated[Actor, Depends(caller)]
    ) -> ReferralAccepted:
        store: EventStore = request.app.state.event_store
        municipalities: tuple[str, ...] = request.app.state.municipalities
        client_id = f"client-{uuid4()}"
        ctx = domain.Context(actor=actor, now=datetime.now(UTC), correlation_id=uuid4(), new_event_id=uuid4())
        command = domain.RegisterReferral(**body.model_dump(exclude={"client"}), client=body.client)
        events = domain.register_referral(
            None, command, client_id=client_id, municipalities=municipalities, ctx=ctx
        )
        version = await store.append(client_id, 0, events)
        return ReferralAccepted(client_id=client_id, event_id=events[0].event_id, stream_version=version)

    return api
