"""Possible duplicates (*mahdolliset kaksoiskappaleet*): referrals held for the intake
advisor because they may be of a client already known, and their resolution."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from contracts.base import EventBase
from contracts.intake import (
    DuplicateReferralReceived,
    PossibleDuplicateReason,
    PossibleDuplicateResolution,
    PossibleDuplicateResolved,
    ReferralHeldAsPossibleDuplicate,
)
from runtime.decision import Context
from services.intake.domain.case import IntakeCase
from services.intake.domain.errors import DomainError
from services.intake.domain.referral import RegisterReferral, client_referred


@dataclass(frozen=True)
class HeldReferral:
    """A referral held as a possible duplicate, folded from its own stream."""

    referral_id: str
    version: int
    held: ReferralHeldAsPossibleDuplicate
    resolved: PossibleDuplicateResolved | None = None

    @property
    def reason(self) -> PossibleDuplicateReason:
        return self.held.reason

    @property
    def candidates(self) -> tuple[str, ...]:
        return self.held.candidate_client_ids

    def command(self) -> RegisterReferral:
        """The referral as it was registered."""
        h = self.held
        return RegisterReferral(
            source=h.source,
            source_description=h.source_description,
            municipality=h.municipality,
            referral_date=h.referral_date,
            subsidy_days=h.subsidy_days,
            unemployment_months=h.unemployment_months,
            need_based_reason=h.need_based_reason,
            client=h.client,
        )


def fold_held(events: Iterable[EventBase]) -> HeldReferral | None:
    state: HeldReferral | None = None
    for event in events:
        if isinstance(event, ReferralHeldAsPossibleDuplicate):
            state = HeldReferral(event.stream_id, event.stream_version, event)
        elif state is not None and isinstance(event, PossibleDuplicateResolved):
            state = HeldReferral(state.referral_id, event.stream_version, state.held, event)
    return state


@dataclass(frozen=True)
class Resolution:
    """What resolving a held referral writes: on the held stream, and on one case."""

    held_events: list[EventBase]
    case_id: str | None = None
    case_events: list[EventBase] = field(default_factory=list)


def resolve(
    held: HeldReferral,
    resolution: PossibleDuplicateResolution,
    *,
    client_id: str | None,
    case: IntakeCase | None,
    new_client_id: str,
    ctx: Context,
    own_case: IntakeCase | None = None,
) -> Resolution:
    """Same person: the referral is recorded on the candidate ``client_id``'s ``case``
    (nothing new if that case already received it). Different people: a referral whose
    identity code was new opens a case of its own (``new_client_id``), or is recorded on
    ``own_case`` if its code has one by now (another referral of it was resolved first);
    one whose code is another client's is dismissed, since a code is one person's."""
    if held.resolved is not None:
        raise DomainError(
            f"possible duplicate {held.referral_id} is already resolved ({held.resolved.resolution.value})"
        )
    if resolution is PossibleDuplicateResolution.SAME_PERSON:
        if client_id is None or client_id not in held.candidates:
            raise DomainError(
                "same_person needs client_id, one of the candidates: " + ", ".join(held.candidates)
            )
        if case is None:
            raise DomainError(f"candidate {client_id} has no intake case any more")
        return _recorded_on(held, resolution, case, ctx)
    if client_id is not None:
        raise DomainError("different_people takes no client_id")
    if held.reason is PossibleDuplicateReason.SAME_CODE_OTHER_NAME:
        return Resolution([_resolved(held, resolution, None, ctx)])
    if own_case is not None:
        return _recorded_on(held, resolution, own_case, ctx)
    opened = client_referred(held.command(), client_id=new_client_id, ctx=ctx)
    return Resolution([_resolved(held, resolution, new_client_id, ctx)], new_client_id, [opened])


def _recorded_on(
    held: HeldReferral, resolution: PossibleDuplicateResolution, case: IntakeCase, ctx: Context
) -> Resolution:
    """The held referral recorded on ``case`` (nothing new if it already received it)."""
    command = held.command()
    case_events: list[EventBase] = []
    if not case.received(command.source, command.referral_date):
        case_events.append(
            DuplicateReferralReceived(
                **ctx.envelope(case.client_id, case.version + 1),
                municipality=case.municipality,
                source=command.source,
                source_description=command.source_description,
                referral_date=command.referral_date,
            )
        )
    return Resolution([_resolved(held, resolution, case.client_id, ctx)], case.client_id, case_events)


def _resolved(
    held: HeldReferral, resolution: PossibleDuplicateResolution, client_id: str | None, ctx: Context
) -> PossibleDuplicateResolved:
    return PossibleDuplicateResolved(
        **ctx.envelope(held.referral_id, held.version + 1),
        municipality=held.held.municipality,
        resolution=resolution,
        client_id=client_id,
    )
