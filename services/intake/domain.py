"""Intake's pure domain: decisions as functions of state and command, returning events.

No I/O here: the clock, new ids and the actor come in as arguments.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from contracts.base import Actor, EventBase
from contracts.intake import ClientDetails, ClientReferred, ReferralSource

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


class DomainError(Exception):
    """A business rule refused the command; the message says what to do."""


class UnknownMunicipality(DomainError):
    pass


class AlreadyReferred(DomainError):
    pass


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


@dataclass(frozen=True)
class IntakeCase:
    """The state of one client's intake stream, folded from its events."""

    client_id: str
    version: int
    source: ReferralSource
    municipality: str


@dataclass(frozen=True)
class Context:
    """Everything a decision needs from outside: who, when, and fresh ids."""

    actor: Actor
    now: datetime
    correlation_id: UUID
    new_event_id: UUID


def evolve(state: IntakeCase | None, event: EventBase) -> IntakeCase | None:
    if isinstance(event, ClientReferred):
        return IntakeCase(event.stream_id, event.stream_version, event.source, event.municipality)
    return state


def fold(events: Iterable[EventBase]) -> IntakeCase | None:
    state: IntakeCase | None = None
    for event in events:
        state = evolve(state, event)
    return state


def register_referral(
    state: IntakeCase | None,
    command: RegisterReferral,
    *,
    client_id: str,
    municipalities: Iterable[str],
    ctx: Context,
) -> list[EventBase]:
    if state is not None:
        raise AlreadyReferred(f"client {client_id} is already referred; see their intake case")
    allowed = tuple(municipalities)
    if command.municipality not in allowed:
        raise UnknownMunicipality(
            f"municipality {command.municipality!r} is not one of this centre's: " + ", ".join(allowed)
        )
    if command.source is ReferralSource.OTHER and not command.source_description:
        raise DomainError("a referral from source 'other' needs a description of the source")
    if command.referral_date > ctx.now.date():
        raise DomainError("the referral date is in the future")
    return [
        ClientReferred(
            event_id=ctx.new_event_id,
            stream_id=client_id,
            stream_version=1,
            occurred_at=datetime.combine(command.referral_date, datetime.min.time(), ctx.now.tzinfo),
            recorded_at=ctx.now,
            actor=ctx.actor,
            correlation_id=ctx.correlation_id,
            source=command.source,
            source_description=command.source_description,
            municipality=command.municipality,
            referral_date=command.referral_date,
            subsidy_days=command.subsidy_days,
            unemployment_months=command.unemployment_months,
            client=command.client,
        )
    ]
