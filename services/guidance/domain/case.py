"""The state of one client's guidance case, folded from its events."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from contracts.base import EventBase
from contracts.guidance import (
    ClientRelationshipClosed,
    ClosureDecision,
    ClosureProposed,
    Continuation,
    GuidanceCaseOpened,
    GuideAssigned,
    HealthCheckSummaryRecorded,
    Measure,
    Outcome,
    Phase,
    PhaseChanged,
    PlanRevised,
    ReassessmentCompleted,
    ReturnedFromSocialServices,
    TransferAcknowledged,
    TransferredToSocialServices,
)
from contracts.intake import ClientProfile, Route
from services.disclosure.policy import Client, ConsentRecord
from services.guidance.domain.errors import CaseClosed, RelationshipEnded
from services.rules.caseload import Handover, counts_in_caseload, relationship_open

#: The transfer id of the implicit hand-over when a case opens already with social
#: services (the route rehabilitative_work_activity): it is acknowledged and returned
#: from like any transfer.
OPENING_TRANSFER_ID = "opening"


class Status(StrEnum):
    """Where a guidance case stands: waiting for a named guide, active, with the
    municipality's social services (the relationship open), transferred out (closed
    there), or closed."""

    WAITING_FOR_GUIDE = "waiting_for_guide"
    ACTIVE = "active"
    WITH_SOCIAL_SERVICES = "with_social_services"
    TRANSFERRED_OUT = "transferred_out"
    CLOSED = "closed"


@dataclass(frozen=True)
class Transfer:
    transfer_id: str
    receiving_municipality: str
    transferred_on: date
    stays_open: bool
    accepted: bool | None = None
    acknowledged_on: date | None = None
    returned_on: date | None = None


@dataclass(frozen=True)
class HealthSummary:
    checked_on: date
    work_restrictions_found: bool
    recommended_next_step: str


@dataclass(frozen=True)
class ClosureProposal:
    """A pending closure proposal (*päättämisesitys*) and who made it."""

    proposed_on: date
    proposed_by: str
    outcome: Outcome
    services_continue: Continuation
    reason: str
    decision: ClosureDecision


@dataclass(frozen=True)
class GuidanceCase:
    client_id: str
    version: int
    municipality: str
    opened_on: date
    route: Route
    profile: ClientProfile | None
    ministry_segment: int | None
    rule_set: str
    status: Status
    waiting_since: date
    guide: str | None = None
    guide_role: str | None = None
    guides_before: tuple[str, ...] = ()
    phase: Phase = Phase.REFERRAL
    plan_revision: int = 0
    measures: tuple[Measure, ...] = ()
    plan_drawn_on: date | None = None
    last_review_on: date | None = None
    health: HealthSummary | None = None
    transfers: tuple[Transfer, ...] = ()
    reassessments: int = 0
    closed_on: date | None = None
    outcome: Outcome | None = None
    #: opened again after a closure: the client's referral belongs to an earlier relationship
    reopened: bool = False
    #: the pending closure proposal; a re-assessment (the case goes on) clears it
    closure_proposal: ClosureProposal | None = None

    @property
    def latest_handover(self) -> Handover | None:
        """The latest hand-over to social services, as the caseload rule reads it."""
        latest = self.transfer
        if latest is None:
            return None
        return Handover(
            relationship_stays_open=latest.stays_open,
            declined=latest.accepted is False,
            returned=latest.returned_on is not None,
        )

    @property
    def open(self) -> bool:
        """In the centre's relationship: neither closed nor ended at a transfer
        (:func:`services.rules.caseload.relationship_open`; the status says the same)."""
        return relationship_open(closed=self.closed, latest_handover=self.latest_handover)

    @property
    def in_active_guidance(self) -> bool:
        """Counts in its named guide's caseload (:mod:`services.rules.caseload`)."""
        return counts_in_caseload(
            guide_named=self.guide is not None, closed=self.closed, latest_handover=self.latest_handover
        )

    @property
    def closed(self) -> bool:
        return self.status is Status.CLOSED

    @property
    def transfer(self) -> Transfer | None:
        """The latest transfer, if any."""
        return self.transfers[-1] if self.transfers else None

    @property
    def with_other_side(self) -> bool:
        """Handed to social services: the relationship stays open, or ended at the transfer."""
        return self.status in (Status.WITH_SOCIAL_SERVICES, Status.TRANSFERRED_OUT)

    def current_transfer(self, transfer_id: str) -> bool:
        """Whether ``transfer_id`` is the latest transfer and the client has not returned from it."""
        latest = self.transfer
        return latest is not None and latest.transfer_id == transfer_id and latest.returned_on is None

    def _with_transfer(self, transfer_id: str, **changes: object) -> tuple[Transfer, ...]:
        return tuple(replace(t, **changes) if t.transfer_id == transfer_id else t for t in self.transfers)  # type: ignore[arg-type]


