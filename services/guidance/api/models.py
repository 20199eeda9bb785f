"""Guidance's request and response models (one module for both, as in every service's
``api/models.py``). Over 400 lines because of the field descriptions and examples the
OpenAPI document shows.
Request models check the shape of a body; the rules are the domain's."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from contracts.guidance import (
    ActivationPlan,
    ClosureDecision,
    Continuation,
    FinalAssessment,
    JointDecision,
    Measure,
    Outcome,
    OutsideLabourForceReason,
    Phase,
)
from contracts.intake import Assessor, ClientProfile, Route
from runtime.answers import Written as Written  # one answer for both services
from runtime.field_docs import (
    CENTRE_MUNICIPALITIES,
    CLIENT_ID,
    MINISTRY_SEGMENT,
    MUNICIPALITY,
    PERSON_ID,
    RULE_SET,
    WAITING_DAYS,
)
from runtime.openapi_names import MUNICIPALITIES as NAMES_LIST
from runtime.openapi_names import MUNICIPALITY as NAMES_ONE
from runtime.requests import RequestModel
from runtime.strict_types import IsoDate, StrictDecimal, StrictFlag
from services.guidance.domain.case import Status

STATUS = (
    "waiting_for_guide, active (with a named guide), with_social_services (handed over, the "
    "relationship open), transferred_out (handed over, the relationship closed) or closed"
)


class TransferView(BaseModel):
    transfer_id: str = Field(
        description="The transfer's id; `opening` for a case opened with social services"
    )
    receiving_municipality: str = Field(
        description=f"Whose social services received the client: {MUNICIPALITY}"
    )
    transferred_on: date = Field(description="The day of the hand-over")
    stays_open: bool = Field(description="The centre's client relationship stays open meanwhile")
    accepted: bool | None = Field(
        description="Social services accepted (true) or declined; null until they answer"
    )
    acknowledged_on: date | None = Field(description="The day social services answered; null until then")
    returned_on: date | None = Field(description="The day the client came back to a guide; null if not back")


class Flags(BaseModel):
    plan_due: date | None = Field(
        description="The last day for the employment plan; null if made or none is due. Act 1369/2014: "
        "3 months from the referral (the mapping period); Act 381/2023: 3 months from the opening; "
        "the seed's rules set none"
    )
    plan_overdue: bool = Field(description="The plan's last day has passed without a plan")
    review_due: date | None = Field(
        description="The day the plan's next periodic review is due; null if none"
    )
    review_overdue: bool = Field(description="The review's day has passed without a review")
    transfer_unacknowledged: bool = Field(
        description="A hand-over to social services is still unanswered after the acknowledgement days"
    )


class ClosureProposalView(BaseModel):
    proposed_on: date = Field(description="The day the guide proposed the closure")
    proposed_by: str = Field(description=f"The proposing guide: {PERSON_ID}")
    outcome: Outcome = Field(description="The outcome proposed")
    services_continue: Continuation = Field(description="Where the guide proposes services continue")
    reason: str = Field(description="Why the need has ended; personal data")
    decision: ClosureDecision = Field(
        description="Who decides it under the rules of its date: guide (the seed: any who records "
        "closures, the proposer too) or joint_assessment (the 2015 and 2025 acts: the three "
        "authorities' joint decision, recorded by someone other than the proposer)"
    )


class CaseView(BaseModel):
    client_id: str = Field(description=CLIENT_ID)
    version: int = Field(ge=1, description="The case stream's version: how many events it has")
    municipality: str = Field(description=MUNICIPALITY)
    status: Status = Field(description=STATUS)
    opened_on: date = Field(description="The day the assessment routed the client into the centre")
    waiting_since: date = Field(description="Since when the case waits for a named guide, or for its step")
    waiting_days: int = Field(description=WAITING_DAYS)
    route: Route = Field(description="The route of the latest assessment or reassessment")
    profile: ClientProfile | None = Field(description="The client profile; null if none was agreed")
    ministry_segment: int | None = Field(ge=1, le=3, description=MINISTRY_SEGMENT)
    rule_set: str = Field(description=f"{RULE_SET}, by the opening date")
    guide: str | None = Field(description=f"The named guide: {PERSON_ID}; null if none yet")
    guide_role: str | None = Field(description="The guide's role: service_guide or employment_advisor")
    previous_guides: list[str] = Field(description="Guides before the current one, oldest first")
    phase: Phase = Field(description="The phase of service guidance the client is in")
    plan_revision: int = Field(ge=0, description="The employment plan's revision; 0 before the first plan")
    measures: list[Measure] = Field(description="The measures of the plan's latest revision")
    health_check: dict[str, Any] | None = Field(
        description="The shareable summary only: checked_on, work_restrictions_found, "
        "recommended_next_step; null if no health check"
    )
    transfers: list[TransferView] = Field(description="Hand-overs to social services, oldest first")
    reassessments: int = Field(ge=0, description="Reassessments made")
    closed_on: date | None = Field(description="The day the relationship closed; null while open")
    outcome: Outcome | None = Field(description="How the relationship ended; null while open")
    closure_proposal: ClosureProposalView | None = Field(
        description="The pending (or, once closed, the decided) closure proposal; null if none"
    )
    flags: Flags = Field(description="Deadlines and what is late")


GUIDE_ROLE = "The guide's role: employment_advisor or service_guide"
AREAS = (
    "The municipalities the guide covers (the named areas), each one of the centre's: "
    + CENTRE_MUNICIPALITIES
)


class GuideRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "person_id": "guide-1",
                    "name": "Sari Ohjaaja",
                    "role": "service_guide",
                    "areas": ["Mikkeli", "Hirvensalmi"],
                }
            ]
        }
    )

    person_id: str = Field(
        min_length=1, max_length=200, description=f"The guide: {PERSON_ID}", examples=["guide-1"]
    )
    name: str = Field(min_length=1, max_length=200, description="The guide's name", examples=["Sari Ohjaaja"])
    role: str = Field(
        pattern="^(employment_advisor|service_guide)$", description=GUIDE_ROLE, examples=["service_guide"]
    )
    areas: list[str] = Field(
        default_factory=list,
        max_length=20,
        description=AREAS,
        examples=[["Mikkeli"]],
        json_schema_extra=NAMES_LIST,
    )


class GuideView(BaseModel):
    person_id: str = Field(description=f"The guide: {PERSON_ID}")
    name: str = Field(description="The guide's name")
    role: str = Field(description=GUIDE_ROLE)
    areas: list[str] = Field(description=AREAS)
    caseload: int = Field(ge=0, description="Active clients the guide has now")
    caseload_limit: int = Field(
        description="The most active clients a guide should have (REITTI_CASELOAD_LIMIT)"
    )


class SuggestionView(BaseModel):
    guide: GuideView = Field(description="A guide who could take the client")
    covers_area: bool = Field(description="The guide covers the client's municipality")
    free_places: int = Field(description="Places left under the caseload limit (negative when over it)")


class AssignRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"guide_person_id": "guide-1", "assigned_on": "2026-03-20"}]}
    )

    guide_person_id: str = Field(
        min_length=1, max_length=200, description=f"The guide to assign: {PERSON_ID}", examples=["guide-1"]
    )
    assigned_on: IsoDate = Field(description="The day of the assignment", examples=["2026-03-20"])
    override_reason: str | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="A coordinator's reason for going over the guide's caseload limit; personal data",
    )


class MeasureGuideEntry(BaseModel):
    """One measure of the catalogue and when it is meant to be used."""

    kind: str = Field(description="The measure's code in the catalogue", examples=["job_coach"])
    name: str = Field(description="Its name", examples=["Job coach (työvalmentaja)"])
    when_to_use: str | None = Field(
        description="When it is meant to be used; null when the centre has not said (its own code)"
    )


class PhaseRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"phase": "survey_and_research", "changed_on": "2026-04-01"}]}
    )

    phase: Phase = Field(description="The phase of service guidance the client moves to")
    changed_on: IsoDate = Field(description="The day of the change", examples=["2026-04-01"])


class PlanRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "revised_on": "2026-04-01",
                    "measures": [
                        {
                            "measure_id": "m1",
                            "kind": "work_try_out",
                            "provider": "Vartti",
                            "start": "2026-04-01",
                            "end": "2026-06-30",
                            "status": "planned",
                        }
                    ],
                    "review": False,
                }
            ]
        }
    )

    revised_on: IsoDate = Field(description="The day of this revision of the plan", examples=["2026-04-01"])
    measures: list[Measure] = Field(max_length=50, description="All measures of the plan as revised")
    review: StrictFlag = Field(
        default=False, description="true when this revision is the plan's periodic review"
    )


class HealthCheckRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "checked_on": "2026-04-15",
                    "work_restrictions_found": True,
                    "recommended_next_step": "occupational health consultation",
                    "details": "Back pain since 2019; no lifting over 10 kg.",
                }
            ]
        }
    )

    checked_on: IsoDate = Field(description="The day of the health check", examples=["2026-04-15"])
    work_restrictions_found: StrictFlag = Field(
        description="The check found restrictions on work (shared with the team)"
    )
    recommended_next_step: str = Field(
        min_length=1,
        max_length=1000,
        description="What the nurse recommends next (shared with the team); personal data",
        examples=["occupational health consultation"],
    )
    details: str = Field(
        min_length=1, max_length=20_000, description="Stays in the health partition; personal data"
    )


class ActivationPlanRequest(ActivationPlan):
    """The activation plan's terms as a caller sends them: the hours a JSON number (the
    event keeps the contract's decimal, which reads its stored text form too)."""

    hours_per_day: StrictDecimal = Field(
        gt=0, le=24, description="Hours a day (a JSON number); the rules in force limit them", examples=[6]
    )

    def terms(self) -> ActivationPlan:
        return ActivationPlan.model_validate(self.model_dump())


class TransferRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "transferred_on": "2026-05-04",
                    "activation_plan": {
                        "start": "2026-05-11",
                        "months": 6,
                        "days_per_week": 4,
                        "hours_per_day": 6,
                        "place": "Vartti",
                    },
                    "relationship_stays_open": True,
                }
            ]
        }
    )

    transferred_on: IsoDate = Field(description="The day of the hand-over", examples=["2026-05-04"])
    receiving_municipality: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Whose social services receive the client (default: the client's municipality); "
        f"one of the centre's municipalities: {CENTRE_MUNICIPALITIES}",
        examples=["Mikkeli"],
        json_schema_extra=NAMES_ONE,
    )
    activation_plan: ActivationPlanRequest = Field(
        description="The terms of rehabilitative work activity (Act 189/2001)"
    )
    relationship_stays_open: StrictFlag = Field(
        description="The centre's client relationship stays open meanwhile"
    )


class TransferCreated(Written):
    transfer_id: str = Field(description="The transfer's id (for its acknowledgement and return)")


class AcknowledgementRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"accepted": True, "acknowledged_on": "2026-05-06"}]}
    )

    accepted: StrictFlag = Field(description="Social services accept (true) or decline the hand-over")
    reason: str | None = Field(
        default=None, max_length=1000, description="Why, notably when declining; personal data"
    )
    acknowledged_on: IsoDate = Field(description="The day of the answer", examples=["2026-05-06"])
    activation_plan: ActivationPlanRequest | None = Field(
        default=None,
        description="The activation plan agreed with the client, when accepting the hand-over the "
        "route opened (transfer 'opening'), which has none; refused for any other transfer",
    )


