"""Intake's pure domain, rule by rule: no servers."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import TypedDict, Unpack
from zoneinfo import ZoneInfo

import pytest

from contracts.base import Actor, EventBase
from contracts.intake import (
    AreaFinding,
    AssessmentArea,
    AssessmentCompleted,
    Assessor,
    ClientDetails,
    ClientProfile,
    ClientReferred,
    ConsentScope,
    ConsentWithdrawn,
    DuplicateReferralReceived,
    InfoSessionAttended,
    InfoSessionMissed,
    ReferralSource,
    Route,
    SupportNeed,
)
from runtime.config import DEFAULT_MUNICIPALITIES
from runtime.decision import Context
from services.intake.domain import assessment, consent, referral, sessions
from services.intake.domain.case import IntakeCase, Stage, fold
from services.intake.domain.errors import (
    AlreadyAssessed,
    ConsentMissing,
    DomainError,
    FieldRequired,
    NotInvited,
    SessionFull,
    UnknownMunicipality,
)
from services.intake.domain.status import deadline_status, eligibility
from tests.support.factories import ADVISOR, identity_code

NOW = datetime(2016, 6, 1, 9, 30, tzinfo=UTC)
SOCIAL_WORKER = Actor(person_id="sw-1", role="social_worker", organisation="mikkeli")
MUNICIPALITIES = DEFAULT_MUNICIPALITIES


def ctx(now: datetime = NOW, actor: Actor = ADVISOR) -> Context:
    counter = itertools.count(1)
    return Context(
        actor=actor, now=now, correlation_id=uuid.uuid4(), new_id=lambda: uuid.UUID(int=next(counter))
    )


class ReferralChanges(TypedDict, total=False):
    """The fields of a ``RegisterReferral`` a test may change."""

    source: ReferralSource
    source_description: str | None
    municipality: str
    referral_date: date
    subsidy_days: int | None
    unemployment_months: int | None
    client: ClientDetails
    need_based_reason: str | None


def referral_command(**changes: Unpack[ReferralChanges]) -> referral.RegisterReferral:
    command = referral.RegisterReferral(
        source=ReferralSource.SELF_REFERRAL,
        source_description=None,
        municipality="Puumala",
        referral_date=date(2016, 5, 2),
        subsidy_days=320,
        unemployment_months=14,
        client=ClientDetails(first_name="Matti", last_name="Virtanen", personal_identity_code="020285-111D"),
    )
    return replace(command, **changes)


def referred(**changes: Unpack[ReferralChanges]) -> IntakeCase:
    command = referral_command(**changes)
    now = max(NOW, datetime.combine(command.referral_date, NOW.timetz()))
    events = referral.register_referral(
        None, command, client_id="client-1", municipalities=MUNICIPALITIES, ctx=ctx(now)
    )
    state = fold(events)
    assert state is not None
    return state


def then(state: IntakeCase, events: list[EventBase]) -> IntakeCase:
    new = fold(events, state)
    assert new is not None
    return new


def with_consent(state: IntakeCase, *scopes: ConsentScope, organisations: tuple[str, ...] = ()) -> IntakeCase:
    events = consent.give_consent(
        state,
        consent_id=f"consent-{len(state.consents) + 1}",
        scopes=scopes,
        organisations=organisations,
        given_on=NOW.date(),
        ctx=ctx(),
    )
    return then(state, events)


CENTRE_CONSENT = (ConsentScope.MOVE_TO_CENTRE, ConsentScope.DATA_EXCHANGE_WITHIN_CENTRE)


def findings(need: SupportNeed = SupportNeed.SOME) -> list[AreaFinding]:
    return [AreaFinding(area=area, support_need=need, notes="") for area in AssessmentArea]


class AssessmentChanges(TypedDict, total=False):
    """The fields of a ``CompleteAssessment`` a test may change."""

    assessed_on: date
    assessors: Sequence[Assessor]
    findings: Sequence[AreaFinding]
    capacity_allows_rehabilitative_work: bool
    profile: ClientProfile | None
    ministry_segment: int | None
    route: Route
    destination: str | None
    summary: str


def assess(**changes: Unpack[AssessmentChanges]) -> assessment.CompleteAssessment:
    command = assessment.CompleteAssessment(
        assessed_on=NOW.date(),
        assessors=[Assessor(person_id="advisor-1", role="employment_advisor", organisation="te-office")],
        findings=findings(),
        capacity_allows_rehabilitative_work=True,
        profile=ClientProfile.CENTRE,
        ministry_segment=3,
        route=Route.INDIVIDUAL_SERVICE_GUIDANCE,
        destination=None,
        summary="",
    )
    return replace(command, **changes)


# --- referral ----------------------------------------------------------------------------------


def test_a_referral_opens_the_clients_intake_case_waiting_for_an_invitation() -> None:
    [event] = referral.register_referral(
        None, referral_command(), client_id="client-1", municipalities=MUNICIPALITIES, ctx=ctx()
    )
    assert isinstance(event, ClientReferred)
    assert (event.stream_id, event.stream_version) == ("client-1", 1)
    state = fold([event])
    assert state is not None
    assert state.stage is Stage.INVITATION
    assert state.received_by == ADVISOR.person_id
    assert state.owner is None


def test_the_same_referral_again_writes_nothing() -> None:
    state = referred()
    assert (
        referral.register_referral(
            state, referral_command(), client_id="x", municipalities=MUNICIPALITIES, ctx=ctx()
        )
        == []
    )


def test_a_different_referral_of_a_known_client_is_recorded_on_their_one_case() -> None:
    state = referred()
    [event] = referral.register_referral(
        state,
        referral_command(source=ReferralSource.TE_OFFICE, referral_date=date(2016, 5, 20)),
        client_id="another-id",
        municipalities=MUNICIPALITIES,
        ctx=ctx(),
    )
    assert isinstance(event, DuplicateReferralReceived)
    assert (event.stream_id, event.stream_version) == ("client-1", 2)
    assert then(state, [event]).duplicate_referrals == 1


def test_a_client_already_known_from_another_source_is_recorded_once_however_often_a_list_repeats_them() -> (
    None
):
    state = referred(source=ReferralSource.SELF_REFERRAL, referral_date=date(2016, 5, 2))
    on_the_list = referral_command(source=ReferralSource.TE_OFFICE, referral_date=date(2016, 5, 20))
    recorded = []
    for _ in range(3):  # the same TE-office info list imported three times
        events = referral.register_referral(
            state, on_the_list, client_id="x", municipalities=MUNICIPALITIES, ctx=ctx()
        )
        recorded += [e for e in events if isinstance(e, DuplicateReferralReceived)]
        state = then(state, events)
    assert len(recorded) == 1
    assert state.duplicate_referrals == 1
    assert state.referrals_received == {
        (ReferralSource.SELF_REFERRAL, date(2016, 5, 2)),
        (ReferralSource.TE_OFFICE, date(2016, 5, 20)),
    }
    again = referral_command(source=ReferralSource.SELF_REFERRAL, referral_date=date(2016, 5, 2))
    assert (
        referral.register_referral(state, again, client_id="x", municipalities=MUNICIPALITIES, ctx=ctx())
        == []
    )


def test_the_municipality_must_be_one_of_the_centres_and_the_set_is_configuration() -> None:
    with pytest.raises(UnknownMunicipality, match="Helsinki"):
        referral.register_referral(
            None,
            referral_command(municipality="Helsinki"),
            client_id="c",
            municipalities=MUNICIPALITIES,
            ctx=ctx(),
        )
    [event] = referral.register_referral(
        None, referral_command(municipality="Helsinki"), client_id="c", municipalities=["Helsinki"], ctx=ctx()
    )
    assert isinstance(event, ClientReferred)
    assert event.municipality == "Helsinki"


def test_a_referral_stores_the_municipality_as_the_configuration_spells_it() -> None:
    [event] = referral.register_referral(
        None,
        referral_command(municipality=" mäntyharju "),
        client_id="c",
        municipalities=MUNICIPALITIES,
        ctx=ctx(),
    )
    assert isinstance(event, ClientReferred)
    assert event.municipality == "Mäntyharju"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"referral_date": date(2016, 6, 2)}, "future"),
        ({"referral_date": date(2009, 12, 31)}, "before 2010"),
        ({"source": ReferralSource.OTHER}, "description"),
    ],
)
def test_a_referral_that_breaks_a_rule_is_refused(changes: ReferralChanges, message: str) -> None:
    with pytest.raises(DomainError, match=message):
        referral.register_referral(
            None, referral_command(**changes), client_id="c", municipalities=MUNICIPALITIES, ctx=ctx()
        )


def test_a_referral_from_source_other_without_a_description_names_the_field() -> None:
    with pytest.raises(FieldRequired) as refused:
        referral.register_referral(
            None,
            referral_command(source=ReferralSource.OTHER),
            client_id="c",
            municipalities=MUNICIPALITIES,
            ctx=ctx(),
        )
    assert refused.value.field == "source_description"
    assert refused.value.code == "missing_source_description"


def test_the_intake_advisor_picks_a_client_from_the_queue_and_owns_the_case() -> None:
    state = referred()
    [event] = referral.pick_referral(state, ctx=ctx(actor=SOCIAL_WORKER))
    state = then(state, [event])
    assert state.owner == "sw-1"
    assert referral.pick_referral(state, ctx=ctx(actor=SOCIAL_WORKER)) == []


# --- info sessions -----------------------------------------------------------------------------


def session(
    invited: int = 0, capacity: int = 10, starts: timedelta = timedelta(days=3)
) -> sessions.InfoSession:
    return sessions.InfoSession("info-session-1", NOW + starts, "TYP Reitti", capacity, invited)


#: the default session's start, an hour after it, and its business date
SESSION_START = NOW + timedelta(days=3)
AFTER_SESSION = SESSION_START + timedelta(hours=1)
SESSION_DAY = SESSION_START.date()


def test_an_invited_client_waits_for_the_info_session() -> None:
    state = then(referred(), sessions.invite(referred(), session(), ctx=ctx()))
    assert state.stage is Stage.INFO_SESSION
    assert state.session_id == "info-session-1"


def test_a_full_session_refuses_further_invitations() -> None:
    with pytest.raises(SessionFull, match="10 of 10"):
        sessions.invite(referred(), session(invited=10), ctx=ctx())


def test_a_session_that_has_started_takes_no_invitations() -> None:
    with pytest.raises(DomainError, match="already started"):
        sessions.invite(referred(), session(starts=timedelta(minutes=-5)), ctx=ctx())


def test_attendance_records_the_handouts_and_the_client_then_waits_for_an_appointment() -> None:
    state = then(referred(), sessions.invite(referred(), session(), ctx=ctx()))
    state = then(
        state,
        sessions.record_attendance(
            state,
            session_id="info-session-1",
            attended=True,
            attended_on=SESSION_DAY,
            initial_survey_form_given=True,
            data_protection_leaflet_given=True,
            ctx=ctx(AFTER_SESSION),
        ),
    )
    assert state.stage is Stage.ASSESSMENT_APPOINTMENT
    assert state.handouts_given == (True, True)
    assert state.info_session_attended_on == SESSION_DAY
    state = then(
        state,
        sessions.book_assessment(
            state, appointment_at=NOW + timedelta(days=7), assessor_person_id="a", ctx=ctx(AFTER_SESSION)
        ),
    )
    assert state.stage is Stage.ASSESSMENT


def test_a_no_show_sends_the_client_back_to_wait_for_an_invitation() -> None:
    state = then(referred(), sessions.invite(referred(), session(), ctx=ctx()))
    state = then(
        state,
        sessions.record_attendance(
            state,
            session_id="info-session-1",
            attended=False,
            attended_on=SESSION_DAY,
            initial_survey_form_given=False,
            data_protection_leaflet_given=False,
            ctx=ctx(AFTER_SESSION),
        ),
    )
    assert (state.stage, state.sessions_missed) == (Stage.INVITATION, 1)


def test_attendance_at_a_session_the_client_was_not_invited_to_is_refused() -> None:
    with pytest.raises(NotInvited):
        sessions.record_attendance(
            referred(),
            session_id="info-session-9",
            attended=True,
            attended_on=SESSION_DAY,
            initial_survey_form_given=True,
            data_protection_leaflet_given=True,
            ctx=ctx(),
        )


def attend(state: IntakeCase, *, on: date, now: datetime, attended: bool = True) -> list[EventBase]:
    return sessions.record_attendance(
        state,
        session_id="info-session-1",
        attended=attended,
        attended_on=on,
        initial_survey_form_given=False,
        data_protection_leaflet_given=False,
        ctx=ctx(now),
    )


def test_attendance_carries_its_date_and_a_no_show_the_date_of_the_session_missed() -> None:
    invited = then(referred(), sessions.invite(referred(), session(), ctx=ctx()))
    later = SESSION_START + timedelta(days=2)
    (came,) = attend(invited, on=SESSION_DAY, now=later)
    (missed,) = attend(invited, on=SESSION_DAY + timedelta(days=1), now=later, attended=False)
    assert isinstance(came, InfoSessionAttended) and isinstance(missed, InfoSessionMissed)
    assert (type(came).__name__, came.attended_on) == ("InfoSessionAttended", SESSION_DAY)
    assert (type(missed).__name__, missed.missed_on) == ("InfoSessionMissed", SESSION_DAY + timedelta(days=1))


@pytest.mark.parametrize("attended", [True, False], ids=["attended", "no-show"])
def test_attendance_dated_before_the_session_s_date_is_refused(attended: bool) -> None:
    invited = then(referred(), sessions.invite(referred(), session(), ctx=ctx()))
    with pytest.raises(DomainError, match="before the info session's date"):
        attend(invited, on=SESSION_DAY - timedelta(days=1), now=AFTER_SESSION, attended=attended)


def test_attendance_dated_after_today_s_business_date_is_refused() -> None:
    invited = then(referred(), sessions.invite(referred(), session(), ctx=ctx()))
    with pytest.raises(DomainError, match="in the future"):
        attend(invited, on=AFTER_SESSION.date() + timedelta(days=1), now=AFTER_SESSION)


def test_attendance_on_the_session_s_day_before_it_has_begun_is_refused() -> None:
    invited = then(referred(), sessions.invite(referred(), session(), ctx=ctx()))
    with pytest.raises(DomainError, match="has not started yet"):
        attend(invited, on=SESSION_DAY, now=SESSION_START - timedelta(minutes=1))
    assert attend(invited, on=SESSION_DAY, now=SESSION_START)  # from its start it may be recorded


def test_the_session_s_date_is_its_start_in_the_centre_s_zone_not_in_utc() -> None:
    """A session at 00:30 Helsinki time is on the previous day in UTC; its date is Helsinki's."""
    helsinki = ZoneInfo("Europe/Helsinki")
    starts = datetime(2016, 6, 4, 0, 30, tzinfo=helsinki)
    invited = then(
        referred(),
        sessions.invite(referred(), sessions.InfoSession("info-session-1", starts, "TYP", 5, 0), ctx=ctx()),
    )
    now = datetime(2016, 6, 4, 9, 0, tzinfo=helsinki)
    with pytest.raises(DomainError, match="before the info session's date"):
        attend(invited, on=date(2016, 6, 3), now=now)
    assert attend(invited, on=date(2016, 6, 4), now=now)


