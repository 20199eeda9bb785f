"""The shape of an effective-dated rule set: plain frozen data, checked when built.

A :class:`RuleSet` holds every parameter that changed with the law (eligibility triggers,
deadlines, plan review interval, closure, municipal cost share, activation plan limits),
so code asks the rule set in force instead of branching on years.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum


class RulesError(Exception):
    """Base class of the errors this package raises."""


class NoRulesInForce(RulesError, LookupError):
    """No rule set covers the date asked about (it is before the first one)."""


class TriggerBasis(StrEnum):
    """What decides whether a client should be assessed for joint service."""

    #: 2010-2014 (seed): only a centre-level national criterion (at least half of the clients
    #: over 500 days of labour-market subsidy); no statutory per-client trigger.
    NATIONAL_CRITERION = "national_criterion"
    #: 2015-2024 (Act 1369/2014): subsidy-day and unemployment-month triggers.
    DAY_AND_MONTH_TRIGGERS = "day_and_month_triggers"
    #: From 2025 (Act 381/2023): the person's need, with no day triggers.
    NEED_BASED = "need_based"


class NeedBasedReason(StrEnum):
    """The need-based grounds of the 2025 act, as canonical texts for ``need_based_reason``."""

    WORK_OR_FUNCTIONAL_CAPACITY_LIMITS = "limits of work or functional capacity"
    LIFE_MANAGEMENT_PROBLEMS = "life-management problems that advice alone cannot solve"


@dataclass(frozen=True)
class AssessmentTriggers:
    """When a client should be assessed for multi-sectoral joint service (*monialainen yhteispalvelu*).

    Thresholds are inclusive ("at least"): ``subsidy_days=300`` is met at 300 days. The seed's
    national criterion is the exception: a client counts towards it with *over*
    ``national_criterion_over_days`` days (501 and up for 500).
    """

    basis: TriggerBasis
    #: Days of labour-market subsidy (*työmarkkinatuki*) that trigger an assessment.
    subsidy_days: int | None = None
    #: Months of continuous unemployment that trigger it at ``adult_age`` or over.
    unemployment_months_adult: int | None = None
    #: Months of continuous unemployment that trigger it under ``adult_age``.
    unemployment_months_young: int | None = None
    adult_age: int = 25
    #: Seed only: subsidy days a client must exceed to count towards the national criterion.
    national_criterion_over_days: int | None = None

    def __post_init__(self) -> None:
        day_or_month = (self.subsidy_days, self.unemployment_months_adult, self.unemployment_months_young)
        if self.basis is TriggerBasis.DAY_AND_MONTH_TRIGGERS:
            if all(value is None for value in day_or_month):
                raise ValueError("day-and-month triggers need at least one threshold")
        elif any(value is not None for value in day_or_month):
            raise ValueError(f"{self.basis} rules have no day or month triggers")
        if (self.national_criterion_over_days is not None) != (self.basis is TriggerBasis.NATIONAL_CRITERION):
            raise ValueError("the over-days national criterion belongs to the national-criterion basis only")


@dataclass(frozen=True)
class ShareTier:
    """The municipality's fraction of the labour-market subsidy for paid days ``first_day``..``last_day``.

    Days are 1-based counts of paid subsidy days; ``last_day`` is inclusive, ``None`` is open-ended.
    """

    first_day: int
    last_day: int | None
    share: Decimal

    def __post_init__(self) -> None:
        if self.first_day < 1:
            raise ValueError(f"a tier starts at paid day 1 or later, not {self.first_day}")
        if self.last_day is not None and self.last_day < self.first_day:
            raise ValueError(f"tier {self.first_day}..{self.last_day} ends before it starts")
        if not Decimal(0) <= self.share <= Decimal(1):
            raise ValueError(f"a share is a fraction between 0 and 1, not {self.share}")


@dataclass(frozen=True)
class MunicipalShareScheme:
    """How the municipality shares the cost of labour-market subsidy, tier by paid day.

    ``activation_exempts``: while the client is activated (in an active measure) the
    municipality pays nothing. Only the seed's rule says so; see the rule sets.
    """

    tiers: tuple[ShareTier, ...]
    activation_exempts: bool

    def __post_init__(self) -> None:
        expected_first = 1
        for tier in self.tiers:
            if tier.first_day != expected_first:
                raise ValueError(f"share tiers must be contiguous from day 1; expected day {expected_first}")
            if tier.last_day is None:
                if tier is not self.tiers[-1]:
                    raise ValueError("only the last share tier may be open-ended")
                return
            expected_first = tier.last_day + 1
        raise ValueError("the last share tier must be open-ended, so every paid day has a share")


@dataclass(frozen=True)
class ActivationLimits:
    """Limits of an activation plan (*aktivointisuunnitelma*) for rehabilitative work activity.

    Rehabilitative work activity is *kuntouttava työtoiminta* (Act 189/2001). Bounds are inclusive.
    """

    statute: str
    min_months: int
    max_months: int
    min_days_per_week: int
    max_days_per_week: int
    min_hours_per_day: Decimal
    max_hours_per_day: Decimal
    max_hours_per_week: Decimal
    #: The plan is evaluated and renewed at the latest this many months after it starts.
    review_within_months: int

    def __post_init__(self) -> None:
        if not (
            0 < self.min_months <= self.max_months
            and 0 < self.min_days_per_week <= self.max_days_per_week <= 7
            and Decimal(0) < self.min_hours_per_day <= self.max_hours_per_day <= Decimal(24)
            and self.max_hours_per_week > Decimal(0)
            and self.review_within_months > 0
        ):
            raise ValueError(f"inconsistent activation plan limits: {self}")


@dataclass(frozen=True)
class RuleSet:
    """The rules in force from ``effective_from`` to ``effective_until`` (both inclusive).

    ``effective_until=None`` means still in force. Months are calendar months counted with
    :func:`services.rules.dates.add_months`; ``None`` for a deadline or interval means the law
    of the period sets none.
    """

    name: str
    statute: str
    effective_from: date
    effective_until: date | None
    assessment_triggers: AssessmentTriggers
    #: The joint assessment is due within this many months of the start of joint service.
    assessment_within_months: int | None
    #: The (multi-sectoral) employment plan is due within this many months of the start.
    plan_within_months: int | None
    #: The plan is reviewed at least this often.
    plan_review_every_months: int | None
    #: True when the client relationship starts when the assessment starts (2025 act).
    relationship_starts_at_assessment: bool
    #: True when closing needs the joint decision of the three authorities (TE, municipality,
    #: Kela); False when the guide decides or proposes the end (seed).
    closure_by_joint_decision: bool
    municipal_share: MunicipalShareScheme
    activation_limits: ActivationLimits

    def __post_init__(self) -> None:
        if self.effective_until is not None and self.effective_until < self.effective_from:
            raise ValueError(f"{self.name}: in force until {self.effective_until}, before it starts")
        for label, months in (
            ("assessment deadline", self.assessment_within_months),
            ("plan deadline", self.plan_within_months),
            ("plan review interval", self.plan_review_every_months),
        ):
            if months is not None and months <= 0:
                raise ValueError(f"{self.name}: {label} must be a positive number of months")

    def in_force_on(self, day: date) -> bool:
        """Whether this rule set applies to an event on ``day``."""
        return self.effective_from <= day and (self.effective_until is None or day <= self.effective_until)
