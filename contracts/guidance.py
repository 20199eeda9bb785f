"""Events emitted by the guidance service: the client relationship from route to
closure (*palveluohjaus*), with transfers to municipal social services and back.

Guidance streams use the client's id from intake (``client-<uuid>``) in guidance's own
event store.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.base import EventBase, PersonalData, Side
from contracts.intake import Assessor, ClientProfile, Route
from contracts.names import TE_OFFICE
from contracts.strict import IsoDate, StrictCount, StrictFlag
from contracts.subjects import organisation_slug


class GuidanceClientEvent(EventBase):
    """An event of one client's guidance case; routed by the client's municipality."""

    producer: ClassVar[str] = "guidance"

    municipality: str = Field(min_length=1, max_length=100)

    def subject_side(self) -> Side:
        return Side.CENTRE

    def subject_organisation(self) -> str:
        return organisation_slug(self.municipality)


class Phase(StrEnum):
    """The five phases of service guidance."""

    REFERRAL = "referral"
    SURVEY_AND_RESEARCH = "survey_and_research"
    REHABILITATION_AND_GUIDANCE = "rehabilitation_and_guidance"
    COACHING_AND_EMPLOYMENT = "coaching_and_employment"
    CLOSURE = "closure"


#: The phases a phase change may move a case to: the closure phase begins with closing
#: the relationship itself (guidance's ``POST /cases/{client_id}/closure``).
MOVABLE_PHASES: tuple[Phase, ...] = tuple(p for p in Phase if p is not Phase.CLOSURE)


class GuidanceCaseOpened(GuidanceClientEvent):
    """An assessment routed the client into the centre: the relationship starts here."""

    event_type: ClassVar[str] = "GuidanceCaseOpened"

    opened_on: date
    route: Route
    profile: ClientProfile | None
    ministry_segment: int | None = Field(default=None, ge=1, le=3)
    handed_to_social_services: bool = Field(
        description="Route rehabilitative_work_activity: opened already handed to social services"
    )
    rule_set: str = Field(description="The rule set in force on the opening date")


class GuideAssigned(GuidanceClientEvent):
    """A named guide (*nimetty palveluohjaaja*) now coordinates the client's process.
    v2: the override reason is personal data (free text about the client's case;
    docs/adr/0020)."""

    event_type: ClassVar[str] = "GuideAssigned"
    schema_version: ClassVar[int] = 2

    guide_person_id: str = Field(min_length=1, max_length=200)
    guide_role: str = Field(min_length=1, max_length=100, examples=["service_guide", "employment_advisor"])
    previous_guide_person_id: str | None = None
    assigned_on: date
    over_limit_override_reason: Annotated[str | None, PersonalData()] = Field(
        default=None, max_length=500, description="A coordinator's reason for exceeding the caseload limit"
    )


class PhaseChanged(GuidanceClientEvent):
    event_type: ClassVar[str] = "PhaseChanged"

    phase: Phase
    changed_on: date


class MeasureStatus(StrEnum):
    """Where a measure of the plan stands."""

    PLANNED = "planned"
    ONGOING = "ongoing"
    COMPLETED = "completed"
    INTERRUPTED = "interrupted"
    CANCELLED = "cancelled"


class Measure(BaseModel):
    """One measure of the employment plan; ``kind`` is a code from the measure catalogue."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    measure_id: str = Field(
        min_length=1, max_length=100, description="The measure's id within the plan", examples=["m1"]
    )
    kind: str = Field(
        min_length=1,
        max_length=100,
        description="A code from the measure catalogue (a code it does not know is refused)",
        examples=["work_try_out"],
    )
    provider: Annotated[str, PersonalData()] = Field(
        min_length=1, max_length=200, description="Who provides it: personal data", examples=["Vartti"]
    )
    start: IsoDate = Field(description="The day it starts", examples=["2026-04-01"])
    end: IsoDate | None = Field(
        default=None,
        description="The day it ends, not before the start; null if open",
        examples=["2026-06-30"],
    )
    status: MeasureStatus = Field(default=MeasureStatus.PLANNED, description="Where the measure stands")

    @model_validator(mode="after")
    def _ends_after_start(self) -> Measure:
        if self.end is not None and self.end < self.start:
            raise ValueError("a measure cannot end before it starts")
        return self


