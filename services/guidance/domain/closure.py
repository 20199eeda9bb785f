"""Re-assessment of a stalled case, the guide's closure proposal (*päättämisesitys*), and
closure with the final assessment (*loppuarvio*).

Who decides a closure is one rule, :func:`closure_decision` and :func:`check_decider`,
read from the rule set in force on the closure's date (docs/adr/0031):

- seed (2010-2014): the guide "decides or proposes". The guide may close at once; a
  pending proposal may be decided by anyone who records closures, the proposer too.
- Acts 1369/2014 and 381/2023: "the three authorities jointly assess that the need has
  ended". The closure decides the guide's proposal, so one must be pending; it records
  the joint decision of three distinct people (TE-office, municipality, Kela), made on or
  after the proposal; and it is recorded by someone other than the proposing guide, who
  cannot decide their own proposal alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from contracts.base import EventBase
from contracts.guidance import (
    ClientRelationshipClosed,
    ClosureDecision,
    ClosureProposed,
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
from services.guidance.domain.case import ClosureProposal, GuidanceCase, require_open
from services.guidance.domain.errors import CaseClosed, DomainError, NotPermitted
from services.rules import RuleSet, add_months, closure_requires_joint_decision, rules_in_force


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


def closure_decision(rules: RuleSet) -> ClosureDecision:
    """Who decides a closure under ``rules``: the guide (seed) or the joint assessment."""
    return (
        ClosureDecision.JOINT_ASSESSMENT if closure_requires_joint_decision(rules) else ClosureDecision.GUIDE
    )


def check_decider(
    rules: RuleSet,
    *,
    proposal: ClosureProposal | None,
    decider_person_id: str,
    joint_decision: JointDecision | None,
    closed_on: date,
) -> None:
    """Whether ``decider_person_id`` may decide the closure on ``closed_on`` under
    ``rules``, given the pending ``proposal``: the one rule of who decides (module doc)."""
    if proposal is not None and closed_on < proposal.proposed_on:
        raise DomainError(f"the closure cannot come before its proposal of {proposal.proposed_on}")
    if closure_decision(rules) is ClosureDecision.GUIDE:
        return
    if joint_decision is None:
        raise DomainError(
            f"under {rules.statute} closing needs the joint decision of the TE-office, the municipality "
            "and Kela: record who decided and when"
        )
    if proposal is None:
        raise DomainError(
            f"under {rules.statute} the three authorities jointly assess that the need has ended: the "
            "guide first proposes the closure (POST /cases/{client_id}/closure-proposal)"
        )
    people = (
        joint_decision.te_office_person_id,
        joint_decision.municipality_person_id,
        joint_decision.kela_person_id,
    )
    if len(set(people)) != 3:
        raise DomainError("the joint decision is made by three people, one for each authority")
    if joint_decision.decided_on < proposal.proposed_on:
        raise DomainError(f"the joint decision cannot come before the proposal of {proposal.proposed_on}")
    if decider_person_id == proposal.proposed_by:
        raise NotPermitted(
            f"under {rules.statute} the proposing guide ({proposal.proposed_by}) cannot decide their own "
            "proposal: someone else records the joint assessment"
        )


@dataclass(frozen=True)
class ProposeClosure:
    proposed_on: date
    outcome: Outcome
    services_continue: Continuation
    reason: str


def propose(state: GuidanceCase, command: ProposeClosure, *, ctx: Context) -> list[EventBase]:
    """The guide proposes to end the relationship: the client's named guide, or (with
    none named) anyone who may propose. Also on a case whose relationship ended at a
    transfer, which may still be closed."""
    if state.closed:
        raise CaseClosed(f"the guidance case of {state.client_id} is {state.status.value}")
    if command.proposed_on < state.opened_on:
        raise DomainError("a closure cannot be proposed before the relationship opened")
    if command.proposed_on > ctx.now.date():
        raise DomainError("a closure cannot be proposed on a future date")
    if state.guide is not None and ctx.actor.person_id != state.guide:
        raise NotPermitted(f"only the client's named guide ({state.guide}) proposes the closure")
    rules = rules_in_force(command.proposed_on)
    return [
        ClosureProposed(
            **ctx.envelope(state.client_id, state.version + 1),
            municipality=state.municipality,
            proposed_on=command.proposed_on,
            outcome=command.outcome,
            services_continue=command.services_continue,
            reason=command.reason,
            rule_set=rules.name,
            decision=closure_decision(rules),
        )
    ]


def months_between(start: date, end: date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if add_months(start, months) > end else months


def close(
    state: GuidanceCase, command: CloseRelationship, *, personal_identity_code: str, ctx: Context
) -> list[EventBase]:
    """Closing needs the final assessment and an outcome; who may decide it is
    :func:`check_decider` (under the 2015 and 2025 acts the three authorities' joint
    decision on the guide's proposal). The final assessment also goes to the TE-office's
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
    proposal = state.closure_proposal
    check_decider(
        rules,
        proposal=proposal,
        decider_person_id=ctx.actor.person_id,
        joint_decision=command.joint_decision,
        closed_on=command.closed_on,
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
            proposed_on=proposal.proposed_on if proposal else None,
            proposed_by_person_id=proposal.proposed_by if proposal else None,
        ),
        FinalAssessmentIssued(
            **ctx.envelope(state.client_id, state.version + 2),
            **shared,
            personal_identity_code=personal_identity_code,
            closed_on=command.closed_on,
        ),
    ]
