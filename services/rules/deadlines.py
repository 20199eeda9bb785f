"""Deadlines and intervals of joint service: assessment, plan, plan review, closure.

The plan deadline (the rule kept; docs/adr/0030). The multi-sectoral employment plan
(*monialainen työllistymissuunnitelma*) is due 3 months after the start of the period in
which it is drawn up, and the rules in force on that start decide:

- seed rules (2010-2014): no deadline; the seed sets none.
- Act 1369/2014 (2015-2024, both of its rule sets): the plan is drawn up in the mapping
  period (*kartoitusjakso*), the 3 months from the start of the joint service in which the
  joint assessment is also made. In Reitti the joint service starts with the referral to the
  centre (intake's ``referral_date``; intake's assessment deadline counts from the same
  day), so the plan is due 3 months after the referral: the day the assessment is due, not 3
  months after the assessment that opened guidance's case, which would give up to 6.
- Act 381/2023 (from 2025): the client relationship starts when the assessment starts, so the
  plan is due 3 months after the case's opening (the assessment's date).

A relationship opened again after a closure has no referral of its own in guidance's or
reporting's records, so its period starts on its opening. See :func:`plan_due`.
"""

from __future__ import annotations

from datetime import date

from services.rules.catalogue import rules_in_force
from services.rules.dates import add_months
from services.rules.model import NoRulesInForce, RuleSet


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

    ``start`` is the start of the plan's period (:func:`plan_period_start`: the referral under
    Act 1369/2014, the opening from 2025). None under the seed's rules, which set no deadline.
    """
    months = rules.plan_within_months
    return None if months is None else add_months(start, months)


def plan_period_start(rules: RuleSet, *, referral_date: date | None, opened_on: date) -> date:
    """The day the period for drawing up the plan starts under ``rules``.

    The case's opening (the assessment) when the relationship starts at the assessment (Act
    381/2023); else the start of the joint service, the referral (the mapping period of Act
    1369/2014). Without a referral date on or before the opening (a relationship opened
    again, or a record without it), the opening.
    """
    if rules.relationship_starts_at_assessment or referral_date is None or referral_date > opened_on:
        return opened_on
    return referral_date


def plan_due(*, referral_date: date | None, opened_on: date) -> date | None:
    """Last day for the plan of a case referred on ``referral_date`` and opened on ``opened_on``.

    The rules are those in force when the joint service started (the referral; the opening
    without one); from 2025 they start the period at the opening. None when they set no
    deadline, or before the first rule set (2010). The module docstring gives the rule.
    """
    started = opened_on if referral_date is None or referral_date > opened_on else referral_date
    try:
        rules = rules_in_force(started)
    except NoRulesInForce:
        return None
    return plan_deadline(rules, plan_period_start(rules, referral_date=referral_date, opened_on=opened_on))


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
