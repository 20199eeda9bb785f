"""Intake's waiting is measured in business dates: from the referral's date, and each later
stage from its event's business date, never from the instant Reitti recorded it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from services.intake.domain import assessment, consent, sessions
from services.intake.domain.case import IntakeCase, Stage
from tests.unit.test_intake_domain import CENTRE_CONSENT, NOW, assess, ctx, referred, session, then


def with_consent(state: IntakeCase) -> IntakeCase:
    """The centre's consent, given on the referral's date."""
    given = consent.give_consent(
        state,
        consent_id="consent-1",
        scopes=CENTRE_CONSENT,
        organisations=(),
        given_on=state.referral_date,
        ctx=ctx(),
    )
    return then(state, given)


def test_a_back_dated_referral_waits_since_its_referral_date_not_since_it_was_recorded() -> None:
    state = referred(referral_date=date(2016, 2, 1))
    assert state.received_at.date() == NOW.date() == date(2016, 6, 1)
    assert (state.stage, state.stage_since) == (Stage.INVITATION, date(2016, 2, 1))


def test_an_assessment_routes_the_case_on_its_own_date() -> None:
    state = with_consent(referred(referral_date=date(2016, 2, 1)))
    state = then(
        state, assessment.complete_assessment(state, assess(assessed_on=date(2016, 4, 20)), ctx=ctx())
    )
    assert (state.stage, state.stage_since) == (Stage.ROUTED, date(2016, 4, 20))


def test_an_invitation_begins_the_wait_on_the_finnish_day_it_was_made() -> None:
    late_evening = datetime(2016, 6, 1, 22, 30, tzinfo=UTC)  # 2 June, 01:30 in Helsinki
    state = referred(referral_date=date(2016, 5, 2))
    state = then(state, sessions.invite(state, session(), ctx=ctx(late_evening)))
    assert (state.stage, state.stage_since) == (Stage.INFO_SESSION, date(2016, 6, 2))


def test_attending_the_session_begins_the_next_wait_on_the_sessions_day_whenever_recorded() -> None:
    state = referred(referral_date=date(2016, 5, 2))
    state = then(state, sessions.invite(state, session(starts=timedelta(days=3)), ctx=ctx()))
    recorded_later = NOW + timedelta(days=10)
    state = then(
        state,
        sessions.record_attendance(
            state,
            session_id="info-session-1",
            attended=True,
            attended_on=date(2016, 6, 4),
            initial_survey_form_given=True,
            data_protection_leaflet_given=True,
            ctx=ctx(recorded_later),
        ),
    )
    assert (state.stage, state.stage_since) == (Stage.ASSESSMENT_APPOINTMENT, date(2016, 6, 4))


def test_a_stage_never_begins_before_the_stage_it_follows() -> None:
    state = with_consent(referred(referral_date=date(2016, 5, 2)))
    state = then(state, sessions.invite(state, session(), ctx=ctx()))
    assert state.stage_since == date(2016, 6, 1)
    # an assessment dated before the invitation does not move the wait back in time
    state = then(
        state, assessment.complete_assessment(state, assess(assessed_on=date(2016, 5, 20)), ctx=ctx())
    )
    assert (state.stage, state.stage_since) == (Stage.ROUTED, date(2016, 6, 1))
