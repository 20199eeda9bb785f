"""Effective-dated rules of joint employment services: pure data and functions, stdlib only.

Eligibility for assessment, deadlines, plan review, closure, the municipal share of
labour-market subsidy and activation plan limits all depend on the law in force on the day
of the event (seed rules 2010-2014, Act 1369/2014 from 2015 with the 3-month review from
2 May 2022, Act 381/2023 from 2025). Ask :func:`rules_in_force` for the rule set of a date and
pass it to the functions here, so a replay of old events gives the old answers.
"""

from services.rules.activation import (
    ActivationPlanTerms,
    WorkActivityPeriod,
    activated_periods,
    validate_activation_plan,
)
from services.rules.catalogue import (
    ACT_381_2023,
    ACT_1369_2014,
    ACT_1369_2014_FROM_MAY_2022,
    ACTIVATION_LIMITS_189_2001,
    RULE_SETS,
    SEED_2010,
    coverage_problems,
    rules_in_force,
)
from services.rules.cost import municipal_cost, municipal_share
from services.rules.dates import add_months
from services.rules.deadlines import (
    assessment_deadline,
    closure_requires_joint_decision,
    next_plan_review,
    plan_deadline,
    plan_due,
    plan_period_start,
    plan_review_due,
)
from services.rules.eligibility import EligibilityFinding, assessment_triggers
from services.rules.model import (
    ActivationLimits,
    AssessmentTriggers,
    MunicipalShareScheme,
    NeedBasedReason,
    NoRulesInForce,
    RulesError,
    RuleSet,
    ShareTier,
    TriggerBasis,
)

__all__ = [
    "ACTIVATION_LIMITS_189_2001",
    "ACT_381_2023",
    "ACT_1369_2014",
    "ACT_1369_2014_FROM_MAY_2022",
    "RULE_SETS",
    "SEED_2010",
    "ActivationLimits",
    "ActivationPlanTerms",
    "AssessmentTriggers",
    "EligibilityFinding",
    "MunicipalShareScheme",
    "NeedBasedReason",
    "NoRulesInForce",
    "RuleSet",
    "RulesError",
    "ShareTier",
    "TriggerBasis",
    "WorkActivityPeriod",
    "activated_periods",
    "add_months",
    "assessment_deadline",
    "assessment_triggers",
    "closure_requires_joint_decision",
    "coverage_problems",
    "municipal_cost",
    "municipal_share",
    "next_plan_review",
    "plan_deadline",
    "plan_due",
    "plan_period_start",
    "plan_review_due",
    "rules_in_force",
    "validate_activation_plan",
]
