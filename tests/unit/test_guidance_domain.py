"""Guidance's pure domain, rule by rule: no servers."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TypedDict, Unpack

import pytest

from contracts.base import Actor, EventBase
from contracts.guidance import (
    ActivationPlan,
    ClientRelationshipClosed,
    ClosureDecision,
    ClosureProposed,
    Continuation,
    FinalAssessment,
    FinalAssessmentIssued,
    GuideAssigned,
    JointDecision,
    Measure,
    Outcome,
    OutsideLabourForceReason,
    Phase,
    PhaseChanged,
    TransferAcknowledged,
)
from contracts.intake import AreaFinding, AssessmentArea, AssessmentCompleted, Assessor, ClientProfile, Route
from runtime.decision import Context
from services.disclosure.policy import DisclosureForbidden
from services.guidance.domain import closure, guides, health, opening, plan, transfer
from services.guidance.domain.case import OPENING_TRANSFER_ID, GuidanceCase, Status, Transfer, fold
from services.guidance.domain.errors import (
    CaseClosed,
    CaseloadFull,
    DomainError,
    NotPermitted,
    RelationshipEnded,
)
from services.guidance.repository import ConsentCopy, counted_guide
from tests.support.factories import ADVISOR

GUIDE = Actor(person_id="guide-1", role="service_guide", organisation="mikkeli")
COORDINATOR = Actor(person_id="coord-1", role="service_coordinator", organisation="mikkeli")
NURSE = Actor(person_id="nurse-1", role="nurse", organisation="mikkeli")
SOCIAL = Actor(person_id="sw-1", role="social_worker", organisation="social_services:mikkeli")
#: the client's consent to disclosure to Mikkeli's social services, as guidance knows it
CONSENTED = (
    ConsentCopy(
        "consent-1",
        ("move_to_centre", "data_exchange_within_centre", "disclosure_to_organisations"),
        ("social_services:mikkeli",),
        date(2016, 1, 10),
        None,
    ),
)
CENTRE = ("Mikkeli", "Hirvensalmi")


def ctx(actor: Actor = GUIDE, now: date = date(2016, 6, 1)) -> Context:
    counter = itertools.count(1)
    return Context(
        actor=actor,
        now=datetime.combine(now, datetime.min.time(), UTC),
        correlation_id=uuid.uuid4(),
        new_id=lambda: uuid.UUID(int=next(counter)),
    )


def assessment(
    route: Route = Route.INDIVIDUAL_SERVICE_GUIDANCE, on: date = date(2016, 1, 15)
) -> AssessmentCompleted:
    now = datetime.combine(on, datetime.min.time(), UTC)
    return AssessmentCompleted(
        event_id=uuid.uuid4(),
        stream_id="client-1",
        stream_version=5,
        occurred_at=now,
        recorded_at=now,
        actor=ADVISOR,
        correlation_id=uuid.uuid4(),
        municipality="Mikkeli",
        assessed_on=on,
        assessors=(Assessor(person_id="a", role="employment_advisor", organisation="te-office"),),
        findings=tuple(AreaFinding(area=a, support_need="some") for a in AssessmentArea),
        capacity_allows_rehabilitative_work=True,
        profile=ClientProfile.CENTRE,
        ministry_segment=3,
        route=route,
        rule_set="x",
    )


def opened(route: Route = Route.INDIVIDUAL_SERVICE_GUIDANCE, on: date = date(2016, 1, 15)) -> GuidanceCase:
    state = fold(opening.open_case(None, assessment(route, on), ctx=ctx(now=on)))
    assert state is not None
    return state


def then(state: GuidanceCase, events: list[EventBase]) -> GuidanceCase:
    new = fold(events, state)
    assert new is not None
    return new


def guide(caseload: int = 0, areas: tuple[str, ...] = ("Mikkeli",), person: str = "guide-1") -> guides.Guide:
    return guides.Guide(person, f"Guide {person}", "service_guide", areas, caseload)


def active(on: date = date(2016, 1, 15)) -> GuidanceCase:
    state = opened(on=on)
    return then(
        state,
        guides.assign_guide(state, guide(), limit=60, assigned_on=on, override_reason=None, ctx=ctx(now=on)),
    )


# --- opening --------------------------------------------------------------------------------------


def test_routes_into_the_centre_open_a_case_waiting_for_a_guide() -> None:
    for route in (Route.INDIVIDUAL_SERVICE_GUIDANCE, Route.HEALTH_CHECK_FIRST):
        state = opened(route)
        assert (state.status, state.waiting_since, state.route) == (
            Status.WAITING_FOR_GUIDE,
            date(2016, 1, 15),
            route,
        )


def test_rehabilitative_work_activity_opens_a_case_already_with_social_services() -> None:
    assert opened(Route.REHABILITATIVE_WORK_ACTIVITY).status is Status.WITH_SOCIAL_SERVICES


def test_a_case_opened_with_social_services_is_an_implicit_transfer_to_the_clients_municipality() -> None:
    state = opened(Route.REHABILITATIVE_WORK_ACTIVITY, on=date(2016, 1, 15))
    assert state.transfers == (
        Transfer(
            OPENING_TRANSFER_ID,
            receiving_municipality="Mikkeli",
            transferred_on=date(2016, 1, 15),
            stays_open=True,
            accepted=None,
        ),
    )
    assert opened().transfers == ()


def test_the_opening_hand_over_is_flagged_acknowledged_and_returned_from_like_any_transfer() -> None:
    state = opened(Route.REHABILITATIVE_WORK_ACTIVITY, on=date(2016, 1, 15))
    assert transfer.unacknowledged(state, date(2016, 1, 29), within_days=14) is None
    assert transfer.unacknowledged(state, date(2016, 1, 30), within_days=14) is not None
    with pytest.raises(DisclosureForbidden, match="social_services:mikkeli"):
        transfer.acknowledge(
            state,
            transfer_id=OPENING_TRANSFER_ID,
            accepted=True,
            reason=None,
            acknowledged_on=date(2016, 2, 1),
            ctx=ctx(GUIDE),
        )
    state = then(
        state,
        transfer.acknowledge(
            state,
            transfer_id=OPENING_TRANSFER_ID,
            accepted=True,
            reason=None,
            acknowledged_on=date(2016, 2, 1),
            ctx=ctx(SOCIAL),
        ),
    )
    assert state.transfer is not None
    assert (state.status, state.transfer.accepted) == (Status.WITH_SOCIAL_SERVICES, True)
    assert transfer.unacknowledged(state, date(2016, 6, 1), within_days=14) is None
    state = then(
        state,
        transfer.return_from_social_services(
            state, transfer_id=OPENING_TRANSFER_ID, returned_on=date(2016, 5, 2), ctx=ctx(SOCIAL)
        ),
    )
    assert (state.status, state.waiting_since, state.guide) == (
        Status.WAITING_FOR_GUIDE,
        date(2016, 5, 2),
        None,
    )
    state = then(
        state,
        guides.assign_guide(
            state, guide(), limit=60, assigned_on=date(2016, 5, 3), override_reason=None, ctx=ctx()
        ),
    )
    assert (state.status, state.guide) == (Status.ACTIVE, "guide-1")


def test_a_declined_opening_hand_over_brings_the_client_to_wait_for_a_guide() -> None:
    state = opened(Route.REHABILITATIVE_WORK_ACTIVITY)
    state = then(
        state,
        transfer.acknowledge(
            state,
            transfer_id=OPENING_TRANSFER_ID,
            accepted=False,
            reason="no places this spring",
            acknowledged_on=date(2016, 2, 1),
            ctx=ctx(SOCIAL),
        ),
    )
    assert state.status is Status.WAITING_FOR_GUIDE


def test_routes_that_leave_the_centre_open_no_case_and_an_open_case_is_not_opened_twice() -> None:
    for route in (Route.JOB_SEARCH_SERVICES, Route.INTERMEDIATE_LABOUR_MARKET, Route.NOT_HELPED_HERE):
        assert opening.open_case(None, assessment(route), ctx=ctx()) == []
    assert opening.open_case(opened(), assessment(), ctx=ctx()) == []
    assert opening.open_case(transferred(stays_open=False), assessment(), ctx=ctx()) == []


def test_the_opening_records_the_rules_in_force_on_the_assessment_date() -> None:
    assert opened(on=date(2014, 12, 31)).rule_set.startswith("Seed")
    assert opened(on=date(2025, 1, 1)).rule_set.startswith("Act 381/2023")


# --- guides and caseload ----------------------------------------------------------------------------


def test_assigning_a_guide_makes_the_case_active_and_reassignment_keeps_history() -> None:
    state = active()
    assert (state.status, state.guide) == (Status.ACTIVE, "guide-1")
    other = guide(person="guide-2")
    state = then(
        state,
        guides.assign_guide(
            state, other, limit=60, assigned_on=date(2016, 2, 1), override_reason=None, ctx=ctx()
        ),
    )
    assert (state.guide, state.guides_before) == ("guide-2", ("guide-1",))


def test_the_caseload_limit_refuses_an_assignment_with_a_clear_error() -> None:
    with pytest.raises(CaseloadFull, match="60 active clients"):
        guides.assign_guide(
            opened(),
            guide(caseload=60),
            limit=60,
            assigned_on=date(2016, 2, 1),
            override_reason=None,
            ctx=ctx(),
        )


def test_only_a_coordinator_overrides_the_limit_and_the_reason_is_recorded() -> None:
    with pytest.raises(NotPermitted):
        guides.assign_guide(
            opened(),
            guide(caseload=60),
            limit=60,
            assigned_on=date(2016, 2, 1),
            override_reason="pair covers",
            ctx=ctx(GUIDE),
        )
    [event] = guides.assign_guide(
        opened(),
        guide(caseload=60),
        limit=60,
        assigned_on=date(2016, 2, 1),
        override_reason="pair covers",
        ctx=ctx(COORDINATOR),
    )
    assert isinstance(event, GuideAssigned)
    assert event.over_limit_override_reason == "pair covers"


def test_suggestions_put_the_area_first_then_the_lightest_caseload_and_skip_full_guides() -> None:
    found = guides.suggest_guides(
        [
            guide(10, ("Puumala",), "a"),
            guide(30, ("Mikkeli",), "b"),
            guide(5, ("Mikkeli",), "c"),
            guide(60, ("Mikkeli",), "d"),
        ],
        "Mikkeli",
        limit=60,
    )
    assert [s.guide.person_id for s in found] == ["c", "b", "a"]
    assert [s.free_places for s in found] == [55, 30, 50]


# --- phases, plan, deadlines -----------------------------------------------------------------------------


def measure(kind: str = "work_try_out", measure_id: str = "m1") -> Measure:
    return Measure(measure_id=measure_id, kind=kind, provider="Vartti", start=date(2016, 2, 1))


def test_a_plan_takes_measures_from_the_catalogue_and_revisions_keep_history() -> None:
    state = active()
    state = then(
        state,
        plan.revise_plan(
            state,
            [measure()],
            revised_on=date(2016, 2, 1),
            review=False,
            catalogue=plan.DEFAULT_MEASURE_CATALOGUE,
            ctx=ctx(),
        ),
    )
    state = then(
        state,
        plan.revise_plan(
            state,
            [measure(), measure("job_coach", "m2")],
            revised_on=date(2016, 5, 1),
            review=True,
            catalogue=plan.DEFAULT_MEASURE_CATALOGUE,
            ctx=ctx(),
        ),
    )
    assert (state.plan_revision, len(state.measures), state.plan_drawn_on) == (2, 2, date(2016, 2, 1))


@pytest.mark.parametrize(
    ("measures", "review", "message"),
    [
        ([measure("skydiving")], False, "skydiving"),
        ([measure(), measure()], False, "own measure_id"),
        ([measure()], True, "no plan to review"),
    ],
)
def test_a_plan_that_breaks_a_rule_is_refused(measures: list[Measure], review: bool, message: str) -> None:
    with pytest.raises(DomainError, match=message):
        plan.revise_plan(
            active(),
            measures,
            revised_on=date(2016, 2, 1),
            review=review,
            catalogue=plan.DEFAULT_MEASURE_CATALOGUE,
            ctx=ctx(),
        )


def test_the_closure_phase_starts_only_by_closing() -> None:
    with pytest.raises(DomainError, match="closure"):
        plan.change_phase(active(), Phase.CLOSURE, changed_on=date(2016, 2, 1), ctx=ctx())
    [event] = plan.change_phase(active(), Phase.SURVEY_AND_RESEARCH, changed_on=date(2016, 2, 1), ctx=ctx())
    assert isinstance(event, PhaseChanged)
    assert event.phase is Phase.SURVEY_AND_RESEARCH


def test_the_plan_is_due_three_months_after_opening_under_the_2015_act_and_never_under_the_seed() -> None:
    state = active(date(2016, 1, 15))
    assert plan.deadlines(state, date(2016, 4, 15)) == plan.Deadlines(date(2016, 4, 15), False, None, False)
    assert plan.deadlines(state, date(2016, 4, 16)).plan_overdue
    assert plan.deadlines(active(date(2014, 6, 1)), date(2016, 1, 1)).plan_due is None


@pytest.mark.parametrize(
    ("reviewed_on", "due"),
    [
        (date(2016, 3, 1), date(2016, 9, 1)),
        (date(2022, 5, 2), date(2022, 8, 2)),
        (date(2025, 3, 1), date(2025, 6, 1)),
    ],
)
def test_the_plan_review_interval_follows_the_rules_in_force(reviewed_on: date, due: date) -> None:
    state = active(date(2016, 1, 15))
    state = then(
        state,
        plan.revise_plan(
            state,
            [measure()],
            revised_on=reviewed_on,
            review=False,
            catalogue=plan.DEFAULT_MEASURE_CATALOGUE,
            ctx=ctx(),
        ),
    )
    found = plan.deadlines(state, due)
    assert (found.review_due, found.review_overdue) == (due, False)
    assert plan.deadlines(state, date.fromordinal(due.toordinal() + 1)).review_overdue


# --- health check ------------------------------------------------------------------------------------------


def test_the_health_check_splits_a_shareable_summary_from_health_only_details() -> None:
    summary, details = health.record_health_check(
        active(),
        checked_on=date(2016, 2, 1),
        work_restrictions_found=False,
        recommended_next_step="work try-out",
        details="no findings",
        ctx=ctx(NURSE),
    )
    assert summary.subject_side().value == "centre"
    assert details.subject_side().value == "health"
    assert "details" not in type(summary).model_fields


# --- transfer and return ------------------------------------------------------------------------------------


def activation(**changes: object) -> ActivationPlan:
    values: dict[str, object] = dict(
        start=date(2016, 3, 1), months=6, days_per_week=3, hours_per_day=Decimal(6), place="Vartti"
    )
    values.update(changes)
    return ActivationPlan(**values)


def transferred(stays_open: bool = True) -> GuidanceCase:
    state = active()
    return then(
        state,
        transfer.transfer(
            state,
            transfer_id="t1",
            receiving_municipality="Mikkeli",
            transferred_on=date(2016, 3, 1),
            plan=activation(),
            stays_open=stays_open,
            consents=CONSENTED,
            centre=CENTRE,
            ctx=ctx(),
        ),
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"months": 2}, "months"),
        ({"days_per_week": 5}, "days per week"),
        ({"hours_per_day": Decimal("8.5"), "days_per_week": 4}, "hours"),
    ],
)
def test_activation_plan_terms_are_validated_by_the_rules_in_force(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(DomainError, match=message):
        transfer.transfer(
            active(),
            transfer_id="t1",
            receiving_municipality="Mikkeli",
            transferred_on=date(2016, 3, 1),
            plan=activation(**changes),
            stays_open=True,
            consents=CONSENTED,
            centre=CENTRE,
            ctx=ctx(),
        )


def test_a_transfer_keeps_the_relationship_open_or_ends_it_as_chosen() -> None:
    assert transferred(True).status is Status.WITH_SOCIAL_SERVICES
    ended = transferred(False)
    assert ended.status is Status.TRANSFERRED_OUT and not ended.open


def test_only_the_receiving_social_services_acknowledge_and_a_decline_needs_a_reason() -> None:
    state = transferred()
    with pytest.raises(DisclosureForbidden, match="social_services:mikkeli"):
        transfer.acknowledge(
            state,
            transfer_id="t1",
            accepted=True,
            reason=None,
            acknowledged_on=date(2016, 3, 2),
            ctx=ctx(GUIDE),
        )
    with pytest.raises(DomainError, match="reason"):
        transfer.acknowledge(
            state,
            transfer_id="t1",
            accepted=False,
            reason=None,
            acknowledged_on=date(2016, 3, 2),
            ctx=ctx(SOCIAL),
        )
    declined = then(
        state,
        transfer.acknowledge(
            state,
            transfer_id="t1",
            accepted=False,
            reason="no places",
            acknowledged_on=date(2016, 3, 2),
            ctx=ctx(SOCIAL),
        ),
    )
    assert declined.status is Status.ACTIVE
    with pytest.raises(DomainError, match="already"):
        transfer.acknowledge(
            declined,
            transfer_id="t1",
            accepted=True,
            reason=None,
            acknowledged_on=date(2016, 3, 3),
            ctx=ctx(SOCIAL),
        )


def test_a_transfer_not_acknowledged_in_time_is_flagged() -> None:
    state = transferred()
    assert transfer.unacknowledged(state, date(2016, 3, 15), within_days=14) is None
    assert transfer.unacknowledged(state, date(2016, 3, 16), within_days=14) is not None
    acknowledged = then(
        state,
        transfer.acknowledge(
            state,
            transfer_id="t1",
            accepted=True,
            reason=None,
            acknowledged_on=date(2016, 3, 20),
            ctx=ctx(SOCIAL),
        ),
    )
    assert transfer.unacknowledged(acknowledged, date(2016, 6, 1), within_days=14) is None


def test_a_return_brings_the_client_back_to_their_guide() -> None:
    state = transferred()
    back = then(
        state,
        transfer.return_from_social_services(
            state, transfer_id="t1", returned_on=date(2016, 9, 1), ctx=ctx()
        ),
    )
    assert (back.status, back.guide, back.waiting_since) == (Status.ACTIVE, "guide-1", date(2016, 9, 1))
    with pytest.raises(DomainError):
        transfer.return_from_social_services(back, transfer_id="t1", returned_on=date(2016, 9, 2), ctx=ctx())
    waiting = then(opened(), [])
    with pytest.raises(DomainError, match="no transfer"):
        transfer.return_from_social_services(
            waiting, transfer_id="t1", returned_on=date(2016, 9, 2), ctx=ctx()
        )


def test_a_client_whose_relationship_ended_at_the_transfer_returns_to_their_guide() -> None:
    ended = transferred(stays_open=False)
    back = then(
        ended,
        transfer.return_from_social_services(
            ended, transfer_id="t1", returned_on=date(2017, 3, 1), ctx=ctx()
        ),
    )
    assert (back.status, back.guide, back.waiting_since) == (Status.ACTIVE, "guide-1", date(2017, 3, 1))
    assert back.transfer is not None
    assert back.transfer.returned_on == date(2017, 3, 1)


def test_a_client_transferred_out_before_a_guide_was_named_returns_to_wait_for_one() -> None:
    state = opened()
    state = then(
        state,
        transfer.transfer(
            state,
            transfer_id="t1",
            receiving_municipality="Mikkeli",
            transferred_on=date(2016, 3, 1),
            plan=activation(),
            stays_open=False,
            consents=CONSENTED,
            centre=CENTRE,
            ctx=ctx(),
        ),
    )
    assert state.status is Status.TRANSFERRED_OUT
    back = then(
        state,
        transfer.return_from_social_services(
            state, transfer_id="t1", returned_on=date(2016, 9, 1), ctx=ctx()
        ),
    )
    assert (back.status, back.guide, back.waiting_since) == (Status.WAITING_FOR_GUIDE, None, date(2016, 9, 1))


def test_a_case_transferred_out_can_be_closed_with_the_final_assessment() -> None:
    ended = proposed(transferred(stays_open=False))
    closed, issued = closure.close(
        ended, closing(), personal_identity_code="010190-123M", ctx=ctx(COORDINATOR)
    )
    assert isinstance(issued, FinalAssessmentIssued)
    assert then(ended, [closed, issued]).status is Status.CLOSED


def test_a_case_transferred_out_takes_only_the_return_or_the_closure() -> None:
    ended = transferred(stays_open=False)
    refusals = [
        lambda: guides.assign_guide(
            ended,
            guide(person="guide-2"),
            limit=60,
            assigned_on=date(2016, 4, 1),
            override_reason=None,
            ctx=ctx(),
        ),
        lambda: plan.change_phase(ended, Phase.SURVEY_AND_RESEARCH, changed_on=date(2016, 4, 1), ctx=ctx()),
        lambda: plan.revise_plan(
            ended,
            [measure()],
            revised_on=date(2016, 4, 1),
            review=False,
            catalogue=plan.DEFAULT_MEASURE_CATALOGUE,
            ctx=ctx(),
        ),
        lambda: health.record_health_check(
            ended,
            checked_on=date(2016, 4, 1),
            work_restrictions_found=False,
            recommended_next_step="x",
            details="y",
            ctx=ctx(NURSE),
        ),
        lambda: transfer.transfer(
            ended,
            transfer_id="t2",
            receiving_municipality="Mikkeli",
            transferred_on=date(2016, 4, 1),
            plan=activation(start=date(2016, 4, 1)),
            stays_open=True,
            consents=CONSENTED,
            centre=CENTRE,
            ctx=ctx(),
        ),
        lambda: closure.reassess(
            ended,
            reassessed_on=date(2016, 4, 1),
            assessors=PAIR,
            route=Route.INDIVIDUAL_SERVICE_GUIDANCE,
            reason="stalled",
            ctx=ctx(),
        ),
    ]
    for command in refusals:
        with pytest.raises(
            RelationshipEnded,
            match="the relationship ended at the transfer: record the client's return or close it",
        ):
            command()


def test_a_case_transferred_out_leaves_its_guides_caseload_until_the_client_returns() -> None:
    assert counted_guide(transferred(stays_open=True)) == "guide-1"
    ended = transferred(stays_open=False)
    assert counted_guide(ended) is None
    back = then(
        ended,
        transfer.return_from_social_services(
            ended, transfer_id="t1", returned_on=date(2016, 9, 1), ctx=ctx()
        ),
    )
    assert counted_guide(back) == "guide-1"


def test_the_receiving_side_still_acknowledges_a_transfer_that_ended_the_relationship() -> None:
    ended = transferred(stays_open=False)
    accepted = then(
        ended,
        transfer.acknowledge(
            ended,
            transfer_id="t1",
            accepted=True,
            reason=None,
            acknowledged_on=date(2016, 3, 2),
            ctx=ctx(SOCIAL),
        ),
    )
    assert accepted.transfer is not None
    assert (accepted.status, accepted.transfer.accepted) == (Status.TRANSFERRED_OUT, True)
    declined = then(
        ended,
        transfer.acknowledge(
            ended,
            transfer_id="t1",
            accepted=False,
            reason="no places",
            acknowledged_on=date(2016, 3, 2),
            ctx=ctx(SOCIAL),
        ),
    )
    assert (declined.status, counted_guide(declined)) == (Status.ACTIVE, "guide-1")


def twice_transferred() -> GuidanceCase:
    """t1 made and returned from; t2 made and not yet acknowledged."""
    state = transferred()
    state = then(
        state,
        transfer.return_from_social_services(
            state, transfer_id="t1", returned_on=date(2016, 4, 1), ctx=ctx()
        ),
    )
    return then(
        state,
        transfer.transfer(
            state,
            transfer_id="t2",
            receiving_municipality="Mikkeli",
            transferred_on=date(2016, 5, 2),
            plan=activation(start=date(2016, 5, 2)),
            stays_open=True,
            consents=CONSENTED,
            centre=CENTRE,
            ctx=ctx(),
        ),
    )


def test_a_transfer_the_client_has_returned_from_can_no_longer_be_acknowledged() -> None:
    state = twice_transferred()
    with pytest.raises(DomainError, match="returned from transfer t1"):
        transfer.acknowledge(
            state,
            transfer_id="t1",
            accepted=False,
            reason="late",
            acknowledged_on=date(2016, 5, 3),
            ctx=ctx(SOCIAL),
        )
    assert transfer.unacknowledged(state, date(2016, 6, 1), within_days=14) is not None
    [event] = transfer.acknowledge(
        state, transfer_id="t2", accepted=True, reason=None, acknowledged_on=date(2016, 5, 3), ctx=ctx(SOCIAL)
    )
    assert isinstance(event, TransferAcknowledged)
    assert event.transfer_id == "t2"


def test_only_the_latest_transfer_can_be_acknowledged_or_returned_from() -> None:
    state = twice_transferred()
    t1, t2 = state.transfers
    earlier_unreturned = replace(state, transfers=(replace(t1, returned_on=None), t2))
    with pytest.raises(DomainError, match="not the client's latest transfer"):
        transfer.acknowledge(
            earlier_unreturned,
            transfer_id="t1",
            accepted=False,
            reason="late",
            acknowledged_on=date(2016, 5, 3),
            ctx=ctx(SOCIAL),
        )
    with pytest.raises(DomainError, match="not the client's latest transfer"):
        transfer.return_from_social_services(
            earlier_unreturned, transfer_id="t1", returned_on=date(2016, 5, 3), ctx=ctx()
        )


def test_a_late_acknowledgement_of_an_earlier_transfer_does_not_change_the_current_one() -> None:
    state = twice_transferred()
    assert state.status is Status.WITH_SOCIAL_SERVICES
    # as it could be recorded before such acknowledgements were refused
    at = datetime(2016, 5, 3, tzinfo=UTC)
    late = TransferAcknowledged(
        event_id=uuid.uuid4(),
        stream_id=state.client_id,
        stream_version=state.version + 1,
        occurred_at=at,
        recorded_at=at,
        actor=SOCIAL,
        correlation_id=uuid.uuid4(),
        municipality="Mikkeli",
        transfer_id="t1",
        accepted=False,
        reason="no places",
        acknowledged_on=date(2016, 5, 3),
    )
    after = then(state, [late])
    assert after.status is Status.WITH_SOCIAL_SERVICES
    assert after.transfer == state.transfer
    assert after.transfers[0].accepted is False


# --- re-assessment and closure -------------------------------------------------------------


PAIR = [
    Assessor(person_id="guide-1", role="service_guide", organisation="mikkeli"),
    Assessor(person_id="sw-1", role="social_worker", organisation="social_services:mikkeli"),
]


def test_a_reassessment_with_the_clients_social_worker_may_change_the_route() -> None:
    state = active()
    state = then(
        state,
        closure.reassess(
            state,
            reassessed_on=date(2016, 5, 1),
            assessors=PAIR,
            route=Route.REHABILITATIVE_WORK_ACTIVITY,
            reason="stalled",
            ctx=ctx(),
        ),
    )
    assert (state.route, state.reassessments) == (Route.REHABILITATIVE_WORK_ACTIVITY, 1)
    with pytest.raises(DomainError, match="social worker"):
        closure.reassess(
            state,
            reassessed_on=date(2016, 5, 1),
            assessors=[PAIR[0], PAIR[0].model_copy(update={"person_id": "x"})],
            route=Route.INDIVIDUAL_SERVICE_GUIDANCE,
            reason="stalled",
            ctx=ctx(),
        )


class ProposalChanges(TypedDict, total=False):
    """The fields of a ``ProposeClosure`` a test may change."""

    outcome: Outcome
    services_continue: Continuation
    reason: str


def proposing(on: date = date(2016, 5, 20), **changes: Unpack[ProposalChanges]) -> closure.ProposeClosure:
    command = closure.ProposeClosure(
        proposed_on=on,
        outcome=Outcome.OPEN_LABOUR_MARKET,
        services_continue=Continuation.TE_OFFICE,
        reason="Employed since May.",
    )
    return replace(command, **changes)


def proposed(state: GuidanceCase | None = None, on: date = date(2016, 5, 20)) -> GuidanceCase:
    """``state`` (an active case by default) with its guide's closure proposal."""
    state = state or active()
    return then(state, closure.propose(state, proposing(on), ctx=ctx(now=on)))


