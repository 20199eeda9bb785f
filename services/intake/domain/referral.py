"""Referral (*asiakkaaksi ohjautuminen*) and the intake queue's owner."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from contracts.base import EventBase
from contracts.intake import (
    ClientDetails,
    ClientReferred,
    DuplicateReferralReceived,
    ReferralPicked,
    ReferralSource,
)
from runtime.decision import Context
from services.intake.domain.case import IntakeCase
from services.intake.domain.errors import DomainError, UnknownMunicipality
from services.intake.domain.status import rules_cover

#: The seven municipalities of the seed's centre; configuration may replace them.
DEFAULT_MUNICIPALITIES = (
    "Mikkeli",
    "Hirvensalmi",
    "Kangasniemi",
    "Mäntyharju",
    "Pertunmaa",
    "Puumala",
    "Ristiina",
)


@dataclass(frozen=True)
class RegisterReferral:
    """Command: register a referral of a client to the centre."""

    source: ReferralSource
    source_description: str | None
    municipality: str
    referral_date: date
    subsidy_days: int | None
    unemployment_months: int | None
    client: ClientDetails
    need_based_reason: str | None = None


def register_referral(
    state: IntakeCase | None,
    command: RegisterReferral,
    *,
    client_id: str,
    municipalities: Iterable[str],
    ctx: Context,
) -> list[EventBase]:
    """A new client gets ``ClientReferred``. A client whose case exists gets no second
    case: a different referral is recorded on the existing case; one already received
    (the same source and date as the first referral or any recorded since, as in a
    re-imported list) changes nothing."""
    allowed = tuple(municipalities)
    if command.municipality not in allowed:
        raise UnknownMunicipality(
            f"municipality {command.municipality!r} is not one of this centre's: " + ", ".join(allowed)
        )
    if command.source is ReferralSource.OTHER and not command.source_description:
        raise DomainError("a referral from source 'other' needs a description of the source")
    if command.referral_date > ctx.now.date():
        raise DomainError("the referral date is in the future")
    if not rules_cover(command.referral_date):
        raise DomainError("no rules are in force before 2010-01-01; check the referral date")
    if state is not None:
        if state.received(command.source, command.referral_date):
            return []
        return [
            DuplicateReferralReceived(
                **ctx.envelope(state.client_id, state.version + 1),
                municipality=state.municipality,
                source=command.source,
                source_description=command.source_description,
                referral_date=command.referral_date,
            )
        ]
    return [
        ClientReferred(
            **ctx.envelope(client_id, 1),
            source=command.source,
            source_description=command.source_description,
            municipality=command.municipality,
            referral_date=command.referral_date,
            subsidy_days=command.subsidy_days,
            unemployment_months=command.unemployment_months,
            need_based_reason=command.need_based_reason,
            client=command.client,
        )
    ]


def pick_referral(state: IntakeCase, *, ctx: Context) -> list[EventBase]:
    """The caller takes the client from the queue and owns the case from now on."""
    if state.owner == ctx.actor.person_id:
        return []
    return [
        ReferralPicked(
            **ctx.envelope(state.client_id, state.version + 1),
            municipality=state.municipality,
            owner_person_id=ctx.actor.person_id,
        )
    ]