# --- consent -----------------------------------------------------------------------------------


def test_a_withdrawn_consent_is_no_longer_in_force() -> None:
    state = with_consent(referred(), *CENTRE_CONSENT)
    assert len(state.consents_in_force(NOW.date())) == 1
    state = then(
        state, consent.withdraw_consent(state, consent_id="consent-1", withdrawn_on=NOW.date(), ctx=ctx())
    )
    assert state.consents_in_force(NOW.date()) == []
    assert consent.withdraw_consent(state, consent_id="consent-1", withdrawn_on=NOW.date(), ctx=ctx()) == []


def test_a_withdrawal_cannot_be_dated_in_the_future() -> None:
    state = with_consent(referred(), *CENTRE_CONSENT)
    with pytest.raises(DomainError, match="future"):
        consent.withdraw_consent(
            state, consent_id="consent-1", withdrawn_on=NOW.date() + timedelta(days=1), ctx=ctx()
        )
    assert (
        len(consent.withdraw_consent(state, consent_id="consent-1", withdrawn_on=NOW.date(), ctx=ctx())) == 1
    )


def test_a_withdrawal_cannot_be_dated_before_the_assessment_that_routed_the_client_on_that_consent() -> None:
    state = then(
        referred(),
        consent.give_consent(
            referred(),
            consent_id="consent-1",
            scopes=CENTRE_CONSENT,
            organisations=(),
            given_on=date(2016, 5, 10),
            ctx=ctx(),
        ),
    )
    state = then(
        state, assessment.complete_assessment(state, assess(assessed_on=date(2016, 5, 20)), ctx=ctx())
    )
    with pytest.raises(DomainError, match="cannot be dated before 2016-05-20"):
        consent.withdraw_consent(state, consent_id="consent-1", withdrawn_on=date(2016, 5, 19), ctx=ctx())
    for allowed in (date(2016, 5, 20), date(2016, 5, 31)):
        [event] = consent.withdraw_consent(state, consent_id="consent-1", withdrawn_on=allowed, ctx=ctx())
        assert isinstance(event, ConsentWithdrawn)
        assert event.withdrawn_on == allowed


