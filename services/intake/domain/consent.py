"""Consent (*suostumus*): given with scopes, withdrawn, and what a route needs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from contracts.base import EventBase
from contracts.intake import ConsentGiven, ConsentScope, ConsentWithdrawn, Route
from contracts.subjects import social_services
from runtime.decision import Context
from services.disclosure.policy import consent_covering
from services.intake.domain.case import Consent, IntakeCase, disclosure_client
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
    """A withdrawal takes effect on its date. It cannot be dated in the future, nor
    before the assessment that routed the client on this consent: that routing was
    lawful on its day, and a backdated withdrawal would rewrite it."""
    consent = state.consent(consent_id)
    if consent is None:
        raise DomainError(f"client {state.client_id} has no consent {consent_id}")
    if consent.withdrawn_on is not None:
        return []
    if withdrawn_on < consent.given_on:
        raise DomainError("a consent cannot be withdrawn before it was given")
    if withdrawn_on > ctx.now.date():
        raise DomainError(
            f"a consent cannot be withdrawn on a future date ({withdrawn_on}; today is {ctx.now.date()}): "
            "record the withdrawal on the day the client withdraws it"
        )
    routed = state.assessment
    if routed is not None and withdrawn_on < routed.assessed_on and routed_on(state, consent):
        raise DomainError(
            f"the assessment of {routed.assessed_on} routed the client on consent {consent_id}, so its "
            f"withdrawal cannot be dated before {routed.assessed_on}: record it as of "
            f"{routed.assessed_on} or later"
        )
    return [
        ConsentWithdrawn(
            **ctx.envelope(state.client_id, state.version + 1),
            municipality=state.municipality,
            consent_id=consent_id,
            withdrawn_on=withdrawn_on,
        )
    ]


def routed_on(state: IntakeCase, consent: Consent) -> bool:
    """Whether the client's assessment routed them on ``consent``: it was in force on the
    assessment date and covers something the route needed."""
    routed = state.assessment
    if routed is None or not consent.in_force(routed.assessed_on):
        return False
    needed = set(required_consent(routed.route, state.municipality))
    return bool(needed & covered_by([consent]))


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
            f"{ConsentScope.DISCLOSURE_TO_ORGANISATIONS.value}:{social_services(municipality)}",
        ]
    return []


def covered_by(consents: Iterable[Consent]) -> set[str]:
    """What ``consents`` cover, in the terms of :func:`required_consent`."""
    found = list(consents)
    covered = {scope.value for c in found for scope in c.scopes}
    covered |= {
        f"{ConsentScope.DISCLOSURE_TO_ORGANISATIONS.value}:{org}"
        for c in found
        if ConsentScope.DISCLOSURE_TO_ORGANISATIONS in c.scopes
        for org in c.organisations
    }
    return covered


def check_consent_for(state: IntakeCase, route: Route, *days: date) -> None:
    """Raise :class:`ConsentMissing` naming every scope the route needs that no consent
    covers on each of ``days`` (for an assessment: its date and the day it is recorded).
    Whether a consent covers a scope on a day is the disclosure policy's to say."""
    needed = required_consent(route, state.municipality)
    client = disclosure_client(state)
    missing = [need for need in needed if any(consent_covering(client, need, (on,)) is None for on in days)]
    if missing:
        raise ConsentMissing(missing, days=sorted(set(days)))
