"""Effective-dated rules: pure functions of a date and inputs, no servers."""

from __future__ import annotations

import dataclasses
import random
from datetime import date, timedelta
from decimal import Decimal

import pytest

from services.rules import (
    ACT_381_2023,
    ACT_1369_2014,
    ACT_1369_2014_FROM_MAY_2022,
    RULE_SETS,
    SEED_2010,
    ActivationPlanTerms,
    NeedBasedReason,
    NoRulesInForce,
    RuleSet,
    ShareTier,
    TriggerBasis,
    add_months,
    assessment_deadline,
    assessment_triggers,
    closure_requires_joint_decision,
    coverage_problems,
    municipal_cost,
    municipal_share,
    next_plan_review,
    plan_deadline,
    plan_review_due,
    rules_in_force,
    validate_activation_plan,
)
from services.rules.model import MunicipalShareScheme

D = date


# --- which rule set is in force ---------------------------------------------------------------


def test_the_seed_rules_apply_from_1_january_2010() -> None:
    assert rules_in_force(D(2010, 1, 1)) is SEED_2010
    assert rules_in_force(D(2012, 6, 15)) is SEED_2010


def test_there_are_no_rules_before_2010_and_the_error_says_where_they_start() -> None:
    with pytest.raises(NoRulesInForce, match=r"2009-12-31.*2010-01-01"):
        rules_in_force(D(2009, 12, 31))


def test_the_2015_act_applies_from_1_january_2015() -> None:
    assert rules_in_force(D(2014, 12, 31)) is SEED_2010
    assert rules_in_force(D(2015, 1, 1)) is ACT_1369_2014
    assert rules_in_force(D(2015, 1, 1)).statute == "Act 1369/2014"


def test_the_three_month_review_rule_applies_from_2_may_2022() -> None:
    assert rules_in_force(D(2022, 5, 1)) is ACT_1369_2014
    assert rules_in_force(D(2022, 5, 2)) is ACT_1369_2014_FROM_MAY_2022
    assert rules_in_force(D(2022, 5, 1)).plan_review_every_months == 6
    assert rules_in_force(D(2022, 5, 2)).plan_review_every_months == 3


def test_the_2025_act_applies_from_1_january_2025_and_stays_in_force() -> None:
    assert rules_in_force(D(2024, 12, 31)) is ACT_1369_2014_FROM_MAY_2022
    assert rules_in_force(D(2025, 1, 1)) is ACT_381_2023
    assert rules_in_force(D(2040, 7, 1)) is ACT_381_2023
    assert rules_in_force(D(2025, 1, 1)).statute == "Act 381/2023"


def test_the_rule_sets_cover_every_day_from_2010_once_with_no_gap_or_overlap() -> None:
    assert coverage_problems() == []
    day, last = D(2010, 1, 1), D(2031, 12, 31)
    while day <= last:
        matching = [rule_set.name for rule_set in RULE_SETS if rule_set.in_force_on(day)]
        assert len(matching) == 1, (day, matching)
        day += timedelta(days=1)
    assert RULE_SETS[-1].effective_until is None


def test_the_coverage_check_finds_a_gap_an_overlap_and_a_closed_end() -> None:
    gap = (SEED_2010, dataclasses.replace(ACT_1369_2014, effective_from=D(2015, 1, 2)))
    overlap = (SEED_2010, dataclasses.replace(ACT_1369_2014, effective_from=D(2014, 12, 31)))
    assert coverage_problems(gap)[0] == "gap: no rules from 2015-01-01 to 2015-01-01"
    assert coverage_problems(overlap)[0].startswith("overlap:")
    assert coverage_problems((SEED_2010,)) == [
        "no rules after 2014-12-31: the last rule set must be open-ended"
    ]


def test_a_rule_set_cannot_end_before_it_starts_and_share_tiers_must_be_contiguous() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        dataclasses.replace(SEED_2010, effective_until=D(2009, 1, 1))
    with pytest.raises(ValueError, match="contiguous"):
        MunicipalShareScheme(
            tiers=(ShareTier(1, 100, Decimal(0)), ShareTier(102, None, Decimal("0.5"))),
            activation_exempts=False,
        )
    with pytest.raises(ValueError, match="open-ended"):
        MunicipalShareScheme(tiers=(ShareTier(1, 100, Decimal(0)),), activation_exempts=False)
    with pytest.raises(ValueError, match="only the last"):
        MunicipalShareScheme(
            tiers=(ShareTier(1, None, Decimal(0)), ShareTier(101, None, Decimal("0.5"))),
            activation_exempts=False,
        )