class ClosingChanges(TypedDict, total=False):
    """The fields of a ``CloseRelationship`` a test may change."""

    closed_on: date
    outside_labour_force_reason: OutsideLabourForceReason | None
    services_continue: Continuation
    follow_up_advisor_person_id: str | None
    final_assessment: FinalAssessment
    joint_decision: JointDecision | None


def closing(
    outcome: Outcome = Outcome.OPEN_LABOUR_MARKET, **changes: Unpack[ClosingChanges]
) -> closure.CloseRelationship:
    command = closure.CloseRelationship(
        closed_on=date(2016, 6, 1),
        outcome=outcome,
        outside_labour_force_reason=None,
        services_continue=Continuation.TE_OFFICE,
        follow_up_advisor_person_id=None,
        final_assessment=FinalAssessment(
            text="Employed.", work_ability_clarified=True, competence_improved=True
        ),
        joint_decision=JointDecision(
            decided_on=date(2016, 6, 1),
            te_office_person_id="a",
            municipality_person_id="b",
            kela_person_id="c",
        ),
    )
    return replace(command, **changes)


@pytest.mark.parametrize("outcome", [o for o in Outcome if o is not Outcome.OUTSIDE_LABOUR_FORCE])
def test_closing_with_each_outcome_issues_the_final_assessment_to_the_te_office(outcome: Outcome) -> None:
    closed, issued = closure.close(
        proposed(), closing(outcome), personal_identity_code="010190-123M", ctx=ctx(COORDINATOR)
    )
    assert isinstance(closed, ClientRelationshipClosed) and isinstance(issued, FinalAssessmentIssued)
    assert (closed.outcome, closed.months_in_relationship) == (outcome, 4)
    assert (issued.subject_side().value, issued.subject_organisation()) == ("te", "te-office")
    assert then(proposed(), [closed, issued]).status is Status.CLOSED


