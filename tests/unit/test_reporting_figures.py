"""Reporting's arithmetic, without servers: shares, targets, medians, deadlines, cost."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.reporting.config import POPULATIONS, ReportingConfig
from services.reporting.facts import CaseFacts, MeasureFact, TransferFact
from services.reporting.figures import (
    activation_periods,
    apportion,
    deadline_counts,
    municipal_costs,
    share,
    shares,
    spread,
    subsidy_cost_by_year,
    weekdays,
)
from services.reporting.partitions import deadline_bucket
from services.rules import ACT_1369_2014, SEED_2010, municipal_cost


def test_shares_are_fractions_of_the_total_and_nothing_divides_by_zero() -> None:
    assert shares({"a": 13, "b": 87}) == {"a": 0.13, "b": 0.87}
    assert shares({"a": 0, "b": 0}) == {"a": 0.0, "b": 0.0}
    assert share(1, 3) == 0.3333
    assert share(5, 0) is None


def test_the_yearly_target_is_apportioned_by_population_into_whole_clients() -> None:
    targets = apportion(350, POPULATIONS)
    assert sum(targets.values()) == 350
    assert targets["Mikkeli"] == 233, "48,000 of 72,100 inhabitants"
    assert targets["Pertunmaa"] == 9
    assert sum(apportion(200, POPULATIONS).values()) == 200
    with pytest.raises(ValueError):
        apportion(10, {"a": 0})


def test_median_and_mean_come_from_a_histogram_of_days() -> None:
    assert spread({10: 1, 20: 1, 30: 1}).median_days == 20.0
    even = spread({10: 2, 21: 2})
    assert (even.clients, even.median_days, even.mean_days) == (4, 15.5, 15.5)
    skewed = spread({1: 3, 100: 1})
    assert (skewed.median_days, skewed.mean_days) == (1.0, 25.8)
    assert spread({}).median_days is None


def test_deadlines_are_counted_as_they_stood_on_the_day_asked_about() -> None:
    buckets = {
        deadline_bucket(date(2015, 4, 1), date(2015, 3, 1)): 2,  # met in time
        deadline_bucket(date(2015, 4, 1), date(2015, 5, 1)): 1,  # met late
        deadline_bucket(date(2015, 4, 1), None): 3,  # never met
        deadline_bucket(date(2015, 9, 1), None): 4,  # not yet due on 2015-06-01
    }
    on = deadline_counts(buckets, date(2015, 6, 1))
    assert (on.met_on_time, on.met_late, on.overdue, on.pending) == (2, 1, 3, 4)
    earlier = deadline_counts(buckets, date(2015, 4, 15))
    assert (earlier.met_late, earlier.overdue) == (0, 4), "the late one was still open then"


def test_weekdays_count_mondays_to_fridays_inclusive() -> None:
    assert weekdays(date(2010, 3, 1), date(2010, 3, 7)) == 5  # Monday to Sunday
    assert weekdays(date(2010, 3, 6), date(2010, 3, 7)) == 0
    assert weekdays(date(2010, 3, 1), date(2010, 3, 28)) == 20
    assert weekdays(date(2010, 3, 2), date(2010, 3, 1)) == 0


def test_the_municipality_pays_half_after_500_days_under_the_seed_rules() -> None:
    cost = subsidy_cost_by_year(
        referral_date=date(2010, 3, 1),  # a Monday
        subsidy_days=495,
        until=date(2010, 3, 12),
        activated=[],
        daily_amount=Decimal("20"),
    )
    # 9 weekdays from 2 March to 12 March: paid days 496..504, of which 501..504 at half
    assert cost == {2010: type(cost[2010])(9, Decimal("40.0"))}
    assert cost[2010].municipal_cost == municipal_cost(SEED_2010, 496, 9, Decimal(20), activated=False)


def test_activated_days_cost_the_municipality_nothing_under_the_seed_rules() -> None:
    cost = subsidy_cost_by_year(
        referral_date=date(2010, 3, 1),
        subsidy_days=600,
        until=date(2010, 3, 12),
        activated=[(date(2010, 3, 8), date(2010, 3, 31))],
        daily_amount=Decimal("20"),
    )
    assert cost[2010].paid_days == 9
    assert cost[2010].municipal_cost == Decimal("40.0"), "only 2-5 March, 4 days at half"


def test_each_paid_day_uses_the_rules_in_force_on_that_day() -> None:
    cost = subsidy_cost_by_year(
        referral_date=date(2014, 12, 28),
        subsidy_days=350,
        until=date(2015, 1, 9),
        activated=[(date(2014, 12, 1), date(2015, 12, 31))],
        daily_amount=Decimal("10"),
    )
    # 29-31 Dec 2014 (seed rules, activated: exempt), 1-9 Jan 2015 (Act 1369/2014: no exemption,
    # paid days 354..360 at half after 300)
    assert cost[2014].municipal_cost == Decimal(0)
    assert cost[2015].paid_days == 7
    assert cost[2015].municipal_cost == municipal_cost(ACT_1369_2014, 354, 7, Decimal(10), activated=True)
    assert cost[2015].municipal_cost == Decimal("35.0")


def test_municipal_costs_sum_residents_by_municipality_up_to_the_day_asked() -> None:
    def case(client: str, municipality: str, closed_on: date | None) -> CaseFacts:
        return CaseFacts(
            client_id=client,
            municipality=municipality,
            referral_date=date(2010, 3, 1),
            subsidy_days=600,
            closed_on=closed_on,
        )

    rows = municipal_costs(
        [case("a", "Mikkeli", date(2010, 3, 12)), case("b", "Mikkeli", None), case("c", "Puumala", None)],
        year=2010,
        as_of=date(2010, 3, 12),
        daily_amount=Decimal("20"),
    )
    assert [(r.municipality, r.clients, r.paid_days, r.municipal_cost) for r in rows] == [
        ("Mikkeli", 2, 18, Decimal("180.00")),
        ("Puumala", 1, 9, Decimal("90.00")),
    ]
    assert (
        municipal_costs(
            [case("d", "Mikkeli", None)], year=2011, as_of=date(2010, 6, 1), daily_amount=Decimal(1)
        )
        == []
    )


def test_activation_comes_from_measures_and_accepted_rehabilitative_work_activity() -> None:
    facts = CaseFacts(
        client_id="c",
        municipality="Mikkeli",
        measures=(
            MeasureFact(
                measure_id="m1",
                kind="job_coach",
                provider="p",
                start=date(2010, 4, 1),
                end=None,
                status="ongoing",
            ),
            MeasureFact(
                measure_id="m2",
                kind="training",
                provider="p",
                start=date(2010, 5, 1),
                end=None,
                status="cancelled",
            ),
        ),
        transfers=(
            TransferFact(
                transfer_id="t1",
                receiving_municipality="Mikkeli",
                transferred_on=date(2010, 6, 1),
                plan_start=date(2010, 6, 1),
                plan_months=6,
                days_per_week=3,
                hours_per_day=Decimal(5),
                place="x",
                relationship_stays_open=True,
                returned_on=date(2010, 9, 1),
            ),
            TransferFact(
                transfer_id="t2",
                receiving_municipality="Mikkeli",
                transferred_on=date(2010, 10, 1),
                plan_start=date(2010, 10, 1),
                plan_months=6,
                days_per_week=3,
                hours_per_day=Decimal(5),
                place="x",
                relationship_stays_open=True,
                accepted=False,
            ),
        ),
    )
    assert activation_periods(facts, date(2010, 12, 31)) == [
        (date(2010, 4, 1), date(2010, 12, 31)),
        (date(2010, 6, 1), date(2010, 8, 31)),
    ]


def test_reporting_configuration_comes_from_the_environment_with_clear_errors() -> None:
    from services.settings import ReittiConfig

    read = ReittiConfig.from_env({"REITTI_CASELOAD_LIMIT": "40", "REITTI_SUBSIDY_DAILY_AMOUNT": "31.36"})
    config = ReportingConfig.from_config(read)
    assert (config.caseload_limit, config.subsidy_daily_amount) == (40, Decimal("31.36"))
    assert config.municipality("mäntyharju") == config.municipality("MANTYHARJU") == "Mäntyharju"
    assert config.municipality("Helsinki") is None
    from runtime.config import ConfigError

    with pytest.raises(ConfigError, match="REITTI_CASELOAD_LIMIT"):
        ReittiConfig.from_env({"REITTI_CASELOAD_LIMIT": "many"})
    with pytest.raises(ConfigError, match="cannot be negative"):
        ReittiConfig.from_env({"REITTI_SUBSIDY_DAILY_AMOUNT": "-1"})
