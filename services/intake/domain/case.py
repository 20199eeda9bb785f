"""The state of one client's intake case, folded from its events."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum

from contracts.base import EventBase
from contracts.intake import (
    AssessmentAppointmentBooked,
    AssessmentCompleted,
    ClientDetails,
    ClientReferred,
    ConsentGiven,
    ConsentScope,
    ConsentWithdrawn,
    DuplicateReferralReceived,
    InfoSessionAttended,
    InfoSessionMissed,
    InvitedToInfoSession,
    ReferralPicked,
    ReferralSource,
)
from runtime.clock import business_date
from services.disclosure.policy import Client


class Stage(StrEnum):
    """What the client waits for in the intake queue."""

    INVITATION = "invitation"
    INFO_SESSION = "info_session"
    ASSESSMENT_APPOINTMENT = "assessment_appointment"
    ASSESSMENT = "assessment"
    ROUTED = "routed"


@dataclass(frozen=True)
class Consent:
    consent_id: str
    scopes: frozenset[ConsentScope]
    organisations: frozenset[str]
    given_on: date
    withdrawn_on: date | None = None

    def in_force(self, on: date) -> bool:
        return self.given_on <= on and (self.withdrawn_on is None or on < self.withdrawn_on)


@dataclass(frozen=True)
class IntakeCase:
    client_id: str
    version: int
    municipality: str
    source: ReferralSource
    source_description: str | None
    referral_date: date
    subsidy_days: int | None
    unemployment_months: int | None
    need_based_reason: str | None
    client: ClientDetails
    received_by: str
    received_at: datetime
    owner: str | None = None
    stage: Stage = Stage.INVITATION
    #: the business date the current stage began (:func:`stage_start`); never the recording instant
    stage_since: date | None = None
    session_id: str | None = None
    session_starts_at: datetime | None = None
    sessions_missed: int = 0
    handouts_given: tuple[bool, bool] = (False, False)
    #: the business date the client attended the info session (None before, or from a v1 event)
    info_session_attended_on: date | None = None
    appointment_at: datetime | None = None
    consents: tuple[Consent, ...] = ()
    duplicate_referrals: int = 0
    #: every (source, referral date) received: the first referral and each duplicate
    referrals_received: frozenset[tuple[ReferralSource, date]] = frozenset()
    assessment: AssessmentCompleted | None = None
    history: tuple[tuple[str, datetime], ...] = field(default=(), repr=False)

    def consents_in_force(self, on: date) -> list[Consent]:
        return [c for c in self.consents if c.in_force(on)]

    def consent(self, consent_id: str) -> Consent | None:
        return next((c for c in self.consents if c.consent_id == consent_id), None)

    def received(self, source: ReferralSource, referral_date: date) -> bool:
        """Whether this referral (source and date) was already received on the case."""
        return (source, referral_date) in self.referrals_received


def disclosure_client(state: IntakeCase) -> Client:
    """The client as the disclosure policy sees them: their municipality, consents and
    referring side, and who holds a task on them: the advisor who received the referral
    and the one who picked it, while the client is in intake (until the route); and the
    assessors, who answer for the assessment and its route."""
    holders = {a.person_id for a in state.assessment.assessors} if state.assessment else set()
    if state.stage is not Stage.ROUTED:
        holders |= {state.received_by, *([state.owner] if state.owner else [])}
    return Client(
        client_id=state.client_id,
        municipality=state.municipality,
        consents=state.consents,
        referred_by=state.source.value,
        task_holders=frozenset(holders),
    )


def stage_start(state: IntakeCase, event: EventBase) -> date:
    """The business date the stage ``event`` moves the case to begins (*odotus alkaa*).

    Waiting begins on the referral's date (``referral_date``, which may be back-dated), not
    when Reitti recorded it. Each later stage begins on its event's business date: the
    assessment on ``assessed_on``; attending or missing an info session on the session's
    day; an invitation or a booking on the day it was made (its ``occurred_at`` in the
    centre's zone: the events carry no other date). A stage never begins before the one
    it follows, so a back-dated event cannot make the waiting run backwards.
    """
    match event:
        case AssessmentCompleted():
            day = event.assessed_on
        case InfoSessionAttended() | InfoSessionMissed() if state.session_starts_at is not None:
            day = business_date(state.session_starts_at)
        case _:
            day = business_date(event.occurred_at)
    return max(day, state.stage_since or state.referral_date)


def evolve(state: IntakeCase | None, event: EventBase) -> IntakeCase | None:
    """The state after ``event``. Unknown events leave it as it was."""
    if isinstance(event, ClientReferred):
        return IntakeCase(
            client_id=event.stream_id,
            version=event.stream_version,
            municipality=event.municipality,
            source=event.source,
            source_description=event.source_description,
            referral_date=event.referral_date,
            subsidy_days=event.subsidy_days,
            unemployment_months=event.unemployment_months,
            need_based_reason=event.need_based_reason,
            client=event.client,
            received_by=event.actor.person_id,
            received_at=event.recorded_at,
            stage_since=event.referral_date,
            referrals_received=frozenset({(event.source, event.referral_date)}),
        )
    if state is None:
        return None
    state = replace(state, version=event.stream_version)
    at = stage_start(state, event)
    match event:
        case DuplicateReferralReceived():
            return replace(
                state,
                duplicate_referrals=state.duplicate_referrals + 1,
                referrals_received=state.referrals_received | {(event.source, event.referral_date)},
            )
        case ReferralPicked(owner_person_id=owner):
            return replace(state, owner=owner)
        case InvitedToInfoSession():
            return replace(
                state,
                stage=Stage.INFO_SESSION,
                stage_since=at,
                session_id=event.session_id,
                session_starts_at=event.starts_at,
            )
        case InfoSessionAttended():
            return replace(
                state,
                stage=Stage.ASSESSMENT_APPOINTMENT,
                stage_since=at,
                handouts_given=(event.initial_survey_form_given, event.data_protection_leaflet_given),
                info_session_attended_on=event.attended_on,
            )
        case InfoSessionMissed():
            return replace(
                state,
                stage=Stage.INVITATION,
                stage_since=at,
                session_id=None,
                session_starts_at=None,
                sessions_missed=state.sessions_missed + 1,
            )
        case AssessmentAppointmentBooked():
            return replace(state, stage=Stage.ASSESSMENT, stage_since=at, appointment_at=event.appointment_at)
        case ConsentGiven():
            consent = Consent(
                event.consent_id, frozenset(event.scopes), frozenset(event.organisations), event.given_on
            )
            return replace(state, consents=(*state.consents, consent))
        case ConsentWithdrawn():
            consents = tuple(
                replace(c, withdrawn_on=event.withdrawn_on) if c.consent_id == event.consent_id else c
                for c in state.consents
            )
            return replace(state, consents=consents)
        case AssessmentCompleted():
            return replace(state, stage=Stage.ROUTED, stage_since=at, assessment=event)
    return state


def fold(events: Iterable[EventBase], state: IntakeCase | None = None) -> IntakeCase | None:
    for event in events:
        state = evolve(state, event)
    return state