def test_outside_the_labour_force_needs_its_reason() -> None:
    with pytest.raises(DomainError, match="pension"):
        closure.close(
            proposed(),
            closing(Outcome.OUTSIDE_LABOUR_FORCE),
            personal_identity_code="x",
            ctx=ctx(COORDINATOR),
        )
    for reason in OutsideLabourForceReason:
        events = closure.close(
            proposed(),
            closing(Outcome.OUTSIDE_LABOUR_FORCE, outside_labour_force_reason=reason),
            personal_identity_code="x",
            ctx=ctx(COORDINATOR),
        )
        assert isinstance(events[0], ClientRelationshipClosed)
        assert events[0].outside_labour_force_reason is reason
    with pytest.raises(DomainError):
        closure.close(
            proposed(),
            closing(outside_labour_force_reason=OutsideLabourForceReason.CARER),
            personal_identity_code="x",
            ctx=ctx(COORDINATOR),
        )


def test_lighter_follow_up_needs_the_named_employment_advisor() -> None:
    with pytest.raises(DomainError, match="named employment advisor"):
        closure.close(
            proposed(),
            closing(services_continue=Continuation.LIGHT_FOLLOW_UP),
            personal_identity_code="x",
            ctx=ctx(COORDINATOR),
        )
    [closed, _] = closure.close(
        proposed(),
        closing(services_continue=Continuation.LIGHT_FOLLOW_UP, follow_up_advisor_person_id="advisor-3"),
        personal_identity_code="x",
        ctx=ctx(COORDINATOR),
    )
    assert isinstance(closed, ClientRelationshipClosed)
    assert closed.follow_up_advisor_person_id == "advisor-3"


