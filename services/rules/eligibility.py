"""Who should be assessed for joint service, under the rule set in force."""

from __future__ import annotations

from dataclasses import dataclass

from services.rules.model import RuleSet, TriggerBasis


@dataclass(frozen=True)
class EligibilityFinding:
    """What the rules say about assessing one client for multi-sectoral joint service.

    ``indicated`` is True when a statutory trigger is met: the assessment (the centre's
    service-needs assessment, *palvelutarvearvio*) must be made. Under the seed's rules
    (``basis`` NATIONAL_CRITERION) there is no per-client trigger, so ``indicated`` is always
    False there; the client's part in the centre-level criterion is
    ``counts_towards_over_500_days``.

    ``reasons`` are the triggers met, in words. ``unknown`` names the inputs the rule set uses
    that were not given (``None``); an unknown input never counts as met, so a finding with
    ``indicated`` False and something unknown is not conclusive (see :attr:`conclusive`).
    """

    rule_set: str
    basis: TriggerBasis
    indicated: bool
    reasons: tuple[str, ...]
    unknown: tuple[str, ...]
    #: Seed rules only: whether the client has over 500 subsidy days and so counts towards the
    #: national criterion (half of the centre's clients). None when unknown or not applicable.
    counts_towards_over_500_days: bool | None = None

    @property
    def conclusive(self) -> bool:
        """True when missing inputs could not change ``indicated``."""
        return self.indicated or not self.unknown


def assessment_triggers(
    rules: RuleSet,
    *,
    subsidy_days: int | None = None,
    unemployment_months: int | None = None,
    age: int | None = None,
    need_based_reason: str | None = None,
) -> EligibilityFinding:
    """Which triggers for assessing joint service a client meets under ``rules``.

    ``subsidy_days``: days of labour-market subsidy (*työmarkkinatuki*) received;
    ``unemployment_months``: months of continuous unemployment; ``age`` in whole years on the
    day of the assessment; ``need_based_reason``: under the 2025 act, the assessor's reason
    (see :class:`services.rules.model.NeedBasedReason` for the statutory grounds). A blank
    reason counts as not given. Inputs a rule set does not use are ignored: the 2025 act
    ignores day and month counts, the earlier rules ignore ``need_based_reason``.

    Under the 2015 act the month triggers depend on age (12 months at 25 or over, 6 under
    25), so with ``age`` unknown neither month trigger counts as met, even for long
    unemployment; ``unknown`` then names ``age`` so the caller can ask for it.
    """
    for label, value in (("subsidy_days", subsidy_days), ("unemployment_months", unemployment_months)):
        if value is not None and value < 0:
            raise ValueError(f"{label} cannot be negative: {value}")
    if age is not None and age < 0:
        raise ValueError(f"age cannot be negative: {age}")

    triggers = rules.assessment_triggers
    reasons: list[str] = []
    unknown: list[str] = []
    over_500: bool | None = None

    if triggers.basis is TriggerBasis.NATIONAL_CRITERION:
        over_days = triggers.national_criterion_over_days
        assert over_days is not None  # guaranteed by AssessmentTriggers.__post_init__
        if subsidy_days is None:
            unknown.append("subsidy_days")
        else:
            over_500 = subsidy_days > over_days

    elif triggers.basis is TriggerBasis.DAY_AND_MONTH_TRIGGERS:
        if triggers.subsidy_days is not None:
            if subsidy_days is None:
                unknown.append("subsidy_days")
            elif subsidy_days >= triggers.subsidy_days:
                reasons.append(f"{triggers.subsidy_days} days of labour-market subsidy")
        adult_months, young_months = triggers.unemployment_months_adult, triggers.unemployment_months_young
        if adult_months is not None or young_months is not None:
            if unemployment_months is None:
                unknown.append("unemployment_months")
            if age is None:
                unknown.append("age")
            if unemployment_months is not None and age is not None:
                if age >= triggers.adult_age:
                    if adult_months is not None and unemployment_months >= adult_months:
                        reasons.append(f"{adult_months} months unemployed at {triggers.adult_age} or over")
                elif young_months is not None and unemployment_months >= young_months:
                    reasons.append(f"{young_months} months unemployed under {triggers.adult_age}")

    else:  # TriggerBasis.NEED_BASED
        if need_based_reason is None or not need_based_reason.strip():
            unknown.append("need_based_reason")
        else:
            reasons.append(f"need-based: {need_based_reason.strip()}")

    return EligibilityFinding(
        rule_set=rules.name,
        basis=triggers.basis,
        indicated=bool(reasons),
        reasons=tuple(reasons),
        unknown=tuple(unknown),
        counts_towards_over_500_days=over_500,
    )
