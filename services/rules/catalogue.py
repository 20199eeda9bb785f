"""The rule sets themselves, as data with dates, and the lookup of the one in force.

Sources: the seed's rules for 2010-2014 and the Finnish statutes since, as ``docs/domain.md``
describes them ("The rules by date"). Where the sources are silent this file does not
invent a rule; the comments say so.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from services.rules.model import (
    ActivationLimits,
    AssessmentTriggers,
    MunicipalShareScheme,
    NoRulesInForce,
    RuleSet,
    ShareTier,
    TriggerBasis,
)

#: Rehabilitative work activity (*kuntouttava työtoiminta*), Act 189/2001, limits as of today.
#: domain.md gives only today's limits, so every rule set carries these; they stay per-rule-set
#: data so that a change in the limits is a new value here, not a branch in code.
ACTIVATION_LIMITS_189_2001 = ActivationLimits(
    statute="Act 189/2001",
    min_months=3,
    max_months=24,
    min_days_per_week=1,
    max_days_per_week=4,
    min_hours_per_day=Decimal(4),
    max_hours_per_day=Decimal(8),
    max_hours_per_week=Decimal(32),
    review_within_months=24,
)

#: 2010-2014, the seed's rules (a 2010-2011 thesis describes them). There was no statute on
#: joint service: a national criterion asked that at least half of a centre's clients have
#: over 500 days of labour-market subsidy and need multi-professional service. The guide
#: decides or proposes the end of the relationship. After 500 paid days the municipality pays
#: half of the subsidy unless the client is activated.
SEED_2010 = RuleSet(
    name="Seed rules 2010-2014 (national TYP criterion)",
    statute="no statute on joint service; national TYP criterion",
    effective_from=date(2010, 1, 1),
    effective_until=date(2014, 12, 31),
    assessment_triggers=AssessmentTriggers(
        basis=TriggerBasis.NATIONAL_CRITERION, national_criterion_over_days=500
    ),
    assessment_within_months=None,
    plan_within_months=None,
    plan_review_every_months=None,
    relationship_starts_at_assessment=False,
    closure_by_joint_decision=False,
    municipal_share=MunicipalShareScheme(
        tiers=(ShareTier(1, 500, Decimal(0)), ShareTier(501, None, Decimal("0.5"))),
        activation_exempts=True,
    ),
    activation_limits=ACTIVATION_LIMITS_189_2001,
)

#: 2015 to 1 May 2022: Act 1369/2014 on multi-sectoral joint service.
ACT_1369_2014 = RuleSet(
    name="Act 1369/2014 on multi-sectoral joint service",
    statute="Act 1369/2014",
    effective_from=date(2015, 1, 1),
    effective_until=date(2022, 5, 1),
    assessment_triggers=AssessmentTriggers(
        basis=TriggerBasis.DAY_AND_MONTH_TRIGGERS,
        subsidy_days=300,
        unemployment_months_adult=12,
        unemployment_months_young=6,
        adult_age=25,
    ),
    assessment_within_months=3,
    # The multi-sectoral employment plan is drawn up within the assessment period.
    plan_within_months=3,
    plan_review_every_months=6,
    relationship_starts_at_assessment=False,
    closure_by_joint_decision=True,
    municipal_share=MunicipalShareScheme(
        tiers=(
            ShareTier(1, 300, Decimal(0)),
            ShareTier(301, 1000, Decimal("0.5")),
            ShareTier(1001, None, Decimal("0.7")),
        ),
        # domain.md does not say that activation exempts the municipal share from 2015 on,
        # so no exemption is invented here: the municipality's share is the same whether
        # or not the client is activated. Change this flag (with a source) if the law says so.
        activation_exempts=False,
    ),
    activation_limits=ACTIVATION_LIMITS_189_2001,
)

#: 2 May 2022 to 2024: the same act, the plan now reviewed at least every 3 months. (From 2022
#: the plan also carries the job-search obligation; that is plan content, not a parameter here.)
ACT_1369_2014_FROM_MAY_2022 = dataclasses.replace(
    ACT_1369_2014,
    name="Act 1369/2014 as in force from 2 May 2022",
    statute="Act 1369/2014 (as amended, in force 2 May 2022)",
    effective_from=date(2022, 5, 2),
    effective_until=date(2024, 12, 31),
    plan_review_every_months=3,
)

#: From 2025: Act 381/2023, TE services moved to the municipalities. Need-based assessment with
#: no day triggers; the relationship starts when the assessment starts, so domain.md sets no
#: separate assessment deadline; the plan is due within 3 months and reviewed every 3 months.
ACT_381_2023 = RuleSet(
    name="Act 381/2023 on multi-sectoral joint service (TE services in municipalities)",
    statute="Act 381/2023",
    effective_from=date(2025, 1, 1),
    effective_until=None,
    assessment_triggers=AssessmentTriggers(basis=TriggerBasis.NEED_BASED),
    assessment_within_months=None,
    plan_within_months=3,
    plan_review_every_months=3,
    relationship_starts_at_assessment=True,
    closure_by_joint_decision=True,
    municipal_share=MunicipalShareScheme(
        tiers=(
            ShareTier(1, 100, Decimal(0)),
            ShareTier(101, 200, Decimal("0.1")),
            ShareTier(201, 300, Decimal("0.2")),
            ShareTier(301, 400, Decimal("0.3")),
            ShareTier(401, 700, Decimal("0.4")),
            ShareTier(701, None, Decimal("0.5")),
        ),
        # As for 2015: domain.md states no activation exemption, so none is applied.
        activation_exempts=False,
    ),
    activation_limits=ACTIVATION_LIMITS_189_2001,
)

#: Every rule set, oldest first. Together they cover each day from 2010-01-01 on, once.
RULE_SETS: tuple[RuleSet, ...] = (SEED_2010, ACT_1369_2014, ACT_1369_2014_FROM_MAY_2022, ACT_381_2023)


def coverage_problems(rule_sets: Sequence[RuleSet] = RULE_SETS) -> list[str]:
    """Gaps and overlaps between consecutive rule sets (oldest first); empty when they tile time.

    Only the last rule set may be open-ended.
    """
    problems: list[str] = []
    for earlier, later in itertools.pairwise(rule_sets):
        if earlier.effective_until is None:
            problems.append(f"{earlier.name} is open-ended but {later.name} follows it")
            continue
        expected = earlier.effective_until + timedelta(days=1)
        if later.effective_from > expected:
            problems.append(
                f"gap: no rules from {expected.isoformat()} to "
                f"{(later.effective_from - timedelta(days=1)).isoformat()}"
            )
        elif later.effective_from < expected:
            problems.append(f"overlap: {later.name} starts before {earlier.name} ends")
    if rule_sets and rule_sets[-1].effective_until is not None:
        last_day = rule_sets[-1].effective_until
        problems.append(f"no rules after {last_day.isoformat()}: the last rule set must be open-ended")
    return problems


def rules_in_force(on: date, rule_sets: Sequence[RuleSet] = RULE_SETS) -> RuleSet:
    """The rule set that applies to an event on ``on``: the law in force on that day.

    Pass the date of the event (referral, assessment start, review, payment day), not today,
    so that replaying old events gives the old answers. Raises :class:`NoRulesInForce` for a
    day that no rule set covers (before 2010-01-01 with the default rule sets).
    """
    for rule_set in rule_sets:
        if rule_set.in_force_on(on):
            return rule_set
    first = min((rule_set.effective_from for rule_set in rule_sets), default=None)
    hint = f"; the earliest rules start on {first.isoformat()}" if first is not None else ""
    raise NoRulesInForce(f"no rule set is in force on {on.isoformat()}{hint}")
