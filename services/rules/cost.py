"""The municipality's share of the cost of labour-market subsidy (*työmarkkinatuki*)."""

from __future__ import annotations

from decimal import Decimal

from services.rules.model import RuleSet


def municipal_share(rules: RuleSet, paid_day: int, *, activated: bool) -> Decimal:
    """The fraction (0..1) of the subsidy the municipality pays for the ``paid_day``-th paid day (1-based).

    ``activated``: the client is in an active measure on that day. It exempts the municipality
    only where the rule set says so (the seed's rules); under the 2015 and 2025 acts domain.md
    states no exemption and the flag changes nothing.
    """
    if paid_day < 1:
        raise ValueError(f"paid days are counted from 1, not {paid_day}")
    scheme = rules.municipal_share
    if activated and scheme.activation_exempts:
        return Decimal(0)
    for tier in scheme.tiers:
        if tier.last_day is None or paid_day <= tier.last_day:
            return tier.share
    raise AssertionError("unreachable: the last share tier is open-ended")  # MunicipalShareScheme checks


def municipal_cost(
    rules: RuleSet, first_day: int, days: int, daily_amount: Decimal, *, activated: bool
) -> Decimal:
    """What the municipality pays for ``days`` paid days starting at paid day ``first_day``.

    Equal to the sum of ``municipal_share(rules, day, activated=activated) * daily_amount`` over
    the days, computed per share tier. The result is exact (no rounding to cents; that belongs to
    whoever makes the payment). Use the rule set in force on the days paid: a period that spans
    a change of law is split by the caller.
    """
    if first_day < 1:
        raise ValueError(f"paid days are counted from 1, not {first_day}")
    if days < 0:
        raise ValueError(f"the number of days cannot be negative: {days}")
    scheme = rules.municipal_share
    if days == 0 or (activated and scheme.activation_exempts):
        return Decimal(0)
    last_day = first_day + days - 1
    total = Decimal(0)
    for tier in scheme.tiers:
        low = max(first_day, tier.first_day)
        high = last_day if tier.last_day is None else min(last_day, tier.last_day)
        if low <= high:
            total += tier.share * daily_amount * (high - low + 1)
    return total