class ReturnRequest(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"returned_on": "2026-11-02"}]})

    returned_on: IsoDate = Field(
        description="The day the client comes back to a guide", examples=["2026-11-02"]
    )


class ReassessmentRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "reassessed_on": "2026-08-10",
                    "assessors": [
                        {"person_id": "guide-1", "role": "service_guide", "organisation": "mikkeli"},
                        {
                            "person_id": "sw-1",
                            "role": "social_worker",
                            "organisation": "social_services:mikkeli",
                        },
                    ],
                    "route": "rehabilitative_work_activity",
                    "reason": "No progress in six months; health limits work.",
                }
            ]
        }
    )

    reassessed_on: IsoDate = Field(description="The day of the reassessment", examples=["2026-08-10"])
    assessors: list[Assessor] = Field(
        min_length=2, max_length=2, description="The pair who reassessed, with the client's own social worker"
    )
    route: Route = Field(description="The route the reassessment gives; it may differ from the case's")
    reason: str = Field(
        min_length=1, max_length=4000, description="Why the case was reassessed; personal data"
    )


class ClosureRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "closed_on": "2026-09-30",
                    "outcome": "education",
                    "services_continue": "te_office",
                    "final_assessment": {
                        "text": "Starts vocational school in August.",
                        "work_ability_clarified": True,
                        "competence_improved": True,
                        "recommended_services": ["study guidance"],
                    },
                    "joint_decision": {
                        "decided_on": "2026-09-30",
                        "te_office_person_id": "advisor-1",
                        "municipality_person_id": "sw-1",
                        "kela_person_id": "kela-1",
                    },
                }
            ]
        }
    )

    closed_on: IsoDate = Field(description="The day the relationship closes", examples=["2026-09-30"])
    outcome: Outcome = Field(description="How the relationship ended")
    outside_labour_force_reason: OutsideLabourForceReason | None = Field(
        default=None, description="Required for outcome outside_labour_force: why"
    )
    services_continue: Continuation = Field(description="Where services continue after closure")
    follow_up_advisor_person_id: str | None = Field(
        default=None, max_length=200, description=f"Who follows the client up, if anyone: {PERSON_ID}"
    )
    final_assessment: FinalAssessment = Field(description="The final assessment (loppuarvio)")
    joint_decision: JointDecision | None = Field(
        default=None,
        description="The three authorities' joint decision that the need has ended, where the rules "
        "in force require one (a refusal says so)",
    )


class ClosureProposalRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "proposed_on": "2026-09-15",
                    "outcome": "education",
                    "services_continue": "te_office",
                    "reason": "Starts vocational school in August; no further need for the centre.",
                }
            ]
        }
    )

    proposed_on: IsoDate = Field(description="The day of the proposal", examples=["2026-09-15"])
    outcome: Outcome = Field(description="The outcome the guide proposes")
    services_continue: Continuation = Field(description="Where the guide proposes services continue")
    reason: str = Field(
        min_length=1,
        max_length=4000,
        description="Why the need for the centre's service has ended; personal data",
    )


class WaitingEntry(BaseModel):
    client_id: str = Field(description=CLIENT_ID)
    municipality: str = Field(description=MUNICIPALITY)
    route: Route = Field(description="The route that opened the case")
    waiting_since: date = Field(description="Since when the client waits for a named guide")
    waiting_days: int = Field(description=WAITING_DAYS)


class WorklistEntry(BaseModel):
    client_id: str = Field(description=CLIENT_ID)
    municipality: str = Field(description=MUNICIPALITY)
    status: Status = Field(description=STATUS)
    phase: Phase = Field(description="The phase of service guidance the client is in")
    guide: str | None = Field(description=f"The named guide: {PERSON_ID}; null if none yet")
    flags: Flags = Field(description="Deadlines and what is late")
