"""Business dates: the day a year's figures are counted as of when none is asked for, and
the plan deadline under each rule set (docs/adr/0030)."""

from __future__ import annotations

from datetime import date

from services.guidance.domain import closure, opening, plan
from services.rules import (
    ACT_381_2023,
    ACT_1369_2014,
    SEED_2010,
    assessment_deadline,
    plan_deadline,
    plan_due,
    plan_period_start,
    rules_in_force,
)
from services.rules.dates import as_of_for_year
from tests.unit.test_guidance_domain import COORDINATOR, active, assessment, closing, ctx, proposed, then

TODAY = date(2026, 12, 3)


def test_a_past_year_is_counted_as_of_its_last_day() -> None:
    assert as_of_for_year(2010, TODAY) == date(2010, 12, 31)
    assert as_of_for_year(2025, TODAY) == date(2025, 12, 31)


def test_the_current_year_is_counted_as_of_today() -> None:
    assert as_of_for_year(2026, TODAY) == TODAY
    assert as_of_for_year(2026, date(2026, 1, 1)) == date(2026, 1, 1)


def test_a_year_to_come_and_all_years_are_counted_as_of_today() -> None:
    assert as_of_for_year(2027, TODAY) == TODAY
    assert as_of_for_year(None, TODAY) == TODAY


def test_on_new_years_day_the_year_just_ended_is_counted_as_of_31_december() -> None:
    assert as_of_for_year(2026, date(2027, 1, 1)) == date(2026, 12, 31)


# --- the plan deadline under each rule set (services/rules/deadlines.py) -------------------


def test_the_seed_rules_set_no_plan_deadline() -> None:
    assert plan_due(referral_date=date(2011, 3, 1), opened_on=date(2011, 4, 11)) is None
    assert plan_due(referral_date=date(2014, 12, 1), opened_on=date(2015, 1, 20)) is None, (
        "the rules of the day the joint service started"
    )


def test_under_act_1369_2014_the_plan_is_due_at_the_end_of_the_mapping_period_from_the_referral() -> None:
    # the mapping period (kartoitusjakso) starts with the joint service: the referral
    assert plan_due(referral_date=date(2016, 3, 1), opened_on=date(2016, 4, 11)) == date(2016, 6, 1)
    assert plan_due(referral_date=date(2016, 3, 1), opened_on=date(2016, 4, 11)) == assessment_deadline(
        rules_in_force(date(2016, 3, 1)), date(2016, 3, 1)
    ), "the joint assessment and the plan share the one period"
    # the same act as in force from 2 May 2022
    assert plan_due(referral_date=date(2023, 11, 30), opened_on=date(2024, 1, 5)) == date(2024, 2, 29)
    # referred under the act, assessed once the 2025 act was in force: the period began under 1369/2014
    assert plan_due(referral_date=date(2024, 12, 10), opened_on=date(2025, 1, 15)) == date(2025, 3, 10)


def test_under_act_381_2023_the_plan_is_due_three_months_after_the_opening() -> None:
    # the relationship starts when the assessment starts
    assert plan_due(referral_date=date(2025, 2, 3), opened_on=date(2025, 3, 31)) == date(2025, 6, 30)


def test_without_a_referral_date_before_the_opening_the_period_starts_on_the_opening() -> None:
    assert plan_due(referral_date=None, opened_on=date(2016, 4, 11)) == date(2016, 7, 11)
    assert plan_due(referral_date=date(2017, 1, 9), opened_on=date(2016, 4, 11)) == date(2016, 7, 11)
    assert plan_due(referral_date=None, opened_on=date(2009, 12, 1)) is None, "no rules before 2010"


def test_the_period_start_follows_the_rule_set() -> None:
    referral, opening = date(2016, 3, 1), date(2016, 4, 11)
    assert plan_period_start(ACT_1369_2014, referral_date=referral, opened_on=opening) == referral
    assert plan_period_start(ACT_381_2023, referral_date=referral, opened_on=opening) == opening
    assert plan_deadline(SEED_2010, referral) is None


# --- guidance's plan flag uses the same rule ------------------------------------------------


def test_guidance_flags_the_plan_due_from_the_referral_under_act_1369_2014() -> None:
    state = active(date(2016, 1, 15))
    due = plan.deadlines(state, date(2016, 3, 2), referral_date=date(2015, 12, 1))
    assert (due.plan_due, due.plan_overdue) == (date(2016, 3, 1), True)
    assert plan.deadlines(active(date(2025, 3, 31)), date(2025, 6, 30), referral_date=date(2025, 2, 3)) == (
        plan.Deadlines(date(2025, 6, 30), False, None, False)
    )


def test_guidance_counts_a_case_opened_again_from_its_opening() -> None:
    first = proposed(active(date(2016, 1, 15)))  # from 2015 a proposal, decided by another
    closed = then(
        first, closure.close(first, closing(), personal_identity_code="010190-123M", ctx=ctx(COORDINATOR))
    )
    again = then(
        closed, opening.open_case(closed, assessment(on=date(2016, 9, 1)), ctx=ctx(now=date(2016, 9, 1)))
    )
    assert again.reopened and not first.reopened
    due = plan.deadlines(again, date(2016, 9, 2), referral_date=date(2015, 12, 1))
    assert (due.plan_due, due.plan_overdue) == (date(2016, 12, 1), False)
