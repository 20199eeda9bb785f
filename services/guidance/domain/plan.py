"""Phases, the employment plan and its measures, and the deadlines of the rules in force."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from contracts.base import EventBase
from contracts.guidance import Measure, Phase, PhaseChanged, PlanRevised
from runtime.decision import Context
from services.guidance.domain.case import GuidanceCase, Status, require_open
from services.guidance.domain.errors import DomainError
from services.rules import next_plan_review, plan_due

#: The measure catalogue (configuration): code -> name.
DEFAULT_MEASURE_CATALOGUE: Mapping[str, str] = {
    "health_check": "Health check by the nurse",
    "psychologist_assessment": "Psychologist's assessment",
    "neuropsychological_tests": "Neuropsychological tests",
    "job_coach": "Job coach (työvalmentaja)",
    "job_finder": "Job finder (työnetsijä)",
    "work_try_out": "Work try-out",
    "work_life_coaching": "Work-life coaching",
    "training": "Training",
    "wage_subsidised_work": "Wage-subsidised work",
    "rehabilitative_work_activity": "Rehabilitative work activity (kuntouttava työtoiminta)",
    "pension_or_long_rehabilitation_inquiry": "Pension or long-rehabilitation inquiry",
    "specialist_doctor_consultation": "Specialist doctor consultation (purchased service)",
    "vaaksa": "Vaaksa project (intermediate labour market)",
    "vartti": "Vartti project (workshops)",
}


def change_phase(state: GuidanceCase, phase: Phase, *, changed_on: date, ctx: Context) -> list[EventBase]:
    require_open(state)
    if phase is Phase.CLOSURE:
        raise DomainError("the closure phase begins with closing the relationship (POST .../closure)")
    if phase is state.phase:
        return []
    return [
        PhaseChanged(
            **ctx.envelope(state.client_id, state.version + 1),
            municipality=state.municipality,
            phase=phase,
            changed_on=changed_on,
        )
    ]


def revise_plan(
    state: GuidanceCase,
    measures: Sequence[Measure],
    *,
    revised_on: date,
    review: bool,
    catalogue: Mapping[str, str],
    ctx: Context,
) -> list[EventBase]:
    require_open(state)
    unknown = sorted({m.kind for m in measures} - set(catalogue))
    if unknown:
        raise DomainError("not in the measure catalogue: " + ", ".join(unknown))
    ids = [m.measure_id for m in measures]
    if len(set(ids)) != len(ids):
        raise DomainError("each measure in a plan needs its own measure_id")
    if revised_on < state.opened_on:
        raise DomainError("the plan cannot be dated before the case was opened")
    if review and state.plan_revision == 0:
        raise DomainError("there is no plan to review yet: draw up the first plan")
    return [
        PlanRevised(
            **ctx.envelope(state.client_id, state.version + 1),
            municipality=state.municipality,
            revision=state.plan_revision + 1,
            revised_on=revised_on,
            measures=tuple(measures),
            review=review,
        )
    ]


@dataclass(frozen=True)
class Deadlines:
    plan_due: date | None
    plan_overdue: bool
    review_due: date | None
    review_overdue: bool


def deadlines(state: GuidanceCase, today: date, *, referral_date: date | None = None) -> Deadlines:
    """The plan is due by :func:`services.rules.plan_due`: 3 months after the client's
    referral (``referral_date``, the start of the mapping period) under Act 1369/2014, 3
    months after the opening under Act 381/2023, never under the seed's rules; a case opened
    again counts from its opening. It is then reviewed at the interval of the rules in force
    on the last review (6 months under the 2015 act, 3 from 2 May 2022 and under the 2025 act)."""
    if not state.open or state.status is Status.WITH_SOCIAL_SERVICES:
        return Deadlines(None, False, None, False)
    due = (
        plan_due(referral_date=None if state.reopened else referral_date, opened_on=state.opened_on)
        if state.plan_drawn_on is None
        else None
    )
    review = next_plan_review(state.last_review_on) if state.last_review_on else None
    return Deadlines(
        plan_due=due,
        plan_overdue=due is not None and today > due,
        review_due=review,
        review_overdue=review is not None and today > review,
    )
