"""Events emitted by the intake service (referral to routed assessment)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.base import EventBase, PersonalData, Side
from contracts.subjects import organisation_slug


class ReferralSource(StrEnum):
    """Where a referral came from (*asiakkaaksi ohjautuminen*)."""

    TE_OFFICE = "te_office"
    SOCIAL_SERVICES = "social_services"
    SELF_REFERRAL = "self_referral"
    OTHER = "other"


class ClientDetails(BaseModel):
    """The client's personal details. Every field here is personal data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    first_name: Annotated[str, PersonalData()] = Field(min_length=1, max_length=100)
    last_name: Annotated[str, PersonalData()] = Field(min_length=1, max_length=100)
    personal_identity_code: Annotated[str, PersonalData()] = Field(
        pattern=r"^\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]$",
        description="Finnish personal identity code (henkilötunnus)",
        examples=["010190-123A"],
    )


class ClientReferred(EventBase):
    """A client was referred to the centre (*asiakkaaksi ohjautuminen*).

    v2: ``source`` is an enum with ``source_description`` beside it (v1 stored URA's
    Finnish source code; see :mod:`contracts.upcasters`).
    """

    event_type: ClassVar[str] = "ClientReferred"
    schema_version: ClassVar[int] = 2
    producer: ClassVar[str] = "intake"

    source: ReferralSource
    source_description: str | None = Field(
        default=None,
        max_length=200,
        description="Required for source 'other': school, health care, a partner",
    )
    municipality: str = Field(min_length=1, max_length=100, examples=["Mikkeli"])
    referral_date: date
    subsidy_days: int | None = Field(
        default=None, ge=0, le=10_000, description="Days of labour-market subsidy, if known"
    )
    unemployment_months: int | None = Field(
        default=None, ge=0, le=600, description="Months of unemployment, if known"
    )
    client: ClientDetails

    @model_validator(mode="after")
    def _other_needs_description(self) -> ClientReferred:
        if self.source is ReferralSource.OTHER and not self.source_description:
            raise ValueError("a referral from source 'other' needs source_description")
        return self

    def subject_side(self) -> Side:
        return Side.CENTRE

    def subject_organisation(self) -> str:
        return organisation_slug(self.municipality)