def test_the_joint_decision_is_required_from_2015_but_not_under_the_seed() -> None:
    with pytest.raises(DomainError, match="joint decision"):
        closure.close(
            proposed(), closing(joint_decision=None), personal_identity_code="x", ctx=ctx(COORDINATOR)
        )
    seed_case = active(date(2013, 1, 10))  # the seed: the guide decides without a proposal
    events = closure.close(
        seed_case,
        closing(joint_decision=None, closed_on=date(2014, 12, 31)),
        personal_identity_code="x",
        ctx=ctx(),
    )
    assert isinstance(events[0], ClientRelationshipClosed)
    assert events[0].rule_set.startswith("Seed")
    assert events[0].months_in_relationship == 23


# --- who decides a closure (ADR 0031) --------------------------------------------------------------

ANOTHER_ADVISOR = Actor(person_id="advisor-2", role="employment_advisor", organisation="te-office")


@pytest.mark.parametrize(
    ("on", "decision"),
    [
        (date(2014, 12, 31), ClosureDecision.GUIDE),
        (date(2015, 1, 1), ClosureDecision.JOINT_ASSESSMENT),
        (date(2025, 3, 1), ClosureDecision.JOINT_ASSESSMENT),
    ],
)
def test_a_proposal_records_who_decides_it_under_the_rules_of_its_date(
    on: date, decision: ClosureDecision
) -> None:
    state = active(date(2013, 1, 10))
    (event,) = closure.propose(state, proposing(on), ctx=ctx(now=on))
    assert isinstance(event, ClosureProposed)
    assert (event.decision, event.actor.person_id) == (decision, "guide-1")
    assert event.rule_set.startswith("Seed" if on.year < 2015 else "Act")
    pending = then(state, [event]).closure_proposal
    assert pending is not None and (pending.proposed_by, pending.proposed_on) == ("guide-1", on)


