"""Pure computation behind the statistics: shares, targets, medians, deadlines and the
municipality's share of the labour-market subsidy cost. No I/O; unit-tested on their own."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from services.reporting.facts import CaseFacts
from services.reporting.partitions import parse_deadline_bucket
from services.rules import (
    RULE_SETS,
    NoRulesInForce,
    WorkActivityPeriod,
    activated_periods,
    municipal_cost,
    rules_in_force,
)

ONE_DAY = timedelta(days=1)
CENT = Decimal("0.01")


def share(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` as a fraction rounded to four decimals; None of nothing."""
    return round(part / whole, 4) if whole else None


def shares(counts: Mapping[str, int]) -> dict[str, float]:
    """Each count's share of the total (0 when the total is 0)."""
    total = sum(counts.values())
    return {key: round(n / total, 4) if total else 0.0 for key, n in counts.items()}


def apportion(total: int, weights: Mapping[str, int]) -> dict[str, int]:
    """Split ``total`` in proportion to ``weights`` into whole numbers that add up to it
    (largest remainder; ties go to the larger weight, then by name)."""
    weight_sum = sum(weights.values())
    if total < 0 or weight_sum <= 0 or any(w < 0 for w in weights.values()):
        raise ValueError("apportion needs a non-negative total and positive weights")
    exact = {k: Decimal(total) * w / weight_sum for k, w in weights.items()}
    floors = {k: int(v) for k, v in exact.items()}
    left = total - sum(floors.values())
    order = sorted(weights, key=lambda k: (-(exact[k] - floors[k]), -weights[k], k))
    for k in order[:left]:
        floors[k] += 1
    return floors


@dataclass(frozen=True)
class TargetSetting:
    """One setting of a year's intake target by the steering group (IntakeTargetSet)."""

    set_on: date
    #: its place in the year's stream: of two set on one day, the later wins
    order: int
    target: int
    #: the split per municipality as set, or None: apportioned by population
    municipalities: Mapping[str, int] | None = None


def target_in_force(settings: Iterable[TargetSetting], as_of: date | None) -> TargetSetting | None:
    """The setting in force on ``as_of``: the latest ``set_on`` not after it (of one day,
    the last set); with no ``as_of``, the latest of all. None when none was set by then."""
    candidates = [s for s in settings if as_of is None or s.set_on <= as_of]
    return max(candidates, key=lambda s: (s.set_on, s.order), default=None)


def municipal_targets(
    setting: TargetSetting, populations: Mapping[str, int], municipalities: Sequence[str]
) -> dict[str, int]:
    """Each municipality's part of ``setting``: as the steering group split it (a
    municipality it left out has 0), else apportioned by population (:func:`apportion`)."""
    if setting.municipalities is not None:
        return {m: setting.municipalities.get(m, 0) for m in municipalities} | dict(setting.municipalities)
    weights = {m: p for m, p in populations.items() if m in municipalities}
    return apportion(setting.target, weights) if weights else {}


@dataclass(frozen=True)
class Spread:
    clients: int
    median_days: float | None
    mean_days: float | None


def spread(histogram: Mapping[int, int]) -> Spread:
    """Median and mean of day counts given as ``{days: clients}``."""
    items = sorted((d, n) for d, n in histogram.items() if n > 0)
    count = sum(n for _, n in items)
    if count == 0:
        return Spread(0, None, None)
    values = list(itertools.chain.from_iterable(itertools.repeat(d, n) for d, n in items))
    middle = count // 2
    median = float(values[middle]) if count % 2 else (values[middle - 1] + values[middle]) / 2
    mean = round(sum(d * n for d, n in items) / count, 1)
    return Spread(count, median, mean)


@dataclass(frozen=True)
class DeadlineCounts:
    """Deadlines as of a day: met in time, met late, open and past due, open and not yet due."""

    met_on_time: int = 0
    met_late: int = 0
    overdue: int = 0
    pending: int = 0

    @property
    def total(self) -> int:
        return self.met_on_time + self.met_late + self.overdue + self.pending


#: a deadline's state as of a day: the fields of :class:`DeadlineCounts`
DEADLINE_STATES = ("met_on_time", "met_late", "overdue", "pending")


def deadline_state(bucket: str, as_of: date) -> str:
    """The state on ``as_of`` of the deadline ``"<due>|<met or empty>"``: one of
    :data:`DEADLINE_STATES`."""
    due, met = parse_deadline_bucket(bucket)
    if met is not None and met <= as_of:
        return "met_on_time" if met <= due else "met_late"
    return "overdue" if due < as_of else "pending"


