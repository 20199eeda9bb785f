"""Guidance's HTTP API. Errors as in intake: 422 field and reason; 404 unknown case or
guide; 403 a role or organisation that may not do this; 409 a rule's refusal, or a
concurrent change with ``retryable: true``. Nothing is written on any error."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from typing import Annotated, Any
from uuid import uuid4

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from contracts.base import Actor
from contracts.guidance import (
    ActivationPlan,
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
from runtime.http import Purpose, Responses, access_log, context
from runtime.requests import RequestModel, no_nul_in_parameters
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
ERRORS: Responses = {
    403: {"description": "The caller's role or organisation may not do this"},
    404: {"description": "No such case or guide"},
    409: {"description": "Refused by a rule, or a concurrent change (retryable)"},
}


def service(request: Request) -> GuidanceService:
    svc: GuidanceService = request.app.state.guidance
    return svc


Service = Annotated[GuidanceService, Depends(service)]


class Written(BaseModel):
    client_id: str
    stream_version: int
    event_ids: list[str]


def written(outcome: Written_) -> Written:
    return Written(
        client_id=outcome.state.client_id,
        stream_version=outcome.state.version,
        event_ids=[str(e.event_id) for e in outcome.events],
    )


# --- views ------------------------------------------------------------------------------------


class TransferView(BaseModel):
    transfer_id: str
    receiving_municipality: str
    transferred_on: date
    stays_open: bool
    accepted: bool | None
    acknowledged_on: date | None
    returned_on: date | None


class Flags(BaseModel):
    plan_due: date | None
    plan_overdue: bool
    review_due: date | None
    review_overdue: bool
    transfer_unacknowledged: bool


class CaseView(BaseModel):
    client_id: str
    version: int
    municipality: str
    status: Status
    opened_on: date
    waiting_since: date
    waiting_days: int
    route: Route
    profile: ClientProfile | None
    ministry_segment: int | None
    rule_set: str
    guide: str | None
    guide_role: str | None
    previous_guides: list[str]
    phase: Phase
    plan_revision: int
    measures: list[Measure]
    health_check: dict[str, Any] | None = Field(description="The shareable summary only")
    transfers: list[TransferView]
    reassessments: int
    closed_on: date | None
    outcome: Outcome | None
    flags: Flags


def case_view(state: GuidanceCase, today: date, *, acknowledgement_days: int) -> CaseView:
    due = plan.deadlines(state, today)
    return CaseView(
        client_id=state.client_id,
        version=state.version,
        municipality=state.municipality,
        status=state.status,
        opened_on=state.opened_on,
        waiting_since=state.waiting_since,
        waiting_days=(today - state.waiting_since).days,
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
        flags=Flags(
            plan_due=due.plan_due,
            plan_overdue=due.plan_overdue,
            review_due=due.review_due,
            review_overdue=due.review_overdue,
            transfer_unacknowledged=transfer.unacknowledged(state, today, within_days=acknowledgement_days)
            is not None,
        ),
    )


class GuideRequest(RequestModel):
    person_id: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=200)
    role: str = Field(pattern="^(employment_advisor|service_guide)$")
    areas: list[str] = Field(default_factory=list, max_length=20, description="Municipalities they cover")


class GuideView(BaseModel):
    person_id: str
    name: str
    role: str
    areas: list[str]
    caseload: int
    caseload_limit: int


class SuggestionView(BaseModel):
    guide: GuideView
    covers_area: bool
    free_places: int


class AssignRequest(RequestModel):
    guide_person_id: str = Field(min_length=1, max_length=200)
    assigned_on: date
    override_reason: str | None = Field(default=None, min_length=1, max_length=500)


class PhaseRequest(RequestModel):
    phase: Phase
    changed_on: date


class PlanRequest(RequestModel):
    revised_on: date
    measures: list[Measure] = Field(max_length=50)
    review: bool = False


class HealthCheckRequest(RequestModel):
    checked_on: date
    work_restrictions_found: bool
    recommended_next_step: str = Field(min_length=1, max_length=1000)
    details: str = Field(min_length=1, max_length=20_000, description="Stays in the health partition")


class TransferRequest(RequestModel):
    transferred_on: date
    receiving_municipality: str | None = Field(default=None, description="Default: the client's municipality")
    activation_plan: ActivationPlan
    relationship_stays_open: bool


class TransferCreated(Written):
    transfer_id: str


class AcknowledgementRequest(RequestModel):
    accepted: bool
    reason: str | None = Field(default=None, max_length=1000)
    acknowledged_on: date
    activation_plan: ActivationPlan | None = Field(
        default=None,
        description="The activation plan agreed with the client, when accepting the hand-over the "
        "route opened (transfer 'opening'), which has none; refused for any other transfer",
    )


class ReturnRequest(RequestModel):
    returned_on: date


class ReassessmentRequest(RequestModel):
    reassessed_on: date
    assessors: list[Assessor] = Field(min_length=2, max_length=2)
    route: Route
    reason: str = Field(min_length=1, max_length=4000)


class ClosureRequest(RequestModel):
    closed_on: date
    outcome: Outcome
    outside_labour_force_reason: OutsideLabourForceReason | None = None
    services_continue: Continuation
    follow_up_advisor_person_id: str | None = Field(default=None, max_length=200)
    final_assessment: FinalAssessment
    joint_decision: JointDecision | None = None


class WaitingEntry(BaseModel):
    client_id: str
    municipality: str
    route: Route
    waiting_since: date
    waiting_days: int


class WorklistEntry(BaseModel):
    client_id: str
    municipality: str
    status: Status
    phase: Phase
    guide: str | None
    flags: Flags


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
    *, catalogue: Mapping[str, str], acknowledgement_days: int, municipalities: Collection[str] = ()
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
        request: Request, svc: GuidanceService, actor: Actor, why: str, what: str, **filters: Any
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
        summary="Clients waiting for a named guide, longest first",
    )
    async def waiting(request: Request, actor: Reads, why: Purpose, svc: Service) -> list[WaitingEntry]:
        now = today()
        return [
            WaitingEntry(
                client_id=c.client_id,
                municipality=c.municipality,
                route=c.route,
                waiting_since=c.waiting_since,
                waiting_days=(now - c.waiting_since).days,
            )
            for c in await cases(
                request, svc, actor, why, "guidance waiting list", status=Status.WAITING_FOR_GUIDE.value
            )
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
        guide: Annotated[str | None, Query(max_length=200)] = None,
    ) -> list[WorklistEntry]:
        now = today()
        entries = []
        for c in await cases(request, svc, actor, why, "guidance worklist", guide=guide):
            flags = case_view(c, now, acknowledgement_days=acknowledgement_days).flags
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
        async with request.app.state.host.pool.acquire() as conn:
            g = await svc.repo.add_guide(
                conn, person_id=body.person_id, name=body.name, role=body.role, areas=body.areas
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
        client_id: str, actor: Reads, why: Purpose, svc: Service, request: Request
    ) -> CaseView:
        state = await read_case(request, svc, actor, client_id)
        await access_log(request).record(actor, [client_id], what="guidance case", purpose=why)
        return case_view(state, today(), acknowledgement_days=acknowledgement_days)

    @api.get(
        "/cases/{client_id}/guide-suggestions",
        response_model=list[SuggestionView],
        tags=["guides"],
        responses=ERRORS,
        summary="Guides for this client: their area first, lightest caseload next",
    )
    async def suggestions(
        client_id: str, request: Request, actor: Reads, why: Purpose, svc: Service
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
    async def assign(client_id: str, body: AssignRequest, actor: Assigns, svc: Service) -> Written:
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
    async def phase(client_id: str, body: PhaseRequest, actor: Plans, svc: Service) -> Written:
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
    async def revise(client_id: str, body: PlanRequest, actor: Plans, svc: Service) -> Written:
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
        client_id: str, body: HealthCheckRequest, actor: RecordsHealth, svc: Service
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
        client_id: str, request: Request, actor: ReadsHealth, why: Purpose, svc: Service
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
        client_id: str, body: TransferRequest, actor: Transfers, svc: Service
    ) -> TransferCreated:
        ctx = context(actor)
        transfer_id = f"transfer-{uuid4()}"
        outcome = await svc.disclosing(
            client_id,
            lambda s, consents: transfer.transfer(
                s,
                transfer_id=transfer_id,
                receiving_municipality=body.receiving_municipality or s.municipality,
                transferred_on=body.transferred_on,
                plan=body.activation_plan,
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
        client_id: str, transfer_id: str, body: AcknowledgementRequest, actor: Acknowledges, svc: Service
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
                    plan=body.activation_plan,
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
        client_id: str, transfer_id: str, body: ReturnRequest, actor: Returns, svc: Service
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
    async def reassess(client_id: str, body: ReassessmentRequest, actor: Reassesses, svc: Service) -> Written:
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
        "/cases/{client_id}/closure",
        response_model=Written,
        tags=["cases"],
        responses=ERRORS,
        summary="Close the relationship with the final assessment (also issued to the TE-office)",
    )
    async def close(client_id: str, body: ClosureRequest, actor: Closes, svc: Service) -> Written:
        command = closure.CloseRelationship(
            **body.model_dump(exclude={"final_assessment", "joint_decision"}),
            final_assessment=body.final_assessment,
            joint_decision=body.joint_decision,
        )
        return written(await svc.close(client_id, command, context(actor)))

    return api
