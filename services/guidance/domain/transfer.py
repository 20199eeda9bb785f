"""Transfer to the municipality's rehabilitative work activity, its acknowledgement by
the receiving side, and the return."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, timedelta

from contracts.base import EventBase
from contracts.guidance import (
    ActivationPlan,
    ReturnedFromSocialServices,
    TransferAcknowledged,
    TransferredToSocialServices,
)
from runtime.decision import Context
from services.disclosure.policy import ConsentRecord, Crossing, Kind, decide, ensure
from services.guidance.domain.case import (
    OPENING_TRANSFER_ID,
    GuidanceCase,
    Status,
    Transfer,
    disclosure_client,
    require_open,
)
from services.guidance.domain.errors import CaseClosed, DomainError
from services.rules import ActivationPlanTerms, rules_in_force, validate_activation_plan

DEFAULT_ACKNOWLEDGEMENT_DAYS = 14


def transfer(
    state: GuidanceCase,
    *,
    transfer_id: str,
    receiving_municipality: str,
    transferred_on: date,
    plan: ActivationPlan,
    stays_open: bool,
    consents: Sequence[ConsentRecord],
    centre: Collection[str],
    ctx: Context,
) -> list[EventBase]:
    """A hand-over discloses the client's case to the receiving municipality's social
    services: the disclosure policy decides (centre staff; one of the ``centre``'s
    municipalities; a consent naming its social services in force on the transfer's
    date and today)."""
    ensure(
        decide(
            ctx.actor,
            Crossing(Kind.TRANSFER, municipality=receiving_municipality),
            disclosure_client(state, consents),
            on=(transferred_on, ctx.now.date()),
            centre=centre,
        )
    )
    require_open(state)
    if state.status is Status.WITH_SOCIAL_SERVICES:
        raise DomainError("the client is already with social services; record their return first")
    problems = validate_activation_plan(
        rules_in_force(transferred_on),
        ActivationPlanTerms(
            months=plan.months, days_per_week=plan.days_per_week, hours_per_day=plan.hours_per_day
        ),
    )
    if problems:
        raise DomainError("the activation plan breaks the rules in force: " + "; ".join(problems))
    if plan.start < transferred_on:
        raise DomainError("the activation plan cannot start before the transfer")
    return [
        TransferredToSocialServices(
            **ctx.envelope(state.client_id, state.version + 1),
            municipality=state.municipality,
            transfer_id=transfer_id,
            receiving_municipality=receiving_municipality,
            transferred_on=transferred_on,
            activation_plan=plan,
            relationship_stays_open=stays_open,
        )
    ]


def _find(state: GuidanceCase, transfer_id: str) -> Transfer:
    found = next((t for t in state.transfers if t.transfer_id == transfer_id), None)
    if found is None:
        raise DomainError(f"client {state.client_id} has no transfer {transfer_id}")
    return found


def _latest(state: GuidanceCase, transfer_id: str, doing: str) -> Transfer:
    """The transfer, which must be the latest one and not returned from."""
    handover = _find(state, transfer_id)
    if handover.returned_on is not None:
        raise DomainError(
            f"the client returned from transfer {transfer_id} on {handover.returned_on}; "
            f"it can no longer be {doing}"
        )
    latest = state.transfer
    if latest is not None and latest.transfer_id != transfer_id:
        raise DomainError(
            f"transfer {transfer_id} is not the client's latest transfer ({latest.transfer_id} is); "
            f"only the latest can be {doing}"
        )
    return handover


def _answering(state: GuidanceCase, handover: Transfer, kind: Kind, ctx: Context) -> None:
    """The disclosure policy on who answers a hand-over: only the social services that
    received it (or, for a return, the centre's guidance staff)."""
    crossing = Crossing(kind, municipality=handover.receiving_municipality)
    ensure(decide(ctx.actor, crossing, disclosure_client(state, ()), on=(ctx.now.date(),)))


def acknowledge(
    state: GuidanceCase,
    *,
    transfer_id: str,
    accepted: bool,
    reason: str | None,
    acknowledged_on: date,
    ctx: Context,
    plan: ActivationPlan | None = None,
) -> list[EventBase]:
    """Only the receiving municipality's social services acknowledge a hand-over, and
    only the latest one the client has not returned from; a declined one needs its
    reason and brings the client back to the centre. Accepting the hand-over the route
    opened (which has no activation plan) may record the plan's terms, checked against
    the rules in force on the plan's start; a transfer made by a guide has its plan."""
    if state.closed:
        raise CaseClosed(f"the guidance case of {state.client_id} is {state.status.value}")
    handover = _find(state, transfer_id)
    _answering(state, handover, Kind.ACKNOWLEDGEMENT, ctx)
    if handover.accepted is not None:
        raise DomainError(
            f"transfer {transfer_id} was already {'accepted' if handover.accepted else 'declined'}"
        )
    _latest(state, transfer_id, "acknowledged")
    if not accepted and not reason:
        raise DomainError("a declined hand-over needs the reason")
    if acknowledged_on < handover.transferred_on:
        raise DomainError("a transfer cannot be acknowledged before it was made")
    if plan is not None:
        _check_opening_plan(handover, plan, accepted=accepted)
    return [
        TransferAcknowledged(
            **ctx.envelope(state.client_id, state.version + 1),
            municipality=state.municipality,
            transfer_id=transfer_id,
            accepted=accepted,
            reason=reason,
            acknowledged_on=acknowledged_on,
            activation_plan=plan,
        )
    ]


def _check_opening_plan(handover: Transfer, plan: ActivationPlan, *, accepted: bool) -> None:
    if handover.transfer_id != OPENING_TRANSFER_ID:
        raise DomainError(
            f"transfer {handover.transfer_id} has its activation plan from the transfer; only the "
            f"hand-over the route opened ({OPENING_TRANSFER_ID}) takes one at acknowledgement"
        )
    if not accepted:
        raise DomainError("a declined hand-over has no activation plan")
    if plan.start < handover.transferred_on:
        raise DomainError("the activation plan cannot start before the hand-over")
    problems = validate_activation_plan(
        rules_in_force(plan.start),
        ActivationPlanTerms(
            months=plan.months, days_per_week=plan.days_per_week, hours_per_day=plan.hours_per_day
        ),
    )
    if problems:
        raise DomainError("the activation plan breaks the rules in force: " + "; ".join(problems))


def return_from_social_services(
    state: GuidanceCase, *, transfer_id: str, returned_on: date, ctx: Context
) -> list[EventBase]:
    """The client comes back from the latest transfer: to their guide if one is still
    named, else to wait for one. This also holds when the relationship ended at the
    transfer (``transferred_out``): the client may come back when ready."""
    if state.closed:
        raise CaseClosed(f"the guidance case of {state.client_id} is {state.status.value}")
    _answering(state, _find(state, transfer_id), Kind.RETURN, ctx)
    handover = _latest(state, transfer_id, "returned from")
    if not state.with_other_side or handover.accepted is False:
        raise DomainError(
            f"client {state.client_id} is not with social services under transfer {transfer_id}"
        )
    if returned_on < handover.transferred_on:
        raise DomainError("a client cannot return before the transfer")
    return [
        ReturnedFromSocialServices(
            **ctx.envelope(state.client_id, state.version + 1),
            municipality=state.municipality,
            transfer_id=transfer_id,
            returned_on=returned_on,
        )
    ]


def unacknowledged(state: GuidanceCase, today: date, *, within_days: int) -> Transfer | None:
    """The latest transfer if nobody acknowledged it within ``within_days`` while the
    client was with social services (a return or the closure ends the wait)."""
    latest = state.transfer
    if latest is None or latest.accepted is not None or latest.returned_on is not None or state.closed:
        return None
    return latest if today > latest.transferred_on + timedelta(days=within_days) else None
