"""Limits of an activation plan for rehabilitative work activity (*kuntouttava työtoiminta*)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from services.rules.dates import add_months
from services.rules.model import RuleSet


@dataclass(frozen=True)
class ActivationPlanTerms:
    """The time terms of an activation plan (*aktivointisuunnitelma*) to check against the limits.

    ``hours_per_day`` may be a Decimal, int or float (a float is read through its decimal text,
    so 8.5 is exactly 8.5). Weekly hours are ``days_per_week * hours_per_day``. ``start`` and
    ``review_on`` (the date to evaluate and renew the plan) are optional; when both are given,
    the review date is checked too.
    """

    months: int
    days_per_week: int
    hours_per_day: Decimal | int | float
    start: date | None = None
    review_on: date | None = None

    @property
    def daily_hours(self) -> Decimal:
        value = self.hours_per_day
        return value if isinstance(value, Decimal) else Decimal(str(value))

    @property
    def weekly_hours(self) -> Decimal:
        return self.daily_hours * self.days_per_week


def _text(value: Decimal) -> str:
    """8.50 -> '8.5', 32.0 -> '32' (without exponent notation)."""
    return format(value.normalize(), "f")


def validate_activation_plan(rules: RuleSet, terms: ActivationPlanTerms) -> list[str]:
    """The ways ``terms`` break the rule set's activation plan limits, in words; empty if none.

    Limits are inclusive: with today's limits (Act 189/2001) 3 and 24 months are valid, 4 days
    of 8 hours (32 hours a week) is valid.
    """
    limits = rules.activation_limits
    problems: list[str] = []

    if terms.months < limits.min_months:
        problems.append(f"period of {terms.months} months is shorter than the minimum of {limits.min_months}")
    elif terms.months > limits.max_months:
        problems.append(f"period of {terms.months} months exceeds the limit of {limits.max_months}")

    if terms.days_per_week < limits.min_days_per_week:
        problems.append(
            f"days per week {terms.days_per_week} is below the minimum of {limits.min_days_per_week}"
        )
    elif terms.days_per_week > limits.max_days_per_week:
        problems.append(
            f"days per week {terms.days_per_week} exceeds the limit of {limits.max_days_per_week}"
        )

    daily = terms.daily_hours
    if not daily.is_finite():
        problems.append(f"hours per day {daily} is not a number")
        return problems
    if daily < limits.min_hours_per_day:
        problems.append(
            f"hours per day {_text(daily)} is below the minimum of {_text(limits.min_hours_per_day)}"
        )
    elif daily > limits.max_hours_per_day:
        problems.append(
            f"hours per day {_text(daily)} exceeds the limit of {_text(limits.max_hours_per_day)}"
        )

    weekly = terms.weekly_hours
    if weekly > limits.max_hours_per_week:
        problems.append(
            f"hours per week {_text(weekly)} exceeds the limit of {_text(limits.max_hours_per_week)}"
        )

    if terms.start is not None and terms.review_on is not None:
        latest = add_months(terms.start, limits.review_within_months)
        if terms.review_on < terms.start:
            problems.append(
                f"review date {terms.review_on.isoformat()} is before the start {terms.start.isoformat()}"
            )
        elif terms.review_on > latest:
            problems.append(
                f"review date {terms.review_on.isoformat()} is later than {limits.review_within_months} "
                f"months after the start ({latest.isoformat()})"
            )
    return problems


@dataclass(frozen=True)
class WorkActivityPeriod:
    """A hand-over to the municipality's rehabilitative work activity, as activation reads
    it: made by a transfer, or by the route at the case's opening (which has no activation
    plan until the receiving side records one)."""

    transferred_on: date
    declined: bool = False
    returned_on: date | None = None
    plan_start: date | None = None
    plan_months: int | None = None


def activated_periods(
    measures: Iterable[tuple[date, date | None]],
    work_activity: Iterable[WorkActivityPeriod],
    *,
    until: date,
) -> list[tuple[date, date]]:
    """The days a client was activated, as inclusive ``(first, last)`` periods up to ``until``.

    The same under every rule set; whether activation changes what a municipality pays is
    the rule set's (:func:`services.rules.municipal_share`). Activated are the plan measures
    (open-ended ones until ``until``) and every period of rehabilitative work activity
    (*kuntouttava työtoiminta*) the receiving side has not declined, up to the return: over
    its activation plan's months from the plan's start, or, for a hand-over the route opened
    with no plan recorded, from the hand-over on.
    """
    day = timedelta(days=1)
    periods = [(start, end or until) for start, end in measures]
    for activity in work_activity:
        if activity.declined:
            continue
        if activity.plan_start is not None and activity.plan_months is not None:
            start, end = activity.plan_start, add_months(activity.plan_start, activity.plan_months) - day
        else:
            start, end = activity.transferred_on, until
        if activity.returned_on is not None:
            end = min(end, activity.returned_on - day)
        periods.append((start, end))
    return [(start, min(end, until)) for start, end in periods if start <= min(end, until)]
