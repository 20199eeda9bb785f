"""Guidance's HTTP API. Errors as in intake: 422 field and reason; 404 unknown case or
guide; 403 a role or organisation that may not do this; 409 a rule's refusal, or a
concurrent change with ``retryable: true``. Nothing is written on any error."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from typing import Annotated, Any
from uuid import uuid4

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from contracts.base import Actor
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
from runtime import clock
from runtime.access import Permission, require
from runtime.config import DEFAULT_MUNICIPALITIES
from runtime.field_docs import (
    CENTRE_MUNICIPALITIES,
    CLIENT_ID,
    EVENT_IDS,
    MINISTRY_SEGMENT,
    MUNICIPALITY,
    PERSON_ID,
    RULE_SET,
    STREAM_VERSION,
    WAITING_DAYS,
)
from runtime.http import Purpose, Responses, access_log, context
from runtime.known_names import municipality_at
from runtime.openapi_names import MUNICIPALITIES as NAMES_LIST
from runtime.openapi_names import MUNICIPALITY as NAMES_ONE
from runtime.purposes import ReadPurpose
from runtime.requests import RequestModel, no_nul_in_parameters
from runtime.strict_types import IsoDate, StrictDecimal, StrictFlag
from services.disclosure.policy import Crossing, Kind, decide, ensure
from services.guidance.application import GuidanceService
from services.guidance.application import Outcome as Written_
from services.guidance.domain import closure, guides, health, plan, transfer
from services.guidance.domain.case import GuidanceCase, Status, disclosure_client

Reads = Annotated[Actor, Depends(require(Permission.GUIDANCE_READ))]
ManagesGuides = Annotated[Actor, Depends(require(Permission.GUIDES_MANAGE))]
Assigns = Annotated[Actor, Depends(require(Permission.GUIDE_ASSIGN))]
Plans = Annotated[Actor, Depends(require(Permission.PLAN_REVISE))]
RecordsHealth = Annotated[Actor, Depends(require(Permission.HEALTH_RECORD))]
ReadsHealth = Annotated[Actor, Depends(require(Permission.HEALTH_READ))]
Transfers = Annotated[Actor, Depends(require(Permission.TRANSFER_MAKE))]
Acknowledges = Annotated[Actor, Depends(require(Permission.TRANSFER_ACKNOWLEDGE))]
Returns = Annotated[Actor, Depends(require(Permission.TRANSFER_RETURN))]
Reassesses = Annotated[Actor, Depends(require(Permission.REASSESSMENT_RECORD))]
Closes = Annotated[Actor, Depends(require(Permission.CLOSURE_RECORD))]
Proposes = Annotated[Actor, Depends(require(Permission.CLOSURE_PROPOSE))]
ERRORS: Responses = {
    403: {"description": "The caller's role or organisation may not do this"},
    404: {"description": "No such case or guide"},
    409: {"description": "Refused by a rule, or a concurrent change (retryable)"},
}


ClientIdPath = Annotated[str, Path(description=CLIENT_ID)]
TransferIdPath = Annotated[str, Path(description="The transfer's id, as POST .../transfers answered it")]


def service(request: Request) -> GuidanceService:
    svc: GuidanceService = request.app.state.guidance
    return svc


Service = Annotated[GuidanceService, Depends(service)]


class Written(BaseModel):
    """What a command wrote."""

    client_id: str = Field(description=CLIENT_ID)
    stream_version: int = Field(ge=1, description=STREAM_VERSION)
    event_ids: list[str] = Field(description=EVENT_IDS)


def written(outcome: Written_) -> Written:
    return Written(
        client_id=outcome.state.client_id,
        stream_version=outcome.state.version,
        event_ids=[str(e.event_id) for e in outcome.events],
    )


# --- views ------------------------------------------------------------------------------------


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


def case_view(
    state: GuidanceCase, today: date, *, acknowledgement_days: int, referral_date: date | None = None
) -> CaseView:
    due = plan.deadlines(state, today, referral_date=referral_date)
    return CaseView(
        client_id=state.client_id,
        version=state.version,
        municipality=state.municipality,
        status=state.status,
        opened_on=state.opened_on,
        waiting_since=state.waiting_since,
        # a closed relationship waits no longer: its count stops on the closure's date
        waiting_days=waiting_days(state.waiting_since, min(today, state.closed_on or today)),
        route=state.route,
        profile=state.profile,
        ministry_segment=state.ministry_segment,
        rule_set=state.rule_set,
        guide=state.guide,
        guide_role=state.guide_role,
        previous_guides=list(state.guides_before),
        phase=state.phase,
        plan_revision=state.plan_revision,
        measures=list(state.measures),
        health_check=None
        if state.health is None
        else {
            "checked_on": state.health.checked_on,
            "work_restrictions_found": state.health.work_restrictions_found,
            "recommended_next_step": state.health.recommended_next_step,
        },
        transfers=[TransferView(**t.__dict__) for t in state.transfers],
        reassessments=state.reassessments,
        closed_on=state.closed_on,
        outcome=state.outcome,
        closure_proposal=None
        if state.closure_proposal is None
        else ClosureProposalView(**state.closure_proposal.__dict__),
        flags=Flags(
            plan_due=due.plan_due,
            plan_overdue=due.plan_overdue,
            review_due=due.review_due,
            review_overdue=due.review_overdue,
            transfer_unacknowledged=transfer.unacknowledged(state, today, within_days=acknowledgement_days)
            is not None,
        ),
    )


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


WaitingAsOf = Annotated[
    IsoDate | None,
    Query(
        description="The day the waits are counted to, YYYY-MM-DD (default: today, the business date "
        "in Finland). The list holds the clients who wait for a named guide now and whose wait "
        "began on or before that day; a closed case, or one with a guide, is never listed"
    ),
]


def waiting_days(since: date, as_of: date) -> int:
    """Whole days from the business date a wait began to ``as_of`` (none before it began)."""
    return max(0, (as_of - since).days)


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


def guide_view(g: guides.Guide, limit: int) -> GuideView:
    return GuideView(
        person_id=g.person_id,
        name=g.name,
        role=g.role,
        areas=list(g.areas),
        caseload=g.caseload,
        caseload_limit=limit,
    )


def router(
    *,
    catalogue: Mapping[str, str],
    acknowledgement_days: int,
    municipalities: Collection[str] = DEFAULT_MUNICIPALITIES,
) -> APIRouter:
    clock.zone()  # an unknown REITTI_TIME_ZONE fails here, at start-up, not in a request
    api = APIRouter(dependencies=[Depends(no_nul_in_parameters)])

    def today() -> date:
        return clock.today()

    async def readable(request: Request, svc: GuidanceService, actor: Actor, state: GuidanceCase) -> bool:
        """Whether the disclosure policy lets ``actor`` read this case (raise nothing)."""
        async with request.app.state.host.pool.acquire() as conn:
            consents = await svc.repo.consents(conn, state.client_id)
        crossing = Crossing(Kind.GUIDANCE_CASE)
        return decide(actor, crossing, disclosure_client(state, consents), on=(today(),)).allowed

    async def read_case(
        request: Request, svc: GuidanceService, actor: Actor, client_id: str, kind: Kind = Kind.GUIDANCE_CASE
    ) -> GuidanceCase:
        """The case, if the disclosure policy lets ``actor`` read it (else 403 saying why)."""
        state = await svc.get(client_id)
        async with request.app.state.host.pool.acquire() as conn:
            consents = await svc.repo.consents(conn, client_id)
        ensure(decide(actor, Crossing(kind), disclosure_client(state, consents), on=(today(),)))
        return state

    async def cases(
        request: Request, svc: GuidanceService, actor: Actor, why: ReadPurpose, what: str, **filters: Any
    ) -> list[GuidanceCase]:
        """Open cases, leaving out those the disclosure policy does not let ``actor`` read."""
        async with request.app.state.host.pool.acquire() as conn:
            ids = await svc.repo.open_case_ids(conn, **filters)
            loaded = [await svc.repo.load(conn, i) for i in ids]
        found = [c for c in loaded if c is not None and await readable(request, svc, actor, c)]
        await access_log(request).record(actor, [c.client_id for c in found], what=what, purpose=why)
        return found

    @api.get(
        "/waiting",
        response_model=list[WaitingEntry],
        tags=["guides"],
        summary="Clients waiting for a named guide, longest first, their waits counted to as_of",
    )
    async def waiting(
        request: Request, actor: Reads, why: Purpose, svc: Service, as_of: WaitingAsOf = None
    ) -> list[WaitingEntry]:
        day = as_of or today()
        return [
            WaitingEntry(
                client_id=c.client_id,
                municipality=c.municipality,
                route=c.route,
                waiting_since=c.waiting_since,
                waiting_days=waiting_days(c.waiting_since, day),
            )
            for c in await cases(
                request, svc, actor, why, "guidance waiting list", status=Status.WAITING_FOR_GUIDE.value
            )
            if c.waiting_since <= day
        ]

    @api.get(
        "/worklist",
        response_model=list[WorklistEntry],
        tags=["guides"],
        summary="Open cases with their overdue flags, for one guide or all",
    )
    async def worklist(
        request: Request,
        actor: Reads,
        why: Purpose,
        svc: Service,
        guide: Annotated[
            str | None, Query(max_length=200, description="Only this guide's clients (a person id)")
        ] = None,
    ) -> list[WorklistEntry]:
        now = today()
        entries = []
        found = await cases(request, svc, actor, why, "guidance worklist", guide=guide)
        async with request.app.state.host.pool.acquire() as conn:
            referred = await svc.repo.referral_dates(conn, [c.client_id for c in found])
        for c in found:
            flags = case_view(
                c, now, acknowledgement_days=acknowledgement_days, referral_date=referred.get(c.client_id)
            ).flags
            entries.append(
                WorklistEntry(
                    client_id=c.client_id,
                    municipality=c.municipality,
                    status=c.status,
                    phase=c.phase,
                    guide=c.guide,
                    flags=flags,
                )
            )
        return entries

    @api.post(
        "/guides",
        response_model=GuideView,
        status_code=201,
        tags=["guides"],
        summary="Add or update a named guide and the municipality areas they cover",
    )
    async def add_guide(
        body: GuideRequest, request: Request, actor: ManagesGuides, svc: Service
    ) -> GuideView:
        # areas are the centre's municipalities, spelled as configured: a suggestion
        # matches a client's municipality against them (ADR 0027)
        areas = list(
            dict.fromkeys(
                municipality_at(area, municipalities, "body", "areas", i) for i, area in enumerate(body.areas)
            )
        )
        async with request.app.state.host.pool.acquire() as conn:
            g = await svc.repo.add_guide(
                conn, person_id=body.person_id, name=body.name, role=body.role, areas=areas
            )
        return guide_view(g, svc.caseload_limit)

    @api.get("/guides", response_model=list[GuideView], tags=["guides"], summary="Guides and their caseloads")
    async def list_guides(request: Request, actor: Reads, svc: Service) -> list[GuideView]:
        async with request.app.state.host.pool.acquire() as conn:
            return [guide_view(g, svc.caseload_limit) for g in await svc.repo.guides(conn)]

    @api.get(
        "/measure-catalogue",
        response_model=dict[str, str],
        tags=["plan"],
        summary="The measures a plan may contain (configuration)",
    )
    async def measure_catalogue(actor: Reads) -> dict[str, str]:
        return dict(catalogue)

    @api.get(
        "/cases/{client_id}",
        response_model=CaseView,
        tags=["cases"],
        responses=ERRORS,
        summary="One guidance case with its deadlines and flags",
    )
    async def get_case(
        client_id: ClientIdPath, actor: Reads, why: Purpose, svc: Service, request: Request
    ) -> CaseView:
        state = await read_case(request, svc, actor, client_id)
        await access_log(request).record(actor, [client_id], what="guidance case", purpose=why)
        async with request.app.state.host.pool.acquire() as conn:
            referred = await svc.repo.referral_dates(conn, [client_id])
        return case_view(
            state, today(), acknowledgement_days=acknowledgement_days, referral_date=referred.get(client_id)
        )

    @api.get(
        "/cases/{client_id}/guide-suggestions",
        response_model=list[SuggestionView],
        tags=["guides"],
        responses=ERRORS,
        summary="Guides for this client: their area first, lightest caseload next",
    )
    async def suggestions(
        client_id: ClientIdPath, request: Request, actor: Reads, why: Purpose, svc: Service
    ) -> list[SuggestionView]:
        case = await read_case(request, svc, actor, client_id)
        await access_log(request).record(actor, [client_id], what="client's municipality", purpose=why)
        async with request.app.state.host.pool.acquire() as conn:
            all_guides = await svc.repo.guides(conn)
        return [
            SuggestionView(
                guide=guide_view(s.guide, svc.caseload_limit),
                covers_area=s.covers_area,
                free_places=s.free_places,
            )
            for s in guides.suggest_guides(all_guides, case.municipality, limit=svc.caseload_limit)
        ]

    @api.post(
        "/cases/{client_id}/guide",
        response_model=Written,
        tags=["guides"],
        responses=ERRORS,
        summary="Assign (or reassign) the named guide; the caseload limit holds unless overridden",
    )
    async def assign(client_id: ClientIdPath, body: AssignRequest, actor: Assigns, svc: Service) -> Written:
        return written(
            await svc.assign(
                client_id,
                body.guide_person_id,
                assigned_on=body.assigned_on,
                override_reason=body.override_reason,
                ctx=context(actor),
            )
        )

    @api.post(
        "/cases/{client_id}/phase",
        response_model=Written,
        tags=["plan"],
        responses=ERRORS,
        summary="Move the case to another phase",
    )
    async def phase(client_id: ClientIdPath, body: PhaseRequest, actor: Plans, svc: Service) -> Written:
        ctx = context(actor)
        return written(
            await svc.execute(
                client_id, lambda s: plan.change_phase(s, body.phase, changed_on=body.changed_on, ctx=ctx)
            )
        )

    @api.post(
        "/cases/{client_id}/plan",
        response_model=Written,
        tags=["plan"],
        responses=ERRORS,
        summary="Draw up or revise (review) the employment plan; revisions keep history",
    )
    async def revise(client_id: ClientIdPath, body: PlanRequest, actor: Plans, svc: Service) -> Written:
        ctx = context(actor)
        return written(
            await svc.execute(
                client_id,
                lambda s: plan.revise_plan(
                    s,
                    body.measures,
                    revised_on=body.revised_on,
                    review=body.review,
                    catalogue=catalogue,
                    ctx=ctx,
                ),
            )
        )

    @api.post(
        "/cases/{client_id}/health-check",
        response_model=Written,
        tags=["health"],
        responses=ERRORS,
        summary="The nurse records a health check: a summary for the team, details for health staff",
    )
    async def health_check(
        client_id: ClientIdPath, body: HealthCheckRequest, actor: RecordsHealth, svc: Service
    ) -> Written:
        ctx = context(actor)
        return written(
            await svc.execute(
                client_id,
                lambda s: health.record_health_check(
                    s,
                    checked_on=body.checked_on,
                    work_restrictions_found=body.work_restrictions_found,
                    recommended_next_step=body.recommended_next_step,
                    details=body.details,
                    ctx=ctx,
                ),
            )
        )

    @api.get(
        "/cases/{client_id}/health-details",
        response_model=list[dict[str, Any]],
        tags=["health"],
        responses=ERRORS,
        summary="Health check details: health staff only",
    )
    async def health_details(
        client_id: ClientIdPath, request: Request, actor: ReadsHealth, why: Purpose, svc: Service
    ) -> list[dict[str, Any]]:
        await read_case(request, svc, actor, client_id, Kind.HEALTH_DETAILS)
        await access_log(request).record(actor, [client_id], what="health check details", purpose=why)
        async with request.app.state.host.pool.acquire() as conn:
            found = await svc.repo.health_details(conn, client_id)
        return [{"checked_on": e.checked_on, "details": e.details} for e in found]

    @api.post(
        "/cases/{client_id}/transfers",
        response_model=TransferCreated,
        status_code=201,
        tags=["transfers"],
        responses=ERRORS,
        summary="Transfer to the municipality's rehabilitative work activity",
    )
    async def transfer_out(
        client_id: ClientIdPath, body: TransferRequest, actor: Transfers, svc: Service
    ) -> TransferCreated:
        receiving = body.receiving_municipality
        if receiving is not None:
            receiving = municipality_at(receiving, municipalities, "body", "receiving_municipality")
        ctx = context(actor)
        transfer_id = f"transfer-{uuid4()}"
        outcome = await svc.disclosing(
            client_id,
            lambda s, consents: transfer.transfer(
                s,
                transfer_id=transfer_id,
                receiving_municipality=receiving or s.municipality,
                transferred_on=body.transferred_on,
                plan=body.activation_plan.terms(),
                stays_open=body.relationship_stays_open,
                consents=consents,
                centre=municipalities,
                ctx=ctx,
            ),
        )
        return TransferCreated(**written(outcome).model_dump(), transfer_id=transfer_id)

    @api.post(
        "/cases/{client_id}/transfers/{transfer_id}/acknowledgement",
        response_model=Written,
        tags=["transfers"],
        responses=ERRORS,
        summary="The receiving social services accept or decline the hand-over",
    )
    async def acknowledge(
        client_id: ClientIdPath,
        transfer_id: TransferIdPath,
        body: AcknowledgementRequest,
        actor: Acknowledges,
        svc: Service,
    ) -> Written:
        ctx = context(actor)
        return written(
            await svc.execute(
                client_id,
                lambda s: transfer.acknowledge(
                    s,
                    transfer_id=transfer_id,
                    accepted=body.accepted,
                    reason=body.reason,
                    acknowledged_on=body.acknowledged_on,
                    ctx=ctx,
                    plan=body.activation_plan.terms() if body.activation_plan else None,
                ),
            )
        )

    @api.post(
        "/cases/{client_id}/transfers/{transfer_id}/return",
        response_model=Written,
        tags=["transfers"],
        responses=ERRORS,
        summary="The client returns from social services",
    )
    async def return_back(
        client_id: ClientIdPath,
        transfer_id: TransferIdPath,
        body: ReturnRequest,
        actor: Returns,
        svc: Service,
    ) -> Written:
        ctx = context(actor)
        return written(
            await svc.execute(
                client_id,
                lambda s: transfer.return_from_social_services(
                    s, transfer_id=transfer_id, returned_on=body.returned_on, ctx=ctx
                ),
            )
        )

    @api.post(
        "/cases/{client_id}/reassessment",
        response_model=Written,
        tags=["cases"],
        responses=ERRORS,
        summary="Re-assess a stalled case with the client's own social worker",
    )
    async def reassess(
        client_id: ClientIdPath, body: ReassessmentRequest, actor: Reassesses, svc: Service
    ) -> Written:
        ctx = context(actor)
        return written(
            await svc.execute(
                client_id,
                lambda s: closure.reassess(
                    s,
                    reassessed_on=body.reassessed_on,
                    assessors=body.assessors,
                    route=body.route,
                    reason=body.reason,
                    ctx=ctx,
                ),
            )
        )

    @api.post(
        "/cases/{client_id}/closure-proposal",
        response_model=Written,
        tags=["cases"],
        responses=ERRORS,
        summary="The named guide proposes the closure; the rules in force say who decides it",
    )
    async def propose_closure(
        client_id: ClientIdPath, body: ClosureProposalRequest, actor: Proposes, svc: Service
    ) -> Written:
        ctx = context(actor)
        command = closure.ProposeClosure(**body.model_dump())
        return written(await svc.execute(client_id, lambda s: closure.propose(s, command, ctx=ctx)))

    @api.post(
        "/cases/{client_id}/closure",
        response_model=Written,
        tags=["cases"],
        responses=ERRORS,
        summary="Decide the closure with the final assessment (also issued to the TE-office): the "
        "guide under the seed; from 2015 the joint decision on the guide's proposal, recorded by "
        "another than the proposer",
    )
    async def close(client_id: ClientIdPath, body: ClosureRequest, actor: Closes, svc: Service) -> Written:
        command = closure.CloseRelationship(
            **body.model_dump(exclude={"final_assessment", "joint_decision"}),
            final_assessment=body.final_assessment,
            joint_decision=body.joint_decision,
        )
        return written(await svc.close(client_id, command, context(actor)))

    return api