def test_a_day_in_a_gap_between_rule_sets_has_no_rules_in_force() -> None:
    with_gap = (SEED_2010, dataclasses.replace(ACT_1369_2014, effective_from=D(2015, 2, 1)))
    assert rules_in_force(D(2014, 12, 31), with_gap) is SEED_2010
    with pytest.raises(NoRulesInForce, match="2015-01-15"):
        rules_in_force(D(2015, 1, 15), with_gap)
    assert rules_in_force(D(2015, 2, 1), with_gap).effective_from == D(2015, 2, 1)


# --- assessment triggers ------------------------------------------------------------------------


def triggers_2015(
    *, subsidy_days: int | None, unemployment_months: int | None, age: int | None
) -> tuple[bool, tuple[str, ...], tuple[str, ...]]:
    finding = assessment_triggers(
        ACT_1369_2014, subsidy_days=subsidy_days, unemployment_months=unemployment_months, age=age
    )
    return finding.indicated, finding.reasons, finding.unknown


def test_300_subsidy_days_indicate_an_assessment_only_on_days_the_2015_act_is_in_force() -> None:
    def indicated_on(day: date) -> bool:
        rules = rules_in_force(day)
        return assessment_triggers(rules, subsidy_days=300, unemployment_months=0, age=40).indicated

    assert [indicated_on(D(2014, 12, 31)), indicated_on(D(2015, 1, 1))] == [False, True]
    assert [indicated_on(D(2024, 12, 31)), indicated_on(D(2025, 1, 1))] == [True, False]


def test_300_days_of_labour_market_subsidy_trigger_an_assessment_and_299_do_not() -> None:
    assert triggers_2015(subsidy_days=299, unemployment_months=0, age=40) == (False, (), ())
    assert triggers_2015(subsidy_days=300, unemployment_months=0, age=40) == (
        True,
        ("300 days of labour-market subsidy",),
        (),
    )


def test_12_months_of_unemployment_at_25_trigger_an_assessment_and_11_do_not() -> None:
    assert triggers_2015(subsidy_days=0, unemployment_months=11, age=25) == (False, (), ())
    assert triggers_2015(subsidy_days=0, unemployment_months=12, age=25) == (
        True,
        ("12 months unemployed at 25 or over",),
        (),
    )


def test_6_months_of_unemployment_under_25_trigger_an_assessment_and_5_do_not() -> None:
    assert triggers_2015(subsidy_days=0, unemployment_months=5, age=24) == (False, (), ())
    assert triggers_2015(subsidy_days=0, unemployment_months=6, age=24) == (
        True,
        ("6 months unemployed under 25",),
        (),
    )


def test_at_exactly_25_six_months_of_unemployment_are_not_enough() -> None:
    assert triggers_2015(subsidy_days=0, unemployment_months=6, age=25) == (False, (), ())
    assert triggers_2015(subsidy_days=0, unemployment_months=11, age=25)[0] is False


def test_every_trigger_met_is_listed_as_a_reason() -> None:
    finding = assessment_triggers(ACT_1369_2014, subsidy_days=450, unemployment_months=30, age=50)
    assert finding.reasons == ("300 days of labour-market subsidy", "12 months unemployed at 25 or over")
    assert finding.rule_set == ACT_1369_2014.name
    assert finding.basis is TriggerBasis.DAY_AND_MONTH_TRIGGERS
    assert finding.counts_towards_over_500_days is None


def test_unknown_inputs_never_count_as_met_and_the_finding_says_what_was_unknown() -> None:
    finding = assessment_triggers(ACT_1369_2014, subsidy_days=None, unemployment_months=40, age=None)
    assert (finding.indicated, finding.reasons) == (False, ())
    assert finding.unknown == ("subsidy_days", "age")
    assert finding.conclusive is False
    settled = assessment_triggers(ACT_1369_2014, subsidy_days=310, unemployment_months=None, age=None)
    assert (settled.indicated, settled.unknown, settled.conclusive) == (
        True,
        ("unemployment_months", "age"),
        True,
    )