class PlanRevised(GuidanceClientEvent):
    """A new revision of the (multi-sectoral) employment plan; earlier ones stay in the log.
    v2: each measure's ``provider`` is personal data (docs/adr/0020)."""

    event_type: ClassVar[str] = "PlanRevised"
    schema_version: ClassVar[int] = 2

    revision: int = Field(ge=1)
    revised_on: date
    measures: tuple[Measure, ...]
    review: bool = Field(description="True when this revision is the plan's periodic review")


class HealthCheckSummaryRecorded(GuidanceClientEvent):
    """What the team may know of the nurse's health check."""

    event_type: ClassVar[str] = "HealthCheckSummaryRecorded"

    checked_on: date
    work_restrictions_found: bool
    recommended_next_step: Annotated[str, PersonalData()] = Field(min_length=1, max_length=1000)


class HealthCheckDetailsRecorded(GuidanceClientEvent):
    """The health check's details: the health partition only (side ``health``)."""

    event_type: ClassVar[str] = "HealthCheckDetailsRecorded"

    checked_on: date
    details: Annotated[str, PersonalData()] = Field(min_length=1, max_length=20_000)

    def subject_side(self) -> Side:
        return Side.HEALTH


class ActivationPlan(BaseModel):
    """Terms of the activation plan for rehabilitative work activity (Act 189/2001)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: IsoDate = Field(description="The day the activity starts", examples=["2026-04-01"])
    months: StrictCount = Field(ge=1, le=60, description="How many months the plan runs", examples=[6])
    days_per_week: StrictCount = Field(
        ge=1,
        le=7,
        description="Days a week; the rules in force limit them (Act 189/2001: 1 to 4)",
        examples=[4],
    )
    hours_per_day: Decimal = Field(
        gt=0,
        le=24,
        description="Hours a day; the rules in force limit them and the week's hours",
        examples=[6],
    )
    place: Annotated[str, PersonalData()] = Field(
        min_length=1, max_length=200, description="Where the client works; personal data"
    )


class TransferredToSocialServices(GuidanceClientEvent):
    """Responsibility moves to the municipality's rehabilitative work activity
    (*kuntouttava työtoiminta*); the centre's relationship may stay open. v2: the
    activation plan's ``place`` is personal data (docs/adr/0020)."""

    event_type: ClassVar[str] = "TransferredToSocialServices"
    schema_version: ClassVar[int] = 2

    transfer_id: str = Field(min_length=1, max_length=100)
    receiving_municipality: str = Field(min_length=1, max_length=100)
    transferred_on: date
    activation_plan: ActivationPlan
    relationship_stays_open: bool


class TransferAcknowledged(GuidanceClientEvent):
    """The receiving social services accepted or declined the hand-over. v2: ``reason``
    is personal data (docs/adr/0020). v3: ``activation_plan``, the terms the receiving
    side agreed with the client for a hand-over the route opened (transfer ``opening``),
    which carries none of its own."""

    event_type: ClassVar[str] = "TransferAcknowledged"
    schema_version: ClassVar[int] = 3

    transfer_id: str = Field(min_length=1, max_length=100)
    accepted: bool
    reason: Annotated[str | None, PersonalData()] = Field(default=None, max_length=1000)
    acknowledged_on: date
    activation_plan: ActivationPlan | None = None


class ReturnedFromSocialServices(GuidanceClientEvent):
    """The client comes back from social services to a guide."""

    event_type: ClassVar[str] = "ReturnedFromSocialServices"

    transfer_id: str = Field(min_length=1, max_length=100)
    returned_on: date


class ReassessmentCompleted(GuidanceClientEvent):
    """A stalled case re-assessed with the client's own social worker; the route may change."""

    event_type: ClassVar[str] = "ReassessmentCompleted"

    reassessed_on: date
    assessors: tuple[Assessor, ...] = Field(min_length=2, max_length=2)
    previous_route: Route
    route: Route
    reason: Annotated[str, PersonalData()] = Field(min_length=1, max_length=4000)


class Outcome(StrEnum):
    """How a client relationship ended (the seed's categories)."""

    OPEN_LABOUR_MARKET = "open_labour_market"
    EDUCATION = "education"
    WAGE_SUBSIDISED_WORK = "wage_subsidised_work"
    OUTSIDE_LABOUR_FORCE = "outside_labour_force"
    UNEMPLOYED = "unemployed"
    INTERRUPTED = "interrupted"


