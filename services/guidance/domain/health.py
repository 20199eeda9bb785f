"""The nurse's health check: a shareable summary for the team, and details that stay in
the health partition."""

from __future__ import annotations

from datetime import date

from contracts.base import EventBase
from contracts.guidance import HealthCheckDetailsRecorded, HealthCheckSummaryRecorded
from runtime.decision import Context
from services.guidance.domain.case import GuidanceCase, require_open
from services.guidance.domain.errors import NotPermitted

#: Who records and reads health details.
HEALTH_ROLES = frozenset({"nurse"})


def record_health_check(
    state: GuidanceCase,
    *,
    checked_on: date,
    work_restrictions_found: bool,
    recommended_next_step: str,
    details: str,
    ctx: Context,
) -> list[EventBase]:
    if ctx.actor.role not in HEALTH_ROLES:
        raise NotPermitted("only the nurse records a health check")
    require_open(state)
    return [
        HealthCheckSummaryRecorded(
            **ctx.envelope(state.client_id, state.version + 1),
            municipality=state.municipality,
            checked_on=checked_on,
            work_restrictions_found=work_restrictions_found,
            recommended_next_step=recommended_next_step,
        ),
        HealthCheckDetailsRecorded(
            **ctx.envelope(state.client_id, state.version + 2),
            municipality=state.municipality,
            checked_on=checked_on,
            details=details,
        ),
    ]