def test_the_2022_amendment_keeps_the_2015_triggers() -> None:
    rules = ACT_1369_2014_FROM_MAY_2022
    finding = assessment_triggers(rules, subsidy_days=300, unemployment_months=6, age=24)
    assert finding.reasons == ("300 days of labour-market subsidy", "6 months unemployed under 25")


def test_the_2025_need_based_rule_ignores_day_and_month_counts() -> None:
    long_unemployed = assessment_triggers(ACT_381_2023, subsidy_days=2000, unemployment_months=60, age=40)
    assert (long_unemployed.indicated, long_unemployed.reasons) == (False, ())
    assert long_unemployed.unknown == ("need_based_reason",)
    assert long_unemployed.basis is TriggerBasis.NEED_BASED
    reason = NeedBasedReason.LIFE_MANAGEMENT_PROBLEMS
    by_need = assessment_triggers(
        ACT_381_2023, subsidy_days=0, unemployment_months=0, age=30, need_based_reason=reason
    )
    assert by_need.indicated is True
    assert by_need.reasons == ("need-based: life-management problems that advice alone cannot solve",)
    assert by_need.unknown == ()


def test_a_blank_need_based_reason_counts_as_not_given() -> None:
    finding = assessment_triggers(ACT_381_2023, need_based_reason="   ")
    assert (finding.indicated, finding.unknown) == (False, ("need_based_reason",))


def test_the_2015_act_ignores_a_need_based_reason() -> None:
    finding = assessment_triggers(
        ACT_1369_2014, subsidy_days=10, unemployment_months=1, age=30, need_based_reason="anything"
    )
    assert (finding.indicated, finding.reasons) == (False, ())


def test_the_seed_rules_flag_clients_over_500_days_towards_the_national_criterion() -> None:
    at_500 = assessment_triggers(SEED_2010, subsidy_days=500, unemployment_months=40, age=40)
    at_501 = assessment_triggers(SEED_2010, subsidy_days=501)
    unknown = assessment_triggers(SEED_2010, subsidy_days=None)
    assert (at_500.counts_towards_over_500_days, at_501.counts_towards_over_500_days) == (False, True)
    assert (unknown.counts_towards_over_500_days, unknown.unknown) == (None, ("subsidy_days",))
    # No day triggers in 2010: a per-client assessment is never indicated by statute.
    assert (at_501.indicated, at_501.reasons, at_501.basis) == (False, (), TriggerBasis.NATIONAL_CRITERION)


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="subsidy_days"):
        assessment_triggers(ACT_1369_2014, subsidy_days=-1)


# --- deadlines ----------------------------------------------------------------------------------


def test_adding_months_clamps_to_the_end_of_a_shorter_month() -> None:
    assert add_months(D(2015, 11, 30), 3) == D(2016, 2, 29)
    assert add_months(D(2014, 11, 30), 3) == D(2015, 2, 28)
    assert add_months(D(2015, 1, 31), 1) == D(2015, 2, 28)
    assert add_months(D(2015, 10, 31), 3) == D(2016, 1, 31)
    assert add_months(D(2022, 3, 15), -3) == D(2021, 12, 15)
    assert add_months(D(2024, 12, 31), 12) == D(2025, 12, 31)


def test_the_joint_assessment_is_due_3_months_after_the_start_under_the_2015_act() -> None:
    assert assessment_deadline(ACT_1369_2014, D(2015, 11, 30)) == D(2016, 2, 29)
    assert assessment_deadline(ACT_1369_2014_FROM_MAY_2022, D(2023, 5, 10)) == D(2023, 8, 10)


def test_there_is_no_assessment_deadline_under_the_seed_rules_or_the_2025_act() -> None:
    assert assessment_deadline(SEED_2010, D(2012, 1, 1)) is None
    assert assessment_deadline(ACT_381_2023, D(2025, 3, 1)) is None
    assert ACT_381_2023.relationship_starts_at_assessment is True


def test_the_plan_is_due_within_3_months_from_2015_and_has_no_deadline_before() -> None:
    assert plan_deadline(SEED_2010, D(2014, 11, 30)) is None
    assert plan_deadline(ACT_1369_2014, D(2015, 11, 30)) == D(2016, 2, 29)
    assert plan_deadline(ACT_381_2023, D(2025, 8, 31)) == D(2025, 11, 30)