def deadline_counts(buckets: Mapping[str, int], as_of: date) -> DeadlineCounts:
    """Count ``{"<due>|<met or empty>": n}`` as they stood on ``as_of``."""
    counts = dict.fromkeys(DEADLINE_STATES, 0)
    for bucket, n in buckets.items():
        counts[deadline_state(bucket, as_of)] += n
    return DeadlineCounts(**counts)


def weekdays(start: date, end: date) -> int:
    """Monday-to-Friday days from ``start`` to ``end``, both included."""
    if end < start:
        return 0
    full_weeks, rest = divmod((end - start).days + 1, 7)
    first = start.weekday()
    return full_weeks * 5 + sum(1 for i in range(rest) if (first + i) % 7 < 5)


def activation_periods(facts: CaseFacts, until: date) -> list[tuple[date, date]]:
    """Days the client was activated, up to the closure or ``until``
    (:func:`services.rules.activated_periods`): plan measures not cancelled, and every
    period of rehabilitative work activity not declined, also one the route opened."""
    return activated_periods(
        [(m.start, m.end) for m in facts.measures if m.status != "cancelled"],
        [
            WorkActivityPeriod(
                transferred_on=t.transferred_on,
                declined=t.accepted is False,
                returned_on=t.returned_on,
                plan_start=t.plan_start,
                plan_months=t.plan_months,
            )
            for t in facts.transfers
        ],
        until=min(facts.closed_on or until, until),
    )


@dataclass(frozen=True)
class YearCost:
    paid_days: int
    municipal_cost: Decimal


def subsidy_cost_by_year(
    *,
    referral_date: date,
    subsidy_days: int,
    until: date,
    activated: Sequence[tuple[date, date]],
    daily_amount: Decimal,
) -> dict[int, YearCost]:
    """The municipality's share of one client's labour-market subsidy, per calendar year.

    Assumptions (the log has no payment data): the client's ``subsidy_days`` at referral
    are the paid days so far; from the day after the referral until ``until`` (the closure,
    or the day asked about) the subsidy is paid for every weekday, at ``daily_amount``;
    each paid day's share is that of the rule set in force on that day
    (:func:`services.rules.municipal_cost`), and an activated day is exempt where those
    rules say so. Days before the first rule set cost the municipality nothing here.
    """
    first = referral_date + ONE_DAY
    if until < first:
        return {}
    cuts = {first, until + ONE_DAY}
    cuts.update(date(year, 1, 1) for year in range(first.year + 1, until.year + 1))
    cuts.update(r.effective_from for r in RULE_SETS if first < r.effective_from <= until)
    for start, end in activated:
        cuts.update(d for d in (start, end + ONE_DAY) if first < d <= until)
    paid = subsidy_days
    out: dict[int, YearCost] = {}
    for start, following in itertools.pairwise(sorted(cuts)):
        days = weekdays(start, following - ONE_DAY)
        if days == 0:
            continue
        active = any(a <= start <= b for a, b in activated)
        try:
            rules = rules_in_force(start)
        except NoRulesInForce:
            cost = Decimal(0)
        else:
            cost = municipal_cost(rules, paid + 1, days, daily_amount, activated=active)
        so_far = out.get(start.year, YearCost(0, Decimal(0)))
        out[start.year] = YearCost(so_far.paid_days + days, so_far.municipal_cost + cost)
        paid += days
    return out


@dataclass(frozen=True)
class MunicipalityCost:
    municipality: str
    clients: int
    paid_days: int
    municipal_cost: Decimal


def municipal_costs(
    cases: Iterable[CaseFacts], *, year: int, as_of: date, daily_amount: Decimal
) -> list[MunicipalityCost]:
    """Per municipality, the estimated share of the subsidy cost of its residents in the
    centre during ``year`` (see :func:`subsidy_cost_by_year`), counted up to ``as_of``."""
    totals: dict[str, tuple[int, int, Decimal]] = {}
    for facts in cases:
        if facts.referral_date is None or facts.subsidy_days is None:
            continue
        until = min(facts.closed_on or as_of, as_of)
        by_year = subsidy_cost_by_year(
            referral_date=facts.referral_date,
            subsidy_days=facts.subsidy_days,
            until=until,
            activated=activation_periods(facts, until),
            daily_amount=daily_amount,
        )
        cost = by_year.get(year)
        if cost is None:
            continue
        clients, days, amount = totals.get(facts.municipality, (0, 0, Decimal(0)))
        totals[facts.municipality] = (clients + 1, days + cost.paid_days, amount + cost.municipal_cost)
    return [
        MunicipalityCost(m, clients, days, amount.quantize(CENT, rounding=ROUND_HALF_UP))
        for m, (clients, days, amount) in sorted(totals.items())
    ]
