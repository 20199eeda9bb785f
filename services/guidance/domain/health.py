"""The nurse's health check (terveystarkastus): a shareable summary for the team, and
details that stay in the health partition.

Who may record one is the permission matrix's rule, not this module's: ``health:record``
is the nurse's only (runtime/access.py), and the one path to :func:`record_health_check`
is ``POST /cases/{id}/health-check``, which requires it. No path bypasses the matrix, so
the domain keeps no second copy of the rule."""

from __future__ import annotations

from datetime import date

from contracts.base import EventBase
from contracts.guidance import HealthCheckDetailsRecorded, HealthCheckSummaryRecorded
from runtime.decision import Context
from services.guidance.domain.case import GuidanceCase, require_open


def record_health_check(
    state: GuidanceCase,
    *,
    checked_on: date,
    work_restrictions_found: bool,
    recommended_next_step: str,
    details: str,
    ctx: Context,
) -> list[EventBase]:
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