def test_a_consent_the_route_did_not_need_may_be_withdrawn_as_of_any_day_since_it_was_given() -> None:
    state = with_consent(referred(), *CENTRE_CONSENT)
    state = then(
        state,
        consent.give_consent(
            state,
            consent_id="kela",
            scopes=[ConsentScope.DISCLOSURE_TO_ORGANISATIONS],
            organisations=["kela"],
            given_on=date(2016, 5, 3),
            ctx=ctx(),
        ),
    )
    state = then(state, assessment.complete_assessment(state, assess(), ctx=ctx()))
    [event] = consent.withdraw_consent(state, consent_id="kela", withdrawn_on=date(2016, 5, 4), ctx=ctx())
    assert isinstance(event, ConsentWithdrawn)
    assert event.withdrawn_on == date(2016, 5, 4)


def test_withdrawing_an_unknown_consent_is_refused() -> None:
    with pytest.raises(DomainError, match="no consent"):
        consent.withdraw_consent(referred(), consent_id="consent-9", withdrawn_on=NOW.date(), ctx=ctx())


# --- assessment --------------------------------------------------------------------------------


def test_routing_into_the_centre_without_consent_names_the_missing_consent() -> None:
    with pytest.raises(ConsentMissing) as refused:
        assessment.complete_assessment(referred(), assess(), ctx=ctx())
    assert refused.value.missing == ["move_to_centre", "data_exchange_within_centre"]
    partial = with_consent(referred(), ConsentScope.MOVE_TO_CENTRE)
    with pytest.raises(ConsentMissing) as refused:
        assessment.complete_assessment(partial, assess(), ctx=ctx())
    assert refused.value.missing == ["data_exchange_within_centre"]


