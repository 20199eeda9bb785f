"""From the domain's state to guidance's response models (the view mapping)."""

from __future__ import annotations

from datetime import date

from services.guidance.api.models import (
    CaseView,
    ClosureProposalView,
    Flags,
    GuideView,
    TransferView,
    Written,
)
from services.guidance.application import Outcome as Wrote
from services.guidance.domain import guides, plan, transfer
from services.guidance.domain.case import GuidanceCase


def written(outcome: Wrote) -> Written:
    return Written(
        client_id=outcome.state.client_id,
        stream_version=outcome.state.version,
        event_ids=[e.event_id for e in outcome.events],
    )


def waiting_days(since: date, as_of: date) -> int:
    """Whole days from the business date a wait began to ``as_of`` (none before it began)."""
    return max(0, (as_of - since).days)


def case_view(
    state: GuidanceCase, today: date, *, acknowledgement_days: int, referral_date: date | None = None
) -> CaseView:
    due = plan.deadlines(state, today, referral_date=referral_date)
    return CaseView(
        client_id=state.client_id,
        version=state.version,
        municipality=state.municipality,
        status=state.status,
        opened_on=state.opened_on,
        waiting_since=state.waiting_since,
        # a closed relationship waits no longer: its count stops on the closure's date
        waiting_days=waiting_days(state.waiting_since, min(today, state.closed_on or today)),
        route=state.route,
        profile=state.profile,
        ministry_segment=state.ministry_segment,
        rule_set=state.rule_set,
        guide=state.guide,
        guide_role=state.guide_role,
        previous_guides=list(state.guides_before),
        phase=state.phase,
        plan_revision=state.plan_revision,
        measures=list(state.measures),
        health_check=None
        if state.health is None
        else {
            "checked_on": state.health.checked_on,
            "work_restrictions_found": state.health.work_restrictions_found,
            "recommended_next_step": state.health.recommended_next_step,
        },
        transfers=[TransferView(**t.__dict__) for t in state.transfers],
        reassessments=state.reassessments,
        closed_on=state.closed_on,
        outcome=state.outcome,
        closure_proposal=None
        if state.closure_proposal is None
        else ClosureProposalView(**state.closure_proposal.__dict__),
        flags=Flags(
            plan_due=due.plan_due,
            plan_overdue=due.plan_overdue,
            review_due=due.review_due,
            review_overdue=due.review_overdue,
            transfer_unacknowledged=transfer.unacknowledged(state, today, within_days=acknowledgement_days)
            is not None,
        ),
    )


def guide_view(g: guides.Guide, limit: int) -> GuideView:
    return GuideView(
        person_id=g.person_id,
        name=g.name,
        role=g.role,
        areas=list(g.areas),
        caseload=g.caseload,
        caseload_limit=limit,
    )
