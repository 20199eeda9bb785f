"""Phases, the employment plan and its measures, and the deadlines of the rules in force."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from contracts.base import EventBase
from contracts.guidance import MOVABLE_PHASES, Measure, Phase, PhaseChanged, PlanRevised
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

#: When each measure of the default catalogue is meant to be used (*milloin käytetään*):
#: the seed's staff did not know when to use the projects and purchased services
#: (domain.md). The desk shows it beside each measure; a centre's own code without a text
#: here is shown without one.
DEFAULT_MEASURE_USES: Mapping[str, str] = {
    "health_check": "When health limits need clarifying first: the nurse checks the client's health "
    "and refers them on to treatment.",
    "psychologist_assessment": "When work ability or the vocational direction is unclear: the centre's "
    "psychologist assesses them and the need for vocational rehabilitation.",
    "neuropsychological_tests": "When learning difficulties or limits of memory or attention are "
    "suspected and they bear on training or the work sought.",
    "job_coach": "A purchased service: when the client is ready for work or training but needs "
    "someone beside them to find and keep the place.",
    "job_finder": "A purchased service: when the client is ready for the open labour market and needs "
    "help to find work that fits their restrictions; the finder contacts employers.",
    "work_try_out": "When the client's fitness for a field or a workplace should be tried in practice "
    "before training or work.",
    "work_life_coaching": "When the client is close to working life and needs coaching in the job "
    "search and at the workplace.",
    "training": "When the client's education is outdated or missing and they are motivated to train.",
    "wage_subsidised_work": "When the client can work but an employer (a firm, the municipality, an "
    "association) needs the subsidy to take them on.",
    "rehabilitative_work_activity": "When the client cannot take part five days a week and needs other "
    "support too: municipal social services, with a transfer and an activation plan.",
    "pension_or_long_rehabilitation_inquiry": "When work ability is lastingly reduced and the way "
    "forward is a pension or long rehabilitation rather than work.",
    "specialist_doctor_consultation": "A purchased service: when the assessment of work ability needs "
    "a specialist's statement that the health centre cannot give.",
    "vaaksa": "The intermediate labour market: when guidance has cleared the way but education is "
    "outdated or missing, restrictions rule out open-market firms, or motivation is weak.",
    "vartti": "Workshops: when the client needs a daily rhythm and practice in a supported setting "
    "before work or training.",
}


def change_phase(state: GuidanceCase, phase: Phase, *, changed_on: date, ctx: Context) -> list[EventBase]:
    require_open(state)
    if phase not in MOVABLE_PHASES:
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