def test_a_consent_in_force_lets_the_assessment_route_the_client_into_the_centre() -> None:
    state = with_consent(referred(), *CENTRE_CONSENT)
    [event] = assessment.complete_assessment(state, assess(), ctx=ctx())
    assert isinstance(event, AssessmentCompleted)
    assert event.route is Route.INDIVIDUAL_SERVICE_GUIDANCE
    assert event.rule_set == "Act 1369/2014 on multi-sectoral joint service"
    assert then(state, [event]).stage is Stage.ROUTED


def test_a_withdrawn_consent_no_longer_allows_routing_into_the_centre() -> None:
    state = with_consent(referred(), *CENTRE_CONSENT)
    state = then(
        state, consent.withdraw_consent(state, consent_id="consent-1", withdrawn_on=NOW.date(), ctx=ctx())
    )
    with pytest.raises(ConsentMissing):
        assessment.complete_assessment(state, assess(), ctx=ctx())


def test_a_backdated_assessment_cannot_route_a_client_whose_consent_was_withdrawn_before_recording() -> None:
    given = consent.give_consent(
        referred(),
        consent_id="consent-1",
        scopes=CENTRE_CONSENT,
        organisations=(),
        given_on=date(2016, 5, 10),
        ctx=ctx(),
    )
    state = then(referred(), given)
    state = then(
        state,
        consent.withdraw_consent(state, consent_id="consent-1", withdrawn_on=date(2016, 5, 25), ctx=ctx()),
    )
    backdated = assess(assessed_on=date(2016, 5, 20))  # in force on 20 May, withdrawn on 25 May
    with pytest.raises(ConsentMissing, match="2016-06-01") as refused:
        assessment.complete_assessment(state, backdated, ctx=ctx())
    assert refused.value.missing == ["move_to_centre", "data_exchange_within_centre"]
    assert refused.value.days == (date(2016, 5, 20), date(2016, 6, 1))
    [event] = assessment.complete_assessment(
        state, assess(assessed_on=date(2016, 5, 20), route=Route.JOB_SEARCH_SERVICES), ctx=ctx()
    )
    assert isinstance(event, AssessmentCompleted)
    assert event.route is Route.JOB_SEARCH_SERVICES


