"""The statistics' response models (vastausmallit): what the API answers with and the
dashboard draws, a count None where disclosure control hides it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from runtime.field_docs import MUNICIPALITY_FILTER, PERSON_ID, YEAR_FILTER
from services.reporting import figures

#: A count, or None where statistical disclosure control hides it (docs/adr/0023).
HIDDEN_NOTE = (
    "null where hidden: fewer clients than the threshold (REITTI_MIN_CELL, default 3), or a "
    "figure that would give such a cell back by subtraction; only for roles without client access"
)
Count = int | None
#: the two buckets of a table of a subset and the rest of its whole
PART, REST = "part", "rest"


SHARE_OF_TARGET = (
    "New clients as a fraction of the target, four decimals; null where hidden or with no target"
)
YEAR = Field(description=YEAR_FILTER)
MUNICIPALITY_OR_ALL = Field(description=MUNICIPALITY_FILTER)


class IntakeRow(BaseModel):
    municipality: str = Field(description="One of the centre's municipalities")
    new_clients: Count = Field(description=f"New clients; {HIDDEN_NOTE}")
    target: int | None = Field(
        description="The municipality's part of the year's target: as set, or apportioned by population"
    )
    share_of_target: float | None = Field(ge=0, description=SHARE_OF_TARGET)


class IntakeAgainstTarget(BaseModel):
    year: int = Field(description="The calendar year")
    new_clients: Count = Field(description=f"New clients; {HIDDEN_NOTE}")
    target: int | None = Field(
        description="The steering group's intake target for the year in force on as_of; null: none set"
    )
    target_set_on: date | None = Field(description="When the target shown was set (IntakeTargetSet)")
    target_apportioned: bool | None = Field(
        description="true: the municipalities' targets are apportioned by population; false: set "
        "per municipality by the steering group; null: no target"
    )
    share_of_target: float | None = Field(ge=0, description=SHARE_OF_TARGET)
    municipalities: list[IntakeRow] = Field(description="The same per municipality")


class Shares(BaseModel):
    year: int | None = YEAR
    municipality: str | None = MUNICIPALITY_OR_ALL
    total: Count = Field(description=f"The total; {HIDDEN_NOTE}")
    counts: dict[str, Count] = Field(description=f"Counts per category; {HIDDEN_NOTE}")
    shares: dict[str, float | None] = Field(
        description="Fractions of the total, four decimals; null where the count or the total is hidden"
    )

    @classmethod
    def of(
        cls, counts: dict[str, Count], total: Count, *, year: int | None, municipality: str | None
    ) -> Shares:
        """The counts with their total and shares; a share only where both are shown."""
        fractions = {
            k: None if n is None or total is None else figures.share(n, total) or 0.0
            for k, n in counts.items()
        }
        return cls(year=year, municipality=municipality, total=total, counts=counts, shares=fractions)


class SubsidyDays(BaseModel):
    year: int | None = YEAR
    municipality: str | None = MUNICIPALITY_OR_ALL
    clients_with_known_days: Count = Field(
        description=f"Referred clients whose subsidy days are known; {HIDDEN_NOTE}"
    )
    over_500_days: Count = Field(description=f"Of those, clients with over 500 days; {HIDDEN_NOTE}")
    share_over_500_days: float | None = Field(
        ge=0, le=1, description="over_500_days of clients_with_known_days, four decimals; null where hidden"
    )


class GuideCaseload(BaseModel):
    guide_person_id: str = Field(description=f"The guide: {PERSON_ID}")
    active_clients: int = Field(ge=0, description="The guide's active clients")
    over_limit: bool = Field(description="More active clients than the limit")


class CaseloadBand(BaseModel):
    band: str = Field(description="Active clients per guide, for example `40-60`, or `over limit`")
    guides: int = Field(ge=0, description="How many guides have a caseload in the band")


class Caseloads(BaseModel):
    municipality: str | None = MUNICIPALITY_OR_ALL
    limit: int = Field(description="The caseload limit per guide")
    staff_shown: bool = Field(
        description="Whether guides are named: only for roles with access to client data; "
        "the others see the bands alone"
    )
    guides: list[GuideCaseload] = Field(description="Each guide's caseload; empty unless staff_shown")
    bands: list[CaseloadBand] = Field(
        description="How many guides in each band of the limit (services/rules/caseload.py), anonymous"
    )
    guides_over_limit: int = Field(ge=0, description="How many guides are over the limit")


class WaitingForGuide(BaseModel):
    year: int | None = Field(description="Year the relationship was opened; null for all years")
    municipality: str | None = MUNICIPALITY_OR_ALL
    clients: Count = Field(
        description="Relationships open now and waiting for a named guide (not with social "
        f"services); {HIDDEN_NOTE}"
    )


class Waiting(BaseModel):
    clients: Count = Field(description=HIDDEN_NOTE)
    median_days: float | None = Field(description="null also where the count of clients is hidden")
    mean_days: float | None = Field(description="null also where the count of clients is hidden")


class WaitingTimes(BaseModel):
    year: int | None = YEAR
    municipality: str | None = MUNICIPALITY_OR_ALL
    referral_to_assessment: Waiting = Field(description="Days from the referral to the assessment")
    assessment_to_named_guide: Waiting = Field(description="Days from the assessment to a named guide")


class Durations(BaseModel):
    year: int | None = YEAR
    municipality: str | None = MUNICIPALITY_OR_ALL
    closed: Count = Field(description=f"Client relationships closed; {HIDDEN_NOTE}")
    over_three_years: Count = Field(
        description=f"Of those, relationships that lasted over three years; {HIDDEN_NOTE}"
    )
    share_over_three_years: float | None = Field(
        ge=0, le=1, description="over_three_years of closed, four decimals; null where hidden"
    )


class Transfers(BaseModel):
    year: int | None = YEAR
    municipality: str | None = MUNICIPALITY_OR_ALL
    transferred_to_social_services: Count = Field(
        description=f"Transfers made in the year (municipality: the receiving one); {HIDDEN_NOTE}"
    )
    returned_from_social_services: Count = Field(description=f"Returns made in the year; {HIDDEN_NOTE}")
    by_state: dict[str, Count] = Field(
        description="Where the year's transfers stand now: returned, at_social_services, "
        "closed_while_there (the centre's relationship closed while the client was there), "
        f"declined. They add up to transferred_to_social_services; {HIDDEN_NOTE}"
    )


class DeadlineStatus(BaseModel):
    due: Count = Field(description=f"Deadlines due; {HIDDEN_NOTE}")
    met_on_time: Count = Field(description=f"Met on or before the last day; {HIDDEN_NOTE}")
    met_late: Count = Field(description=f"Met after the last day; {HIDDEN_NOTE}")
    overdue: Count = Field(description="Not met and past due on the as-of day")
    pending: Count = Field(description="Not met and not yet due on the as-of day")


class Deadlines(BaseModel):
    year: int | None = Field(description="Year of the due dates; null for all years")
    municipality: str | None = MUNICIPALITY_OR_ALL
    as_of: date = Field(description="The day counted as of")
    assessment: DeadlineStatus = Field(description="Assessment deadline under the rules of the referral date")
    plan: DeadlineStatus = Field(description="Plan deadline under the rules of the opening date")


class MunicipalCostRow(BaseModel):
    municipality: str = Field(description="One of the centre's municipalities")
    clients: Count = Field(description=HIDDEN_NOTE)
    paid_days: int | None = Field(description="null where the count of clients is hidden")
    municipal_cost: Decimal | None = Field(
        description="Euros, estimated; null where the count of clients is hidden"
    )


class CostBasis(BaseModel):
    rule_set: str = Field(description="The rule set in force for part of the year")
    statute: str = Field(description="Its act")
    in_force_from: date = Field(description="First day of the year it applies to")
    in_force_until: date = Field(description="Last day of the year (up to as_of) it applies to")
    municipal_share: str = Field(description="The municipality's share of the subsidy under it, in words")


class MunicipalCost(BaseModel):
    year: int = Field(description="The calendar year")
    as_of: date = Field(description="The day counted as of")
    daily_amount: Decimal = Field(ge=0, description="The labour-market subsidy per day assumed, in euros")
    assumption: str = Field(description="What the estimate assumes, in words")
    basis: list[CostBasis] = Field(description="The rule sets the year's days were costed by, in order")
    municipalities: list[MunicipalCostRow] = Field(description="The cost per municipality")
    total: Decimal | None = Field(description="null where the total count of clients is hidden")


class ServicesUsed(BaseModel):
    year: int | None = YEAR
    municipality: str = Field(description="One of the centre's municipalities")
    measures_by_kind: dict[str, Count] = Field(description=f"Plan measures per kind; {HIDDEN_NOTE}")