def disclosure_client(state: GuidanceCase, consents: Sequence[ConsentRecord]) -> Client:
    """The client as the disclosure policy sees them: their municipality, the consents
    intake recorded, and the named guide, whose task the client is."""
    return Client(
        client_id=state.client_id,
        municipality=state.municipality,
        consents=consents,
        task_holders=frozenset({state.guide} if state.guide else ()),
    )


def require_open(state: GuidanceCase) -> None:
    """Refuse a command on a closed case, or on one whose relationship ended at a transfer
    (which takes only the client's return or the closure)."""
    if state.status is Status.TRANSFERRED_OUT:
        raise RelationshipEnded(state.client_id)
    if state.closed:
        raise CaseClosed(f"the guidance case of {state.client_id} is {state.status.value}")


def evolve(state: GuidanceCase | None, event: EventBase) -> GuidanceCase | None:
    if isinstance(event, GuidanceCaseOpened):
        # A case opened already with social services is an implicit hand-over to the
        # client's municipality on the opening date: acknowledged, flagged and returned
        # from like any transfer.
        opening = (
            (
                Transfer(
                    OPENING_TRANSFER_ID,
                    receiving_municipality=event.municipality,
                    transferred_on=event.opened_on,
                    stays_open=True,
                ),
            )
            if event.handed_to_social_services
            else ()
        )
        return GuidanceCase(
            client_id=event.stream_id,
            version=event.stream_version,
            municipality=event.municipality,
            opened_on=event.opened_on,
            route=event.route,
            profile=event.profile,
            ministry_segment=event.ministry_segment,
            rule_set=event.rule_set,
            status=Status.WITH_SOCIAL_SERVICES
            if event.handed_to_social_services
            else Status.WAITING_FOR_GUIDE,
            waiting_since=event.opened_on,
            transfers=opening,
            reopened=state is not None,
        )
    if state is None:
        return None
    state = replace(state, version=event.stream_version)
    match event:
        case GuideAssigned():
            before = (*state.guides_before, state.guide) if state.guide else state.guides_before
            status: Status = Status.ACTIVE if state.status is Status.WAITING_FOR_GUIDE else state.status
            return replace(
                state,
                guide=event.guide_person_id,
                guide_role=event.guide_role,
                guides_before=before,
                status=status,
            )
        case PhaseChanged():
            return replace(state, phase=event.phase)
        case PlanRevised():
            return replace(
                state,
                plan_revision=event.revision,
                measures=event.measures,
                plan_drawn_on=state.plan_drawn_on or event.revised_on,
                last_review_on=event.revised_on,
            )
        case HealthCheckSummaryRecorded():
            summary = HealthSummary(
                event.checked_on, event.work_restrictions_found, event.recommended_next_step
            )
            return replace(state, health=summary)
        case TransferredToSocialServices():
            transfer = Transfer(
                event.transfer_id,
                event.receiving_municipality,
                event.transferred_on,
                event.relationship_stays_open,
            )
            status = Status.WITH_SOCIAL_SERVICES if event.relationship_stays_open else Status.TRANSFERRED_OUT
            return replace(state, transfers=(*state.transfers, transfer), status=status)
        case TransferAcknowledged():
            transfers = state._with_transfer(
                event.transfer_id, accepted=event.accepted, acknowledged_on=event.acknowledged_on
            )
            status = state.status
            # Only a decline of the current hand-over brings the client back; a late
            # acknowledgement of an earlier transfer (recorded before this was refused)
            # changes nothing but that transfer's record.
            if not event.accepted and state.current_transfer(event.transfer_id) and state.with_other_side:
                status = Status.ACTIVE if state.guide else Status.WAITING_FOR_GUIDE
            return replace(state, transfers=transfers, status=status)
        case ReturnedFromSocialServices():
            transfers = state._with_transfer(event.transfer_id, returned_on=event.returned_on)
            if not (state.current_transfer(event.transfer_id) and state.with_other_side):
                return replace(state, transfers=transfers)
            status = Status.ACTIVE if state.guide else Status.WAITING_FOR_GUIDE
            return replace(state, transfers=transfers, status=status, waiting_since=event.returned_on)
        case ReassessmentCompleted():
            return replace(
                state, route=event.route, reassessments=state.reassessments + 1, closure_proposal=None
            )
        case ClosureProposed():
            proposal = ClosureProposal(
                proposed_on=event.proposed_on,
                proposed_by=event.actor.person_id,
                outcome=event.outcome,
                services_continue=event.services_continue,
                reason=event.reason,
                decision=event.decision,
            )
            return replace(state, closure_proposal=proposal)
        case ClientRelationshipClosed():
            return replace(
                state,
                status=Status.CLOSED,
                closed_on=event.closed_on,
                outcome=event.outcome,
                phase=Phase.CLOSURE,
            )
    return state


def fold(events: Iterable[EventBase], state: GuidanceCase | None = None) -> GuidanceCase | None:
    for event in events:
        state = evolve(state, event)
    return state