def test_an_assessment_needs_the_consent_in_force_on_its_date_as_well_as_on_the_day_it_is_recorded() -> None:
    state = then(
        referred(),
        consent.give_consent(
            referred(),
            consent_id="consent-1",
            scopes=CENTRE_CONSENT,
            organisations=(),
            given_on=date(2016, 5, 25),
            ctx=ctx(),
        ),
    )
    with pytest.raises(ConsentMissing, match="2016-05-20"):
        assessment.complete_assessment(state, assess(assessed_on=date(2016, 5, 20)), ctx=ctx())
    [event] = assessment.complete_assessment(state, assess(assessed_on=date(2016, 5, 25)), ctx=ctx())
    assert isinstance(event, AssessmentCompleted)
    assert event.assessed_on == date(2016, 5, 25)


def test_rehabilitative_work_activity_also_needs_disclosure_to_the_municipalitys_social_services() -> None:
    state = with_consent(referred(), *CENTRE_CONSENT)
    command = assess(
        route=Route.REHABILITATIVE_WORK_ACTIVITY, profile=ClientProfile.REHABILITATIVE_WORK_ACTIVITY
    )
    with pytest.raises(ConsentMissing) as refused:
        assessment.complete_assessment(state, command, ctx=ctx())
    assert refused.value.missing == ["disclosure_to_organisations:social_services:puumala"]
    state = with_consent(
        state, ConsentScope.DISCLOSURE_TO_ORGANISATIONS, organisations=("social_services:puumala",)
    )
    assert len(assessment.complete_assessment(state, command, ctx=ctx())) == 1


