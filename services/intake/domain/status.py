"""What the rules in force say about a case: which rule set applies (that of the
referral date), whether an assessment for joint service is indicated, the assessment
deadline, and whether the case is past it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.intake.domain.case import IntakeCase, Stage
from services.intake.identity import InvalidIdentityCode, age_on
from services.rules import (
    EligibilityFinding,
    NoRulesInForce,
    RuleSet,
    assessment_deadline,
    assessment_triggers,
    rules_in_force,
)


def rule_set_for(state: IntakeCase) -> RuleSet:
    """The rules of the referral date apply to the whole intake case."""
    return rules_in_force(state.referral_date)


def rules_cover(referral_date: date) -> bool:
    try:
        rules_in_force(referral_date)
    except NoRulesInForce:
        return False
    return True


def eligibility(state: IntakeCase) -> EligibilityFinding:
    try:
        age: int | None = age_on(state.client.personal_identity_code, state.referral_date)
    except InvalidIdentityCode:
        age = None
    return assessment_triggers(
        rule_set_for(state),
        subsidy_days=state.subsidy_days,
        unemployment_months=state.unemployment_months,
        age=age,
        need_based_reason=state.need_based_reason,
    )


@dataclass(frozen=True)
class DeadlineStatus:
    rule_set: str
    statute: str
    deadline: date | None
    overdue: bool
    days_left: int | None


def deadline_status(state: IntakeCase, today: date) -> DeadlineStatus:
    """The assessment deadline (three months from the referral where the law sets one) and
    whether a case not yet assessed is past it."""
    rules = rule_set_for(state)
    deadline = assessment_deadline(rules, state.referral_date)
    assessed_on = state.assessment.assessed_on if state.assessment else None
    overdue = deadline is not None and (
        (assessed_on is None and today > deadline) or (assessed_on is not None and assessed_on > deadline)
    )
    days_left = None if deadline is None or state.stage is Stage.ROUTED else (deadline - today).days
    return DeadlineStatus(rules.name, rules.statute, deadline, overdue, days_left)
