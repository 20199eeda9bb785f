"""Referral (*asiakkaaksi ohjautuminen*) and the intake queue's owner."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from contracts.base import EventBase
from contracts.intake import (
    ClientDetails,
    ClientReferred,
    DuplicateReferralReceived,
    PossibleDuplicateReason,
    ReferralHeldAsPossibleDuplicate,
    ReferralPicked,
    ReferralSource,
)
from contracts.names import UnknownName, canonical_municipality
from runtime.decision import Context
from services.intake.domain.case import IntakeCase
from services.intake.domain.errors import DomainError, FieldRequired, UnknownMunicipality
from services.intake.domain.status import rules_cover
from services.intake.identity import same_name


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
    held_id: str | None = None,
    look_alikes: Iterable[str] = (),
    already_held: bool = False,
) -> list[EventBase]:
    """A new client gets ``ClientReferred``. A client whose case exists gets no second
    case: a different referral is recorded on the existing case; one already received
    (the same source and date as the first referral or any recorded since, as in a
    re-imported list) changes nothing.

    A referral that may be of someone else is a *possible duplicate*, held on its own
    stream ``held_id`` for the intake advisor (``ReferralHeldAsPossibleDuplicate``) and
    written onto no case: the identity code is a known client's but the name is not
    theirs, or the code is new but ``look_alikes`` (clients with the same name and birth
    date under another code) exist. ``already_held``: this referral (code, source and
    date) was held before, so nothing is written again."""
    command = _check(command, tuple(municipalities), ctx)
    alike = tuple(dict.fromkeys(c for c in look_alikes if state is None or c != state.client_id))
    reason = possible_duplicate(state, command, alike)
    if reason is not None:
        if already_held:
            return []
        candidates = (state.client_id, *alike) if state is not None else alike
        return [_held(held_id, command, reason, candidates, ctx)]
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
    return [client_referred(command, client_id=client_id, ctx=ctx)]


def possible_duplicate(
    state: IntakeCase | None, command: RegisterReferral, look_alikes: tuple[str, ...]
) -> PossibleDuplicateReason | None:
    """Why the referral may be of someone already known, or None: the code's case
    (``state``) has another name, or the code is new and ``look_alikes`` exist."""
    if state is not None:
        name = command.client
        if not same_name(name.first_name, name.last_name, state.client.first_name, state.client.last_name):
            return PossibleDuplicateReason.SAME_CODE_OTHER_NAME
        return None
    return PossibleDuplicateReason.SAME_NAME_AND_BIRTH_DATE if look_alikes else None


def client_referred(command: RegisterReferral, *, client_id: str, ctx: Context) -> ClientReferred:
    """The event that opens a new client's intake case."""
    return ClientReferred(
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


def _check(command: RegisterReferral, allowed: tuple[str, ...], ctx: Context) -> RegisterReferral:
    """The rules every referral meets, whoever it is of (so a refusal tells nothing
    about whether the person is a client); the command with its municipality spelled
    as the centre's configuration spells it (``mikkeli`` -> ``Mikkeli``, ADR 0027)."""
    try:
        municipality = canonical_municipality(command.municipality, allowed)
    except UnknownName as exc:
        raise UnknownMunicipality(f"municipality {command.municipality!r}: {exc}") from None
    if command.source is ReferralSource.OTHER and not command.source_description:
        raise FieldRequired(
            "source_description",
            "missing_source_description",
            "source 'other' needs source_description (for example school or health care)",
        )
    if command.referral_date > ctx.now.date():
        raise DomainError("the referral date is in the future")
    if not rules_cover(command.referral_date):
        raise DomainError("no rules are in force before 2010-01-01; check the referral date")
    return replace(command, municipality=municipality)


def _held(
    held_id: str | None,
    command: RegisterReferral,
    reason: PossibleDuplicateReason,
    candidates: tuple[str, ...],
    ctx: Context,
) -> ReferralHeldAsPossibleDuplicate:
    if held_id is None:
        raise ValueError("a possible duplicate needs the id of the stream that holds it")
    return ReferralHeldAsPossibleDuplicate(
        **ctx.envelope(held_id, 1),
        municipality=command.municipality,
        reason=reason,
        candidate_client_ids=candidates[:50],
        source=command.source,
        source_description=command.source_description,
        referral_date=command.referral_date,
        subsidy_days=command.subsidy_days,
        unemployment_months=command.unemployment_months,
        need_based_reason=command.need_based_reason,
        client=command.client,
    )


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