def test_under_the_seed_the_guide_decides_at_once_or_decides_their_own_proposal() -> None:
    seed = active(date(2013, 1, 10))
    seed_closing = closing(joint_decision=None, closed_on=date(2014, 6, 2))
    at_once, _ = closure.close(seed, seed_closing, personal_identity_code="x", ctx=ctx())
    assert isinstance(at_once, ClientRelationshipClosed)
    assert (at_once.proposed_on, at_once.proposed_by_person_id) == (None, None)
    with_proposal = proposed(seed, on=date(2014, 6, 1))
    decided, _ = closure.close(with_proposal, seed_closing, personal_identity_code="x", ctx=ctx())
    assert isinstance(decided, ClientRelationshipClosed)
    assert (decided.proposed_on, decided.proposed_by_person_id) == (date(2014, 6, 1), "guide-1")


def test_from_2015_a_closure_without_the_guide_s_proposal_is_refused() -> None:
    with pytest.raises(DomainError, match="first proposes the closure"):
        closure.close(active(), closing(), personal_identity_code="x", ctx=ctx(COORDINATOR))


@pytest.mark.parametrize("on", [date(2016, 6, 1), date(2025, 6, 2)], ids=["Act 1369/2014", "Act 381/2023"])
def test_from_2015_the_proposing_guide_cannot_decide_their_own_proposal(on: date) -> None:
    state = proposed(active(date(2016, 1, 15)), on=on)
    decision = JointDecision(
        decided_on=on, te_office_person_id="a", municipality_person_id="b", kela_person_id="c"
    )
    command = closing(closed_on=on, joint_decision=decision)
    with pytest.raises(NotPermitted, match="cannot decide their own proposal"):
        closure.close(state, command, personal_identity_code="x", ctx=ctx(GUIDE, now=on))
    closed, _ = closure.close(state, command, personal_identity_code="x", ctx=ctx(ANOTHER_ADVISOR, now=on))
    assert isinstance(closed, ClientRelationshipClosed)
    assert (closed.actor.person_id, closed.proposed_by_person_id) == ("advisor-2", "guide-1")
    assert closed.joint_decision == decision