def test_the_plan_review_interval_is_6_months_then_3_months_from_2_may_2022() -> None:
    assert plan_review_due(SEED_2010, D(2013, 1, 1)) is None
    assert plan_review_due(ACT_1369_2014, D(2021, 8, 31)) == D(2022, 2, 28)
    assert plan_review_due(ACT_1369_2014_FROM_MAY_2022, D(2022, 11, 30)) == D(2023, 2, 28)
    assert plan_review_due(ACT_381_2023, D(2025, 1, 31)) == D(2025, 4, 30)


def test_the_next_review_uses_the_interval_in_force_on_the_last_review() -> None:
    assert next_plan_review(D(2022, 5, 1)) == D(2022, 11, 1)
    assert next_plan_review(D(2022, 5, 2)) == D(2022, 8, 2)
    assert next_plan_review(D(2014, 12, 31)) is None
    assert next_plan_review(D(2025, 1, 1)) == D(2025, 4, 1)


def test_closure_needs_the_joint_decision_from_2015_but_not_under_the_seed_rules() -> None:
    years = (2014, 2015, 2023, 2025)
    joint = [closure_requires_joint_decision(rules_in_force(D(year, 6, 1))) for year in years]
    assert joint == [False, True, True, True]


# --- municipal share of labour-market subsidy -------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "paid_day", "activated", "share"),
    [
        (SEED_2010, 1, False, "0"),
        (SEED_2010, 500, False, "0"),
        (SEED_2010, 501, False, "0.5"),
        (SEED_2010, 501, True, "0"),
        (SEED_2010, 500, True, "0"),
        (SEED_2010, 5000, True, "0"),
        (ACT_1369_2014, 300, False, "0"),
        (ACT_1369_2014, 301, False, "0.5"),
        (ACT_1369_2014, 1000, False, "0.5"),
        (ACT_1369_2014, 1001, False, "0.7"),
        (ACT_1369_2014_FROM_MAY_2022, 301, False, "0.5"),
        (ACT_1369_2014_FROM_MAY_2022, 1001, False, "0.7"),
        (ACT_381_2023, 1, False, "0"),
        (ACT_381_2023, 100, False, "0"),
        (ACT_381_2023, 101, False, "0.1"),
        (ACT_381_2023, 200, False, "0.1"),
        (ACT_381_2023, 201, False, "0.2"),
        (ACT_381_2023, 300, False, "0.2"),
        (ACT_381_2023, 301, False, "0.3"),
        (ACT_381_2023, 400, False, "0.3"),
        (ACT_381_2023, 401, False, "0.4"),
        (ACT_381_2023, 700, False, "0.4"),
        (ACT_381_2023, 701, False, "0.5"),
        (ACT_381_2023, 9999, False, "0.5"),
    ],
)
def test_the_municipal_share_changes_exactly_at_each_tier_boundary(
    rules: RuleSet, paid_day: int, activated: bool, share: str
) -> None:
    assert municipal_share(rules, paid_day, activated=activated) == Decimal(share)


@pytest.mark.parametrize("rules", [ACT_1369_2014, ACT_1369_2014_FROM_MAY_2022, ACT_381_2023])
def test_activation_does_not_exempt_the_municipal_share_after_2015_because_no_rule_says_so(
    rules: RuleSet,
) -> None:
    for day in (301, 1001, 701):
        assert municipal_share(rules, day, activated=True) == municipal_share(rules, day, activated=False)
    assert municipal_share(rules, 1001, activated=True) > 0


def test_paid_days_are_counted_from_1() -> None:
    with pytest.raises(ValueError, match="from 1"):
        municipal_share(ACT_381_2023, 0, activated=False)
    with pytest.raises(ValueError, match="from 1"):
        municipal_cost(ACT_381_2023, 0, 10, Decimal(1), activated=False)
    with pytest.raises(ValueError, match="negative"):
        municipal_cost(ACT_381_2023, 1, -1, Decimal(1), activated=False)


