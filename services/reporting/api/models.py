"""Reporting's own response models (the statistics' are in services/reporting/statistics/models.py,
the views' in services/reporting/views.py, beside the queries that fill them)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from contracts.intake import ReferralSource
from runtime.field_docs import MUNICIPALITY_FILTER
from services.reporting.statistics import HIDDEN_NOTE


class ReferralsBySource(BaseModel):
    year: int | None = Field(description="The year asked for, or null for all years")
    municipality: str | None = Field(description=MUNICIPALITY_FILTER)
    total: int | None = Field(description=HIDDEN_NOTE)
    by_source: dict[ReferralSource, int | None] = Field(
        description=f"Referred clients per referral source; every source is listed; {HIDDEN_NOTE}"
    )