def test_the_joint_decision_names_three_people_and_comes_after_the_proposal() -> None:
    state = proposed()  # proposed on 2016-05-20
    twice = JointDecision(
        decided_on=date(2016, 6, 1), te_office_person_id="a", municipality_person_id="a", kela_person_id="c"
    )
    with pytest.raises(DomainError, match="three people"):
        closure.close(state, closing(joint_decision=twice), personal_identity_code="x", ctx=ctx(COORDINATOR))
    early = JointDecision(
        decided_on=date(2016, 5, 19), te_office_person_id="a", municipality_person_id="b", kela_person_id="c"
    )
    with pytest.raises(DomainError, match="before the proposal"):
        closure.close(state, closing(joint_decision=early), personal_identity_code="x", ctx=ctx(COORDINATOR))
    with pytest.raises(DomainError, match="before its proposal"):
        closure.close(
            state,
            closing(closed_on=date(2016, 5, 19), joint_decision=early),
            personal_identity_code="x",
            ctx=ctx(COORDINATOR),
        )


def test_only_the_named_guide_proposes_and_not_in_the_future_nor_before_the_opening() -> None:
    with pytest.raises(NotPermitted, match="named guide"):
        closure.propose(active(), proposing(), ctx=ctx(ANOTHER_ADVISOR))
    with pytest.raises(DomainError, match="future"):
        closure.propose(active(), proposing(date(2016, 6, 2)), ctx=ctx())
    with pytest.raises(DomainError, match="before the relationship opened"):
        closure.propose(active(), proposing(date(2016, 1, 14)), ctx=ctx())
    waiting = opened()  # no named guide yet: any guide may propose
    assert closure.propose(waiting, proposing(), ctx=ctx(ANOTHER_ADVISOR))