def test_the_municipal_cost_over_a_range_is_the_sum_of_the_daily_shares() -> None:
    rng = random.Random(20150101)
    for _ in range(300):
        rules = rng.choice(RULE_SETS)
        first_day = rng.randint(1, 1300)
        days = rng.randint(0, 900)
        amount = Decimal(rng.randint(0, 10_000)) / 100
        activated = rng.random() < 0.3
        brute_force = sum(
            (
                municipal_share(rules, day, activated=activated) * amount
                for day in range(first_day, first_day + days)
            ),
            Decimal(0),
        )
        assert municipal_cost(rules, first_day, days, amount, activated=activated) == brute_force


def test_known_municipal_costs_across_tier_boundaries() -> None:
    # days 95..105 at 40.00: 6 days at 0 % and 5 days at 10 %
    assert municipal_cost(ACT_381_2023, 95, 11, Decimal("40.00"), activated=False) == Decimal("20.00")
    # 2015: days 999..1002 at 10: 2 x 5 + 2 x 7
    assert municipal_cost(ACT_1369_2014, 999, 4, Decimal(10), activated=False) == Decimal(24)
    assert municipal_cost(SEED_2010, 400, 400, Decimal(10), activated=True) == Decimal(0)
    # 2010: days 400..799 at 10: 299 days (501..799) at 50 %
    assert municipal_cost(SEED_2010, 400, 400, Decimal(10), activated=False) == Decimal("1495")
    assert municipal_cost(SEED_2010, 1, 500, Decimal(10), activated=False) == Decimal(0)


# --- activation plan limits ---------------------------------------------------------------------


def plan(months: int = 6, days: int = 3, hours: Decimal | float = Decimal(6), **dates: date) -> list[str]:
    return validate_activation_plan(
        ACT_381_2023, ActivationPlanTerms(months=months, days_per_week=days, hours_per_day=hours, **dates)
    )


def test_activation_periods_of_3_and_24_months_are_valid_and_2_and_25_are_not() -> None:
    assert plan(months=3) == []
    assert plan(months=24) == []
    assert plan(months=2) == ["period of 2 months is shorter than the minimum of 3"]
    assert plan(months=25) == ["period of 25 months exceeds the limit of 24"]


def test_four_days_of_eight_hours_is_the_most_a_week_allows() -> None:
    assert plan(days=4, hours=Decimal(8)) == []
    assert plan(days=4, hours=8) == []


def test_eight_and_a_half_hours_on_four_days_breaks_the_daily_and_the_weekly_limit() -> None:
    expected = ["hours per day 8.5 exceeds the limit of 8", "hours per week 34 exceeds the limit of 32"]
    assert plan(days=4, hours=Decimal("8.5")) == expected
    assert plan(days=4, hours=8.5) == expected


def test_float_hours_are_read_as_their_decimal_text() -> None:
    assert plan(days=4, hours=8.1) == [
        "hours per day 8.1 exceeds the limit of 8",
        "hours per week 32.4 exceeds the limit of 32",
    ]
    assert plan(days=4, hours=7.9) == []


def test_days_and_daily_hours_have_lower_and_upper_limits() -> None:
    assert plan(days=1, hours=4) == []
    assert plan(days=0, hours=4) == ["days per week 0 is below the minimum of 1"]
    assert plan(days=5, hours=6) == ["days per week 5 exceeds the limit of 4"]
    assert plan(days=2, hours=Decimal("3.5")) == ["hours per day 3.5 is below the minimum of 4"]
    assert plan(days=5, hours=8) == [
        "days per week 5 exceeds the limit of 4",
        "hours per week 40 exceeds the limit of 32",
    ]


def test_the_review_date_must_fall_within_24_months_of_the_start() -> None:
    start = D(2025, 8, 31)
    assert plan(start=start, review_on=D(2027, 8, 31)) == []
    assert plan(start=start, review_on=D(2027, 9, 1)) == [
        "review date 2027-09-01 is later than 24 months after the start (2027-08-31)"
    ]
    assert plan(start=start, review_on=D(2025, 8, 30)) == [
        "review date 2025-08-30 is before the start 2025-08-31"
    ]


def test_every_rule_set_carries_the_activation_limits_of_act_189_2001() -> None:
    assert {rules.activation_limits.statute for rules in RULE_SETS} == {"Act 189/2001"}
    assert validate_activation_plan(SEED_2010, ActivationPlanTerms(25, 4, 9)) == [
        "period of 25 months exceeds the limit of 24",
        "hours per day 9 exceeds the limit of 8",
        "hours per week 36 exceeds the limit of 32",
    ]