def test_routes_that_leave_the_centre_need_no_consent() -> None:
    for route in (
        Route.INTERMEDIATE_LABOUR_MARKET,
        Route.JOB_SEARCH_SERVICES,
        Route.PAID_OR_WAGE_SUBSIDISED_WORK,
    ):
        [event] = assessment.complete_assessment(referred(), assess(route=route), ctx=ctx())
        assert isinstance(event, AssessmentCompleted)
        assert event.route is route


def test_the_entry_rule_routes_a_client_whose_capacity_does_not_allow_rehabilitative_work_elsewhere() -> None:
    state = with_consent(referred(), *CENTRE_CONSENT)
    with pytest.raises(DomainError, match="entry rule"):
        assessment.complete_assessment(state, assess(capacity_allows_rehabilitative_work=False), ctx=ctx())
    with pytest.raises(DomainError, match="destination"):
        assessment.complete_assessment(
            state, assess(capacity_allows_rehabilitative_work=False, route=Route.NOT_HELPED_HERE), ctx=ctx()
        )
    [event] = assessment.complete_assessment(
        state,
        assess(
            capacity_allows_rehabilitative_work=False,
            route=Route.NOT_HELPED_HERE,
            destination="pension inquiry through occupational health",
            profile=None,
            ministry_segment=None,
        ),
        ctx=ctx(),
    )
    assert isinstance(event, AssessmentCompleted)
    assert event.destination == "pension inquiry through occupational health"


