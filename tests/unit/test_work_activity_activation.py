"""Rehabilitative work activity (*kuntouttava työtoiminta*) is activation under every rule
set, also when the route opened the case already handed to social services (issue 14)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from contracts.intake import Route
from services.reporting.facts import CaseFacts, evolve
from services.reporting.figures import activation_periods, municipal_costs, weekdays
from services.rules import RULE_SETS, RuleSet, WorkActivityPeriod, activated_periods
from tests.support.reporting_events import Story, client_event

DAILY = Decimal(30)  # a round daily amount, so the 2011 differences come out in whole weekdays


def fold(story: Story) -> CaseFacts:
    facts = CaseFacts.new(client_event(story.events[0]))
    for event in story.events:
        facts = evolve(facts, event)
    return facts


def routed_to_work_activity(municipality: str, referred: date, opened: date, closed: date) -> CaseFacts:
    story = Story(municipality)
    story.referred(referred, subsidy_days=520)  # past 500: the seed's half share applies
    story.consent(referred)
    story.assessed(opened, Route.REHABILITATIVE_WORK_ACTIVITY)
    story.opened(opened, Route.REHABILITATIVE_WORK_ACTIVITY)
    facts = fold(story)
    return facts.model_copy(update={"closed_on": closed, "relationship_closed": True})


def cost_2011(cases: list[CaseFacts]) -> dict[str, Decimal]:
    rows = municipal_costs(cases, year=2011, as_of=date(2011, 12, 31), daily_amount=DAILY)
    return {r.municipality: r.municipal_cost for r in rows}


def test_a_route_opened_hand_over_is_activation_in_the_2011_municipal_cost() -> None:
    hirvensalmi = routed_to_work_activity("Hirvensalmi", date(2011, 1, 3), date(2011, 5, 2), date(2011, 9, 3))
    mantyharju = routed_to_work_activity(
        "Mäntyharju", date(2010, 12, 20), date(2011, 1, 3), date(2011, 11, 8)
    )
    assert weekdays(date(2011, 5, 2), date(2011, 9, 3)) == 90
    assert weekdays(date(2011, 1, 3), date(2011, 11, 8)) == 222
    counted = cost_2011([hirvensalmi, mantyharju])
    # the model the issue found: a route-opened hand-over never activated
    unactivated = cost_2011([c.model_copy(update={"transfers": ()}) for c in (hirvensalmi, mantyharju)])
    assert unactivated["Hirvensalmi"] - counted["Hirvensalmi"] == Decimal("1350.00")
    assert unactivated["Mäntyharju"] - counted["Mäntyharju"] == Decimal("3330.00")
    assert counted["Mäntyharju"] == Decimal("0.00"), "activated on every paid day of 2011"


def test_a_declined_route_opened_hand_over_is_not_activation() -> None:
    facts = routed_to_work_activity("Hirvensalmi", date(2011, 1, 3), date(2011, 5, 2), date(2011, 9, 3))
    declined = facts.model_copy(
        update={"transfers": tuple(t.model_copy(update={"accepted": False}) for t in facts.transfers)}
    )
    assert activation_periods(facts, date(2011, 12, 31)) == [(date(2011, 5, 2), date(2011, 9, 3))]
    assert activation_periods(declined, date(2011, 12, 31)) == []


def test_work_activity_runs_over_its_plan_and_ends_at_the_return() -> None:
    planned = WorkActivityPeriod(transferred_on=date(2016, 3, 1), plan_start=date(2016, 3, 7), plan_months=3)
    assert activated_periods([], [planned], until=date(2016, 12, 31)) == [
        (date(2016, 3, 7), date(2016, 6, 6))
    ]
    back = WorkActivityPeriod(transferred_on=date(2016, 3, 1), returned_on=date(2016, 4, 1))
    assert activated_periods([], [back], until=date(2016, 12, 31)) == [(date(2016, 3, 1), date(2016, 3, 31))]
    pending = WorkActivityPeriod(transferred_on=date(2016, 3, 1))
    assert activated_periods([], [pending], until=date(2016, 3, 10)) == [
        (date(2016, 3, 1), date(2016, 3, 10))
    ]


@pytest.mark.parametrize("rules", RULE_SETS, ids=lambda r: r.statute)
def test_work_activity_is_activation_under_every_rule_set(rules: RuleSet) -> None:
    """Which days are activated does not depend on the law; what activation spares the
    municipality does (only the seed's rules exempt an activated day)."""
    opened = rules.effective_from + timedelta(days=30)
    until = opened + timedelta(days=60)
    facts = routed_to_work_activity("Mikkeli", rules.effective_from, opened, until)
    assert activation_periods(facts, until) == [(opened, until)]
    rows = municipal_costs([facts], year=opened.year, as_of=until, daily_amount=DAILY)
    unactivated = municipal_costs(
        [facts.model_copy(update={"transfers": ()})], year=opened.year, as_of=until, daily_amount=DAILY
    )
    if rules.municipal_share.activation_exempts:
        assert rows[0].municipal_cost < unactivated[0].municipal_cost
    else:
        assert rows[0].municipal_cost == unactivated[0].municipal_cost