def test_a_closed_case_takes_no_proposal_and_a_reassessment_clears_a_pending_one() -> None:
    closed = then(
        proposed(), closure.close(proposed(), closing(), personal_identity_code="x", ctx=ctx(COORDINATOR))
    )
    with pytest.raises(CaseClosed):
        closure.propose(closed, proposing(), ctx=ctx())
    state = proposed()
    assert state.closure_proposal is not None
    again = then(
        state,
        closure.reassess(
            state,
            reassessed_on=date(2016, 5, 25),
            assessors=PAIR,
            route=Route.INDIVIDUAL_SERVICE_GUIDANCE,
            reason="not finished",
            ctx=ctx(),
        ),
    )
    assert again.closure_proposal is None
    with pytest.raises(DomainError, match="first proposes"):
        closure.close(again, closing(), personal_identity_code="x", ctx=ctx(COORDINATOR))


def test_a_closed_case_takes_no_further_commands() -> None:
    state = then(
        proposed(), closure.close(proposed(), closing(), personal_identity_code="x", ctx=ctx(COORDINATOR))
    )
    with pytest.raises(CaseClosed):
        closure.close(state, closing(), personal_identity_code="x", ctx=ctx(COORDINATOR))
    with pytest.raises(CaseClosed):
        guides.assign_guide(
            state, guide(), limit=60, assigned_on=date(2016, 7, 1), override_reason=None, ctx=ctx(COORDINATOR)
        )
    with pytest.raises(CaseClosed):
        plan.change_phase(state, Phase.SURVEY_AND_RESEARCH, changed_on=date(2016, 7, 1), ctx=ctx(COORDINATOR))


