"""From the domain's state to the API's answers (*näkymät*): the mapping of a case, a
session, a candidate and a command's outcome to their response models."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import status

from contracts.intake import AssessmentCompleted
from services.intake.api.case_reads import shown_name
from services.intake.api.models import (
    CandidateView,
    CaseView,
    ConsentView,
    InfoSessionView,
    ReferralAccepted,
    ReferralReceipt,
    RulesView,
    Written,
)
from services.intake.application import Outcome, ReferralKind, Registered
from services.intake.domain import sessions
from services.intake.domain.case import IntakeCase
from services.intake.domain.status import deadline_status, eligibility


def written(outcome: Outcome) -> Written:
    return Written(
        client_id=outcome.state.client_id,
        stream_version=outcome.state.version,
        event_ids=[e.event_id for e in outcome.events],
    )


def referral_answer(
    registered: Registered, *, may_read_client: bool
) -> tuple[int, ReferralAccepted | ReferralReceipt]:
    """The one rule of what a referral's answer reveals (HTTP status and body). A caller
    who may learn that the person is a client (``may_read_client``: the disclosure
    policy's ``may_learn_client_exists``) is told what happened; any other caller gets 202
    and a receipt whatever happened, so a known person's answer does not differ from a
    new one's in status, shape or ids."""
    if not may_read_client:
        return status.HTTP_202_ACCEPTED, ReferralReceipt(referral_id=registered.referral_id)
    code = {
        ReferralKind.NEW_CASE: status.HTTP_201_CREATED,
        ReferralKind.POSSIBLE_DUPLICATE: status.HTTP_202_ACCEPTED,
    }.get(registered.kind, status.HTTP_200_OK)
    return code, ReferralAccepted(
        referral_id=registered.referral_id,
        outcome=registered.kind,
        client_id=registered.client_id,
        stream_version=registered.stream_version,
        event_ids=[e.event_id for e in registered.events],
    )


def candidate_view(client_id: str, case: IntakeCase | None) -> CandidateView:
    if case is None:
        return CandidateView(client_id=client_id, name=None, municipality=None, waiting_for=None)
    return CandidateView(
        client_id=client_id,
        name=shown_name(case),
        municipality=case.municipality,
        waiting_for=case.stage,
    )


def case_view(state: IntakeCase, today: date) -> CaseView:
    finding = eligibility(state)
    deadline = deadline_status(state, today)
    return CaseView(
        client_id=state.client_id,
        version=state.version,
        client=state.client,
        municipality=state.municipality,
        source=state.source,
        source_description=state.source_description,
        referral_date=state.referral_date,
        subsidy_days=state.subsidy_days,
        unemployment_months=state.unemployment_months,
        received_by=state.received_by,
        owner=state.owner,
        waiting_for=state.stage,
        waiting_since=state.stage_since,
        info_session_id=state.session_id,
        info_session_starts_at=state.session_starts_at,
        sessions_missed=state.sessions_missed,
        info_session_attended_on=state.info_session_attended_on,
        initial_survey_form_given=state.handouts_given[0],
        data_protection_leaflet_given=state.handouts_given[1],
        assessment_appointment_at=state.appointment_at,
        duplicate_referrals=state.duplicate_referrals,
        consents=[
            ConsentView(
                consent_id=c.consent_id,
                scopes=sorted(c.scopes),
                organisations=sorted(c.organisations),
                given_on=c.given_on,
                withdrawn_on=c.withdrawn_on,
                in_force=c.in_force(today),
            )
            for c in state.consents
        ],
        rules=RulesView(
            rule_set=deadline.rule_set,
            statute=deadline.statute,
            assessment_indicated=finding.indicated,
            reasons=list(finding.reasons),
            unknown=list(finding.unknown),
            counts_towards_over_500_days=finding.counts_towards_over_500_days,
            assessment_deadline=deadline.deadline,
            overdue=deadline.overdue,
            days_left=deadline.days_left,
        ),
        assessment=_assessment_data(state.assessment),
    )


def _assessment_data(event: AssessmentCompleted | None) -> dict[str, Any] | None:
    if event is None:
        return None
    return event.model_dump(
        mode="json",
        include={
            "assessed_on",
            "assessors",
            "findings",
            "capacity_allows_rehabilitative_work",
            "profile",
            "ministry_segment",
            "route",
            "destination",
            "rule_set",
            "summary",
        },
    )


def session_view(s: sessions.InfoSession) -> InfoSessionView:
    return InfoSessionView(
        session_id=s.session_id,
        starts_at=s.starts_at,
        place=s.place,
        capacity=s.capacity,
        invited=s.invited,
        places_left=max(0, s.capacity - s.invited),
    )