def test_an_assessment_records_every_area_and_one_or_two_distinct_assessors() -> None:
    state = with_consent(referred(), *CENTRE_CONSENT)
    with pytest.raises(DomainError, match="work_ability"):
        assessment.complete_assessment(
            state,
            assess(findings=[f for f in findings() if f.area is not AssessmentArea.WORK_ABILITY]),
            ctx=ctx(),
        )
    pair = [
        Assessor(person_id="advisor-1", role="employment_advisor", organisation="te-office"),
        Assessor(person_id="sw-1", role="social_worker", organisation="puumala"),
    ]
    [event] = assessment.complete_assessment(state, assess(assessors=pair), ctx=ctx())
    assert isinstance(event, AssessmentCompleted)
    assert len(event.assessors) == 2
    with pytest.raises(DomainError, match="different people"):
        assessment.complete_assessment(state, assess(assessors=[pair[0], pair[0]]), ctx=ctx())


def test_a_client_is_assessed_once_in_intake() -> None:
    state = with_consent(referred(), *CENTRE_CONSENT)
    state = then(state, assessment.complete_assessment(state, assess(), ctx=ctx()))
    with pytest.raises(AlreadyAssessed):
        assessment.complete_assessment(state, assess(), ctx=ctx())
    with pytest.raises(AlreadyAssessed):
        sessions.invite(state, session(), ctx=ctx())


def test_routes_into_the_centre_need_a_profile_and_a_segment() -> None:
    state = with_consent(referred(), *CENTRE_CONSENT)
    with pytest.raises(DomainError, match="profile"):
        assessment.complete_assessment(state, assess(profile=None), ctx=ctx())


# --- effective-dated rules -----------------------------------------------------------------------


def test_the_rules_of_the_referral_date_apply() -> None:
    assert deadline_status(referred(referral_date=date(2014, 12, 31)), NOW.date()).rule_set.startswith("Seed")
    assert "1369/2014" in deadline_status(referred(referral_date=date(2015, 1, 1)), NOW.date()).statute


def test_the_2010_rules_mark_clients_over_500_subsidy_days_and_set_no_deadline() -> None:
    state = referred(referral_date=date(2010, 3, 1), subsidy_days=501)
    assert eligibility(state).counts_towards_over_500_days is True
    assert eligibility(replace(state, subsidy_days=500)).counts_towards_over_500_days is False
    status = deadline_status(state, date(2016, 1, 1))
    assert (status.deadline, status.overdue) == (None, False)


def test_the_2015_triggers_use_subsidy_days_and_age_from_the_identity_code() -> None:
    born_1990 = identity_code(date(1990, 5, 1))
    young = referred(
        subsidy_days=0,
        unemployment_months=6,
        client=ClientDetails(
            first_name="A", last_name="B", personal_identity_code=identity_code(date(1995, 1, 1))
        ),
    )
    assert eligibility(young).indicated is True
    adult = replace(young, client=young.client.model_copy(update={"personal_identity_code": born_1990}))
    assert eligibility(adult).indicated is False
    assert eligibility(replace(adult, unemployment_months=12)).indicated is True
    assert eligibility(replace(adult, subsidy_days=300, unemployment_months=0)).indicated is True


def test_the_2025_rules_are_need_based_and_ignore_day_counts() -> None:
    state = referred(referral_date=date(2025, 2, 1), subsidy_days=900)
    status = deadline_status(state, date(2025, 6, 1))
    assert status.statute == "Act 381/2023"
    assert (status.deadline, status.overdue) == (None, False)
    assert eligibility(state).indicated is False
    assert eligibility(replace(state, need_based_reason="limits of work or functional capacity")).indicated


def test_a_case_not_assessed_within_three_months_under_the_2015_act_is_overdue() -> None:
    state = referred(referral_date=date(2016, 2, 29))
    assert deadline_status(state, date(2016, 5, 29)).deadline == date(2016, 5, 29)
    assert deadline_status(state, date(2016, 5, 29)).overdue is False
    assert deadline_status(state, date(2016, 5, 30)).overdue is True
