"""The basis of the municipal subsidy cost (kuntaosuus): the rule sets in force in a
year, and their municipal share in words."""

from __future__ import annotations

from datetime import date

from services.reporting.statistics.models import (
    CostBasis,
)
from services.rules import RULE_SETS, RuleSet

COST_ASSUMPTION = (
    "Subsidy days at referral are the paid days so far; from the day after the referral until "
    "the closure (or the as-of day) every weekday is a paid day at the daily amount; each day's "
    "municipal share is that of the rules in force on that day; activated days (plan measures, "
    "rehabilitative work activity) are exempt where those rules say so."
)


def share_in_words(rules: RuleSet) -> str:
    """The municipality's share of the labour-market subsidy under ``rules``, in words."""
    scheme = rules.municipal_share
    tiers = "; ".join(
        f"paid days {t.first_day}{'+' if t.last_day is None else f'-{t.last_day}'}: {t.share * 100:g} %"
        for t in scheme.tiers
    )
    exempt = "activated days exempt" if scheme.activation_exempts else "no exemption for activation"
    return f"{tiers}; {exempt}"


def cost_basis(year: int, as_of: date) -> list[CostBasis]:
    """The rule sets in force during ``year`` up to ``as_of``, each with its days."""
    first, last = date(year, 1, 1), min(date(year, 12, 31), as_of)
    out = []
    for rules in RULE_SETS:
        start = max(first, rules.effective_from)
        end = last if rules.effective_until is None else min(last, rules.effective_until)
        if start <= end:
            out.append(
                CostBasis(
                    rule_set=rules.name,
                    statute=rules.statute,
                    in_force_from=start,
                    in_force_until=end,
                    municipal_share=share_in_words(rules),
                )
            )
    return out
