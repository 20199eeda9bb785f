"""The phase a side view shows is the case's, as guidance holds it: never an older one."""

from __future__ import annotations

from datetime import date

from contracts.guidance import Outcome, Phase
from services.guidance.domain.case import fold as guidance_fold
from services.reporting.facts import CaseFacts, evolve
from services.reporting.partitions import te_view
from tests.support.reporting_events import Story, client_event

#: the phase's place in the TE view's client row (services/reporting/partitions.py)
PHASE = 9


def reporting_phase(story: Story) -> str | None:
    facts = CaseFacts.new(client_event(story.events[0]))
    for event in story.events:
        facts = evolve(facts, event)
    view = te_view(facts)
    assert view is not None, "the story's consent lets the TE side see the case"
    phase = view.client[PHASE]
    assert phase == facts.phase
    assert phase is None or isinstance(phase, str)
    return phase


def guidance_phase(story: Story) -> str:
    case = guidance_fold(story.events)
    assert case is not None
    return case.phase.value


def opened_story() -> Story:
    story = Story("Mikkeli")
    story.referred(date(2016, 3, 1))
    story.consent(date(2016, 3, 10))
    story.assessed(date(2016, 3, 20))
    story.opened(date(2016, 3, 20))
    return story


def test_an_opened_case_is_in_the_referral_phase_on_both_sides() -> None:
    story = opened_story()
    assert reporting_phase(story) == guidance_phase(story) == Phase.REFERRAL.value


def test_after_closure_the_te_view_shows_the_closure_phase_as_guidance_does() -> None:
    story = opened_story()
    story.guide(date(2016, 4, 1))
    story.phase(date(2016, 4, 2), Phase.SURVEY_AND_RESEARCH)
    assert reporting_phase(story) == guidance_phase(story) == Phase.SURVEY_AND_RESEARCH.value
    story.closed(date(2016, 11, 1), Outcome.EDUCATION)
    assert reporting_phase(story) == guidance_phase(story) == Phase.CLOSURE.value


def test_a_case_opened_again_after_closure_starts_again_in_the_referral_phase() -> None:
    story = opened_story()
    story.phase(date(2016, 4, 2), Phase.COACHING_AND_EMPLOYMENT)
    story.closed(date(2016, 11, 1), Outcome.OPEN_LABOUR_MARKET)
    story.assessed(date(2017, 2, 1))
    story.opened(date(2017, 2, 1))
    assert reporting_phase(story) == guidance_phase(story) == Phase.REFERRAL.value