def test_months_in_the_relationship_count_whole_calendar_months() -> None:
    assert closure.months_between(date(2016, 1, 31), date(2016, 2, 29)) == 1
    assert closure.months_between(date(2016, 1, 31), date(2016, 2, 28)) == 0
    assert closure.months_between(date(2013, 1, 10), date(2016, 1, 10)) == 36


def test_accepting_the_hand_over_the_route_opened_records_its_activation_plan() -> None:
    state = opened(Route.REHABILITATIVE_WORK_ACTIVITY, on=date(2016, 1, 15))

    def acknowledge(accepted: bool = True, **changes: object) -> list[EventBase]:
        return transfer.acknowledge(
            state,
            transfer_id=OPENING_TRANSFER_ID,
            accepted=accepted,
            reason=None if accepted else "no places",
            acknowledged_on=date(2016, 2, 1),
            ctx=ctx(SOCIAL),
            plan=activation().model_copy(update={"start": date(2016, 2, 8), **changes}),
        )

    [event] = acknowledge()
    assert isinstance(event, TransferAcknowledged) and event.activation_plan is not None
    assert event.activation_plan.start == date(2016, 2, 8) and event.activation_plan.months == 6
    with pytest.raises(DomainError, match="days per week"):
        acknowledge(days_per_week=5)
    with pytest.raises(DomainError, match="before the hand-over"):
        acknowledge(start=date(2016, 1, 1))
    with pytest.raises(DomainError, match="declined hand-over has no activation plan"):
        acknowledge(accepted=False)


def test_a_transfer_a_guide_made_keeps_the_plan_it_was_made_with() -> None:
    state = transferred()
    with pytest.raises(DomainError, match="only the hand-over the route opened"):
        transfer.acknowledge(
            state,
            transfer_id="t1",
            accepted=True,
            reason=None,
            acknowledged_on=date(2016, 3, 2),
            ctx=ctx(SOCIAL),
            plan=activation(),
        )