class OutsideLabourForceReason(StrEnum):
    """Why a client who left the labour force did (outcome ``outside_labour_force``)."""

    PENSION = "pension"
    LONG_REHABILITATION = "long_rehabilitation"
    CARER = "carer"
    PARENTAL_LEAVE = "parental_leave"


class Continuation(StrEnum):
    """Where services continue after closure."""

    VAAKSA = "vaaksa"
    TE_OFFICE = "te_office"
    LIGHT_FOLLOW_UP = "light_follow_up"
    NONE = "none"


class JointDecision(BaseModel):
    """The three authorities' joint assessment that the need has ended (2015 and 2025 acts)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    decided_on: IsoDate = Field(description="The day of the joint decision", examples=["2026-09-30"])
    te_office_person_id: str = Field(
        min_length=1, max_length=200, description="The TE-office's decision maker (a person id)"
    )
    municipality_person_id: str = Field(
        min_length=1, max_length=200, description="The municipality's decision maker (a person id)"
    )
    kela_person_id: str = Field(
        min_length=1, max_length=200, description="Kela's decision maker (a person id)"
    )


class FinalAssessment(BaseModel):
    """The final assessment (*loppuarvio*): text plus structured fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: Annotated[str, PersonalData()] = Field(
        min_length=1, max_length=20_000, description="The final assessment's text; personal data"
    )
    work_ability_clarified: StrictFlag = Field(description="The client's work ability was clarified")
    competence_improved: StrictFlag = Field(description="The client's competence improved")
    recommended_services: tuple[str, ...] = Field(
        default=(),
        max_length=20,
        description="Services recommended after closure (free text, one per entry)",
        examples=[["vocational training"]],
    )


class ClosureDecision(StrEnum):
    """Who decides a closure under the rules in force (services/guidance/domain/closure.py)."""

    #: the seed (2010-2014): the guide decides, or proposes and another decides
    GUIDE = "guide"
    #: Acts 1369/2014 and 381/2023: the TE-office, the municipality and Kela jointly assess
    JOINT_ASSESSMENT = "joint_assessment"


class ClosureProposed(GuidanceClientEvent):
    """The guide proposes to end the client relationship (*päättämisesitys*): under the
    seed the guide may instead decide at once; under the 2015 and 2025 acts the proposal
    goes to the three authorities' joint assessment, which someone other than the
    proposer records as the closure. A new proposal replaces a pending one."""

    event_type: ClassVar[str] = "ClosureProposed"

    proposed_on: date
    outcome: Outcome = Field(description="The outcome the guide proposes")
    services_continue: Continuation = Field(description="Where the guide proposes services continue")
    reason: Annotated[str, PersonalData()] = Field(
        min_length=1, max_length=4000, description="Why the need for the centre's service has ended"
    )
    rule_set: str = Field(description="The rule set in force on the proposal's date")
    decision: ClosureDecision = Field(description="Who decides it under that rule set")


class ClientRelationshipClosed(GuidanceClientEvent):
    """The client relationship ended, with its final assessment and outcome. v2: the
    proposal it decided, if any (``proposed_on``, ``proposed_by_person_id``); the event's
    actor is who recorded the decision."""

    event_type: ClassVar[str] = "ClientRelationshipClosed"
    schema_version: ClassVar[int] = 2

    closed_on: date
    outcome: Outcome
    outside_labour_force_reason: OutsideLabourForceReason | None = None
    services_continue: Continuation
    follow_up_advisor_person_id: str | None = None
    final_assessment: FinalAssessment
    joint_decision: JointDecision | None = None
    rule_set: str
    months_in_relationship: int = Field(ge=0)
    proposed_on: date | None = Field(
        default=None, description="The day of the proposal decided; null if none"
    )
    proposed_by_person_id: str | None = Field(
        default=None, max_length=200, description="Who proposed the closure (a person id); null if none"
    )


class FinalAssessmentIssued(GuidanceClientEvent):
    """The final assessment for the TE-office's URA, on the TE-office's feed (side ``te``)."""

    event_type: ClassVar[str] = "FinalAssessmentIssued"

    personal_identity_code: Annotated[str, PersonalData()]
    closed_on: date
    outcome: Outcome
    outside_labour_force_reason: OutsideLabourForceReason | None = None
    services_continue: Continuation
    follow_up_advisor_person_id: str | None = None
    final_assessment: FinalAssessment

    def subject_side(self) -> Side:
        return Side.TE

    def subject_organisation(self) -> str:
        return TE_OFFICE
