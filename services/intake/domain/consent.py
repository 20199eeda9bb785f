"""Consent (*suostumus*): given with scopes, withdrawn, and what a route needs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from contracts.base import EventBase
from contracts.intake import ConsentGiven, ConsentScope, ConsentWithdrawn, Route
from contracts.subjects import organisation_slug
from runtime.decision import Context
from services.intake.domain.case import IntakeCase
from services.intake.domain.errors import ConsentMissing, DomainError


def give_consent(
    state: IntakeCase,
    *,
    consent_id: str,
    scopes: Sequence[ConsentScope],
    organisations: Sequence[str],
    given_on: date,
    ctx: Context,
) -> list[EventBase]:
    if given_on > ctx.now.date():
        raise DomainError("a consent cannot be given on a future date")
    if state.consent(consent_id) is not None:
        raise DomainError(f"consent {consent_id} is already recorded")
    return [
        ConsentGiven(
            **ctx.envelope(state.client_id, state.version + 1),
            municipality=state.municipality,
            consent_id=consent_id,
            scopes=tuple(dict.fromkeys(scopes)),
            organisations=tuple(dict.fromkeys(organisations)),
            given_on=given_on,
        )
    ]


def withdraw_consent(
    state: IntakeCase, *, consent_id: str, withdrawn_on: date, ctx: Context
) -> list[EventBase]:
    consent = state.consent(consent_id)
    if consent is None:
        raise DomainError(f"client {state.client_id} has no consent {consent_id}")
    if consent.withdrawn_on is not None:
        return []
    if withdrawn_on < consent.given_on:
        raise DomainError("a consent cannot be withdrawn before it was given")
    return [
        ConsentWithdrawn(
            **ctx.envelope(state.client_id, state.version + 1),
            municipality=state.municipality,
            consent_id=consent_id,
            withdrawn_on=withdrawn_on,
        )
    ]


def social_services_of(municipality: str) -> str:
    """The organisation name of a municipality's social services in consents."""
    return f"social_services:{organisation_slug(municipality)}"


def required_consent(route: Route, municipality: str) -> list[str]:
    """What must be in force to route a client: routes into the centre need the move and
    the centre's data exchange; rehabilitative work activity also needs disclosure to
    the client's municipality's social services."""
    if route in (Route.INDIVIDUAL_SERVICE_GUIDANCE, Route.HEALTH_CHECK_FIRST):
        return [ConsentScope.MOVE_TO_CENTRE.value, ConsentScope.DATA_EXCHANGE_WITHIN_CENTRE.value]
    if route is Route.REHABILITATIVE_WORK_ACTIVITY:
        return [
            ConsentScope.MOVE_TO_CENTRE.value,
            ConsentScope.DATA_EXCHANGE_WITHIN_CENTRE.value,
            f"{ConsentScope.DISCLOSURE_TO_ORGANISATIONS.value}:{social_services_of(municipality)}",
        ]
    return []


def check_consent_for(state: IntakeCase, route: Route, on: date) -> None:
    """Raise :class:`ConsentMissing` naming every missing scope, if any."""
    in_force = state.consents_in_force(on)
    covered = {scope.value for c in in_force for scope in c.scopes}
    covered |= {
        f"{ConsentScope.DISCLOSURE_TO_ORGANISATIONS.value}:{org}"
        for c in in_force
        if ConsentScope.DISCLOSURE_TO_ORGANISATIONS in c.scopes
        for org in c.organisations
    }
    missing = [need for need in required_consent(route, state.municipality) if need not in covered]
    if missing:
        raise ConsentMissing(missing)
