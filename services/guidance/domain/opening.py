"""Opening a guidance case when an assessment routes the client into the centre."""

from __future__ import annotations

from contracts.base import EventBase
from contracts.guidance import GuidanceCaseOpened
from contracts.intake import ROUTES_INTO_CENTRE, AssessmentCompleted, Route
from runtime.decision import Context
from services.guidance.domain.case import GuidanceCase
from services.rules import rules_in_force


def open_case(
    state: GuidanceCase | None, assessment: AssessmentCompleted, *, ctx: Context
) -> list[EventBase]:
    """Routes into the centre open a case (rehabilitative work activity opens it already
    handed to social services); routes that leave the centre open none. A case that is
    not closed (also one whose relationship ended at a transfer, which the client may
    return to) is not opened again."""
    if assessment.route not in ROUTES_INTO_CENTRE or (state is not None and not state.closed):
        return []
    version = state.version if state else 0
    return [
        GuidanceCaseOpened(
            **ctx.envelope(assessment.stream_id, version + 1),
            municipality=assessment.municipality,
            opened_on=assessment.assessed_on,
            route=assessment.route,
            profile=assessment.profile,
            ministry_segment=assessment.ministry_segment,
            handed_to_social_services=assessment.route is Route.REHABILITATIVE_WORK_ACTIVITY,
            rule_set=rules_in_force(assessment.assessed_on).name,
        )
    ]
