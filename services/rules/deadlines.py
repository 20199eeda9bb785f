"""Deadlines and intervals of joint service: assessment, plan, plan review, closure."""

from __future__ import annotations

from datetime import date

from services.rules.catalogue import rules_in_force
from services.rules.dates import add_months
from services.rules.model import RuleSet


def assessment_deadline(rules: RuleSet, start: date) -> date | None:
    """Last day for the joint assessment: ``start`` plus the rule set's months, clamped to month end.

    ``start`` is the start of the joint service (Act 1369/2014: within 3 months of it).
    None when the rules set no deadline: the seed's rules, and the 2025 act, under which the
    relationship starts when the assessment starts.
    """
    months = rules.assessment_within_months
    return None if months is None else add_months(start, months)


def plan_deadline(rules: RuleSet, start: date) -> date | None:
    """Last day for drawing up the multi-sectoral employment plan (*monialainen työllistymissuunnitelma*).

    ``start`` is the start of the client relationship (from 2025 the day the assessment
    starts). None under the seed's rules, which set no deadline.
    """
    months = rules.plan_within_months
    return None if months is None else add_months(start, months)


def plan_review_due(rules: RuleSet, last_review: date) -> date | None:
    """Latest day for the next plan review under ``rules``, given the last review (or the plan date).

    The plan is reviewed at least this often; it may also be reviewed earlier (under Act 1369/2014 also
    when the client asks, unless clearly unnecessary). None when the rules set no interval.
    """
    months = rules.plan_review_every_months
    return None if months is None else add_months(last_review, months)


def next_plan_review(last_review: date) -> date | None:
    """Latest day for the next plan review, with the interval in force on ``last_review``.

    Choice: the interval is the one of the rule set in force when the plan was last reviewed
    (or drawn up), so a review made under the 6-month rule is next due 6 months later even if
    the 3-month rule of 2 May 2022 starts meanwhile. domain.md records no transitional
    provision either way; a caller that wants the stricter reading can take the earlier of
    this and ``plan_review_due(rules_in_force(today), last_review)``. Raises
    :class:`services.rules.model.NoRulesInForce` before 2010.
    """
    return plan_review_due(rules_in_force(last_review), last_review)


def closure_requires_joint_decision(rules: RuleSet) -> bool:
    """Whether closing the relationship needs the joint decision of TE services, municipality and Kela.

    False under the seed's rules: the guide decides or proposes the end and writes the final
    assessment (*loppuarvio*).
    """
    return rules.closure_by_joint_decision
