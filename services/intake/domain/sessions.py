"""Info sessions (*info-tilaisuus*): scheduling, invitations, attendance, and booking
the personal assessment appointment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

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


def check_attendance_date(*, on: date, starts_at: datetime, now: datetime) -> None:
    """The one rule for the date of an info session's attendance (or no-show): it is
    recorded once the session has begun, dated no earlier than the session's business date
    (its start in the zone of ``now``, the centre's) and not after today's business date. Each refusal
    says which bound it broke (HTTP 409: the date is well formed, the session or the clock
    refuses it)."""
    today = now.date()  # ``now`` is aware, in the centre's zone (runtime/clock.py)
    session_day = starts_at.astimezone(now.tzinfo).date()
    if on > today:
        raise DomainError(f"attendance cannot be dated in the future ({on}; today is {today})")
    if on < session_day:
        raise DomainError(f"attendance cannot be dated before the info session's date ({on} < {session_day})")
    if now < starts_at:
        raise DomainError(
            f"the info session has not started yet (it starts at {starts_at.isoformat()}): "
            "record attendance once it has begun"
        )


def record_attendance(
    state: IntakeCase,
    *,
    session_id: str,
    attended: bool,
    attended_on: date,
    initial_survey_form_given: bool,
    data_protection_leaflet_given: bool,
    ctx: Context,
) -> list[EventBase]:
    """Attendance at the info session (*info-tilaisuus*) or a no-show, on its business
    date (:func:`check_attendance_date`)."""
    _not_routed(state)
    if state.stage is not Stage.INFO_SESSION or state.session_id != session_id:
        raise NotInvited(f"client {state.client_id} is not waiting for info session {session_id}")
    assert state.session_starts_at is not None  # an invitation records the session's start
    check_attendance_date(on=attended_on, starts_at=state.session_starts_at, now=ctx.now)
    common = ctx.envelope(state.client_id, state.version + 1)
    if not attended:
        return [
            InfoSessionMissed(
                **common, municipality=state.municipality, session_id=session_id, missed_on=attended_on
            )
        ]
    return [
        InfoSessionAttended(
            **common,
            municipality=state.municipality,
            session_id=session_id,
            attended_on=attended_on,
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
