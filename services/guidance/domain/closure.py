"""Re-assessment of a stalled case, and closure with the final assessment (*loppuarvio*)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from contracts.base import EventBase
from contracts.guidance import (
    ClientRelationshipClosed,
    Continuation,
    FinalAssessment,
    FinalAssessmentIssued,
    JointDecision,
    Outcome,
    OutsideLabourForceReason,
    ReassessmentCompleted,
)
from contracts.intake import Assessor, Route
from runtime.decision import Context
from services.guidance.domain.case import GuidanceCase, require_open
from services.guidance.domain.errors import CaseClosed, DomainError
from services.rules import add_months, closure_requires_joint_decision, rules_in_force


def reassess(
    state: GuidanceCase,
    *,
    reassessed_on: date,
    assessors: Sequence[Assessor],
    route: Route,
    reason: str,
    ctx: Context,
) -> list[EventBase]:
    """When a case stalls: the guide with the client's own social worker; may change the route."""
    require_open(state)
    if len(assessors) != 2 or len({a.person_id for a in assessors}) != 2:
        raise DomainError("a re-assessment is made by two people: the guide and the client's social worker")
    if not any(a.role == "social_worker" for a in assessors):
        raise DomainError("the client's own social worker is a co-assessor of a re-assessment")
    return [
        ReassessmentCompleted(
            **ctx.envelope(state.client_id, state.version + 1),
            municipality=state.municipality,
            reassessed_on=reassessed_on,
            assessors=tuple(assessors),
            previous_route=state.route,
            route=route,
            reason=reason,
        )
    ]


@dataclass(frozen=True)
class CloseRelationship:
    closed_on: date
    outcome: Outcome
    outside_labour_force_reason: OutsideLabourForceReason | None
    services_continue: Continuation
    follow_up_advisor_person_id: str | None
    final_assessment: FinalAssessment
    joint_decision: JointDecision | None


def months_between(start: date, end: date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if add_months(start, months) > end else months


def close(
    state: GuidanceCase, command: CloseRelationship, *, personal_identity_code: str, ctx: Context
) -> list[EventBase]:
    """Closing needs the final assessment and an outcome; under the 2015 and 2025 acts the
    three authorities' joint decision. The final assessment also goes to the TE-office's
    feed for URA. A case whose relationship ended at a transfer is closed the same way."""
    if state.closed:
        raise CaseClosed(f"the guidance case of {state.client_id} is {state.status.value}")
    if command.closed_on < state.opened_on:
        raise DomainError("a relationship cannot close before it opened")
    if command.closed_on > ctx.now.date():
        raise DomainError("a relationship cannot be closed on a future date")
    outside = command.outcome is Outcome.OUTSIDE_LABOUR_FORCE
    if outside != (command.outside_labour_force_reason is not None):
        raise DomainError(
            "outcome outside_labour_force needs its reason (pension, long_rehabilitation, carer, "
            "parental_leave), and only that outcome takes one"
        )
    if (command.services_continue is Continuation.LIGHT_FOLLOW_UP) != bool(
        command.follow_up_advisor_person_id
    ):
        raise DomainError("lighter follow-up needs the named employment advisor, and only it takes one")
    rules = rules_in_force(command.closed_on)
    if closure_requires_joint_decision(rules) and command.joint_decision is None:
        raise DomainError(
            f"under {rules.statute} closing needs the joint decision of the TE-office, the municipality "
            "and Kela: record who decided and when"
        )
    if command.joint_decision is not None and command.joint_decision.decided_on > command.closed_on:
        raise DomainError("the joint decision cannot come after the closure")
    shared = {
        "municipality": state.municipality,
        "outcome": command.outcome,
        "outside_labour_force_reason": command.outside_labour_force_reason,
        "services_continue": command.services_continue,
        "follow_up_advisor_person_id": command.follow_up_advisor_person_id,
        "final_assessment": command.final_assessment,
    }
    return [
        ClientRelationshipClosed(
            **ctx.envelope(state.client_id, state.version + 1),
            **shared,
            closed_on=command.closed_on,
            joint_decision=command.joint_decision,
            rule_set=rules.name,
            months_in_relationship=months_between(state.opened_on, command.closed_on),
        ),
        FinalAssessmentIssued(
            **ctx.envelope(state.client_id, state.version + 2),
            **shared,
            personal_identity_code=personal_identity_code,
            closed_on=command.closed_on,
        ),
    ]
