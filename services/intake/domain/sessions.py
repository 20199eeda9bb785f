"""Info sessions (*info-tilaisuus*): scheduling, invitations, attendance, and booking
the personal assessment appointment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from contracts.base import EventBase
from contracts.intake import (
    AssessmentAppointmentBooked,
    InfoSessionAttended,
    InfoSessionMissed,
    InfoSessionScheduled,
    InvitedToInfoSession,
)
from runtime.decision import Context
from services.intake.domain.case import IntakeCase, Stage
from services.intake.domain.errors import AlreadyAssessed, DomainError, NotInvited, SessionFull


@dataclass(frozen=True)
class InfoSession:
    """An info session and how many are invited to it."""

    session_id: str
    starts_at: datetime
    place: str
    capacity: int
    invited: int

    @property
    def full(self) -> bool:
        return self.invited >= self.capacity


def schedule_session(
    *, session_id: str, starts_at: datetime, place: str, capacity: int, ctx: Context
) -> list[EventBase]:
    if starts_at <= ctx.now:
        raise DomainError("an info session must be scheduled in the future")
    return [
        InfoSessionScheduled(
            **ctx.envelope(session_id, 1),
            starts_at=starts_at,
            place=place,
            capacity=capacity,
        )
    ]


def _not_routed(state: IntakeCase) -> None:
    if state.stage is Stage.ROUTED:
        raise AlreadyAssessed(f"client {state.client_id} is already assessed and routed")


def invite(state: IntakeCase, session: InfoSession, *, ctx: Context) -> list[EventBase]:
    _not_routed(state)
    if session.starts_at <= ctx.now:
        raise DomainError(f"info session {session.session_id} has already started; choose a later one")
    if state.stage is Stage.INFO_SESSION and state.session_id == session.session_id:
        return []
    if state.stage is not Stage.INVITATION:
        raise DomainError(f"client {state.client_id} waits for {state.stage.value}, not for an invitation")
    if session.full:
        raise SessionFull(
            f"info session {session.session_id} is full ({session.invited} of {session.capacity} "
            "places taken); invite the client to another session"
        )
    return [
        InvitedToInfoSession(
            **ctx.envelope(state.client_id, state.version + 1),
            municipality=state.municipality,
            session_id=session.session_id,
            starts_at=session.starts_at,
            place=session.place,
        )
    ]


def record_attendance(
    state: IntakeCase,
    *,
    session_id: str,
    attended: bool,
    initial_survey_form_given: bool,
    data_protection_leaflet_given: bool,
    ctx: Context,
) -> list[EventBase]:
    _not_routed(state)
    if state.stage is not Stage.INFO_SESSION or state.session_id != session_id:
        raise NotInvited(f"client {state.client_id} is not waiting for info session {session_id}")
    common = ctx.envelope(state.client_id, state.version + 1)
    if not attended:
        return [InfoSessionMissed(**common, municipality=state.municipality, session_id=session_id)]
    return [
        InfoSessionAttended(
            **common,
            municipality=state.municipality,
            session_id=session_id,
            initial_survey_form_given=initial_survey_form_given,
            data_protection_leaflet_given=data_protection_leaflet_given,
        )
    ]


def book_assessment(
    state: IntakeCase, *, appointment_at: datetime, assessor_person_id: str, ctx: Context
) -> list[EventBase]:
    _not_routed(state)
    if appointment_at <= ctx.now:
        raise DomainError("the assessment appointment must be in the future")
    return [
        AssessmentAppointmentBooked(
            **ctx.envelope(state.client_id, state.version + 1),
            municipality=state.municipality,
            appointment_at=appointment_at,
            assessor_person_id=assessor_person_id,
        )
    ]
