"""Intake's HTTP API: every command is an endpoint with a typed request and response.

Errors: 422 names the field and the reason; 404 an unknown client or session; 409 a
business-rule refusal with a message a person can act on, or a concurrent change to the
same client with ``retryable: true``. Nothing is written on any error.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID, uuid4

from anyio import to_thread
from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from pydantic import AwareDatetime, BaseModel, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from contracts.base import Actor, PersonalData
from contracts.intake import (
    IDENTITY_CODE_PATTERN,
    AreaFinding,
    AssessmentCompleted,
    Assessor,
    ClientDetails,
    ClientProfile,
    ConsentScope,
    ErasureReason,
    PossibleDuplicateReason,
    PossibleDuplicateResolution,
    ReferralSource,
    Route,
)
from runtime import clock
from runtime.access import Permission, allowed, require
from runtime.http import Purpose, Responses, access_log, context
from runtime.requests import RequestModel, no_nul_in_parameters
from runtime.strict_types import StrictCount
from services.disclosure.policy import Client, Crossing, Kind, decide, ensure, may_learn_client_exists
from services.intake.application import IntakeService, Outcome, ReferralKind, Registered
from services.intake.domain import assessment, consent, referral, sessions
from services.intake.domain.case import IntakeCase, Stage, disclosure_client
from services.intake.domain.status import deadline_status, eligibility
from services.intake.identity import InvalidIdentityCode, normalise
from services.intake.identity import parse as parse_identity_code
from services.intake.imports import ImportResult, import_info_list
from services.intake.info_list import detect_format

Registers = Annotated[Actor, Depends(require(Permission.REFERRAL_REGISTER))]
Imports = Annotated[Actor, Depends(require(Permission.REFERRAL_IMPORT))]
ReadsQueue = Annotated[Actor, Depends(require(Permission.QUEUE_READ))]
Picks = Annotated[Actor, Depends(require(Permission.QUEUE_PICK))]
#: the intake advisor, who picks referrals from the queue, resolves possible duplicates
ResolvesDuplicates = Annotated[Actor, Depends(require(Permission.QUEUE_PICK))]
ReadsCase = Annotated[Actor, Depends(require(Permission.INTAKE_CASE_READ))]
ManagesSessions = Annotated[Actor, Depends(require(Permission.SESSION_MANAGE))]
ReadsSessions = Annotated[Actor, Depends(require(Permission.SESSION_READ))]
RecordsConsent = Annotated[Actor, Depends(require(Permission.CONSENT_RECORD))]
Assesses = Annotated[Actor, Depends(require(Permission.ASSESSMENT_COMPLETE))]
Erases = Annotated[Actor, Depends(require(Permission.CLIENT_ERASE))]
CONFLICT: Responses = {409: {"description": "Refused by a rule, or a concurrent change (retryable)"}}
NOT_FOUND: Responses = {404: {"description": "No such client or session"}}


def service(request: Request) -> IntakeService:
    svc: IntakeService = request.app.state.intake
    return svc


Service = Annotated[IntakeService, Depends(service)]


class Written(BaseModel):
    """What a command wrote."""

    client_id: str
    stream_version: int
    event_ids: list[UUID] = Field(description="Events written now; empty when nothing changed")


def written(outcome: Outcome) -> Written:
    return Written(
        client_id=outcome.state.client_id,
        stream_version=outcome.state.version,
        event_ids=[e.event_id for e in outcome.events],
    )


# --- referrals ----------------------------------------------------------------------------


class ClientDetailsRequest(ClientDetails):
    """The client's details as entered: the identity code must have its form (the event
    contract accepts `[erased]` too, so the form is checked here)."""

    personal_identity_code: Annotated[str, PersonalData()] = Field(
        pattern=IDENTITY_CODE_PATTERN,
        max_length=11,
        description="Finnish personal identity code (henkilötunnus): ASCII digits, a century sign "
        "of the 2023 reform (+ - Y X W V U A B C D E F), a real birth date and the right check "
        "character. Surrounding whitespace and lower case are normalised away.",
        examples=["010190-123M"],
    )

    @field_validator("personal_identity_code", mode="before")
    @classmethod
    def _normalise(cls, value: object) -> object:
        return normalise(value) if isinstance(value, str) else value

    @field_validator("personal_identity_code")
    @classmethod
    def _valid_code(cls, code: str) -> str:
        # After the pattern: the field's own error names the field, never the value.
        try:
            return parse_identity_code(code)
        except InvalidIdentityCode as exc:
            raise PydanticCustomError(exc.kind, str(exc)) from None


class ReferralRequest(RequestModel):
    source: ReferralSource
    source_description: str | None = Field(default=None, max_length=200, examples=["school"])
    municipality: str = Field(min_length=1, max_length=100, examples=["Mikkeli"])
    referral_date: date
    subsidy_days: StrictCount | None = Field(default=None, ge=0, le=10_000)
    unemployment_months: StrictCount | None = Field(default=None, ge=0, le=600)
    need_based_reason: str | None = Field(default=None, max_length=500)
    client: ClientDetailsRequest

    @model_validator(mode="after")
    def _checks(self) -> ReferralRequest:
        if self.source is ReferralSource.OTHER and not self.source_description:
            raise PydanticCustomError(
                "missing_source_description",
                "source 'other' needs source_description (for example school or health care)",
            )
        return self

    def command(self) -> referral.RegisterReferral:
        return referral.RegisterReferral(
            **self.model_dump(exclude={"client"}), client=ClientDetails(**self.client.model_dump())
        )


class ReferralAccepted(BaseModel):
    """The answer to a caller who may read the client's intake case."""

    referral_id: str = Field(description="A receipt for this referral (its events' correlation id)")
    outcome: ReferralKind = Field(
        description="new_case; recorded_on_existing_case (a different referral of a known client); "
        "already_present (the same referral again: nothing written); possible_duplicate (held for "
        "the intake advisor, see GET /possible-duplicates: no case was opened or written)"
    )
    client_id: str | None = Field(description="The case opened or found; null for a possible duplicate")
    stream_version: int | None
    event_ids: list[UUID] = Field(description="Events written now; empty when nothing changed")


class ReferralReceipt(BaseModel):
    """The answer to a caller who may register referrals but not read intake cases: the
    same for a new person and a known one, so it tells nothing about who is a client."""

    referral_id: str = Field(description="A receipt for this referral")
    status: str = Field(default="received", description="Always `received`")


def referral_answer(
    registered: Registered, *, may_read_client: bool
) -> tuple[int, ReferralAccepted | ReferralReceipt]:
    """The one rule of what a referral's answer reveals (HTTP status and body). A caller
    who may learn that the person is a client (``may_read_client``: the disclosure
    policy's ``may_learn_client_exists``) is told what happened; any other caller gets 202
    and a receipt whatever happened, so a known person's answer does not differ from a
    new one's in status, shape or ids."""
    if not may_read_client:
        return status.HTTP_202_ACCEPTED, ReferralReceipt(referral_id=registered.referral_id)
    code = {
        ReferralKind.NEW_CASE: status.HTTP_201_CREATED,
        ReferralKind.POSSIBLE_DUPLICATE: status.HTTP_202_ACCEPTED,
    }.get(registered.kind, status.HTTP_200_OK)
    return code, ReferralAccepted(
        referral_id=registered.referral_id,
        outcome=registered.kind,
        client_id=registered.client_id,
        stream_version=registered.stream_version,
        event_ids=[e.event_id for e in registered.events],
    )


# --- possible duplicates --------------------------------------------------------------------


class NameView(BaseModel):
    first_name: str
    last_name: str


class CandidateView(BaseModel):
    client_id: str
    name: NameView | None = Field(description="Shown only to roles that may read the client")
    municipality: str | None
    waiting_for: Stage | None


class PossibleDuplicateView(BaseModel):
    referral_id: str
    reason: PossibleDuplicateReason
    held_at: datetime
    municipality: str
    source: ReferralSource
    referral_date: date
    name: NameView | None = Field(description="The name on the referral; only to roles that may read it")
    candidates: list[CandidateView]


class ResolutionRequest(RequestModel):
    resolution: PossibleDuplicateResolution
    client_id: str | None = Field(
        default=None,
        max_length=200,
        description="For same_person: which candidate the referral is of",
    )


class ResolutionWritten(BaseModel):
    referral_id: str
    resolution: PossibleDuplicateResolution
    client_id: str | None = Field(
        description="The case the referral was recorded on or opened; null if dismissed"
    )
    event_ids: list[UUID]


def _candidate(client_id: str, case: IntakeCase | None) -> CandidateView:
    if case is None:
        return CandidateView(client_id=client_id, name=None, municipality=None, waiting_for=None)
    return CandidateView(
        client_id=client_id,
        name=NameView(first_name=case.client.first_name, last_name=case.client.last_name),
        municipality=case.municipality,
        waiting_for=case.stage,
    )


# --- views --------------------------------------------------------------------------------


class QueueEntry(BaseModel):
    client_id: str
    municipality: str
    source: ReferralSource
    referral_date: date
    received_by: str
    owner: str | None = Field(description="The intake advisor who picked the client; null if nobody")
    waiting_for: Stage
    waiting_since: datetime
    waiting_days: int
    rule_set: str
    assessment_deadline: date | None
    overdue: bool


class ConsentView(BaseModel):
    consent_id: str
    scopes: list[ConsentScope]
    organisations: list[str]
    given_on: date
    withdrawn_on: date | None
    in_force: bool


class RulesView(BaseModel):
    rule_set: str
    statute: str
    assessment_indicated: bool
    reasons: list[str]
    unknown: list[str]
    counts_towards_over_500_days: bool | None
    assessment_deadline: date | None
    overdue: bool
    days_left: int | None


class CaseView(BaseModel):
    client_id: str
    version: int
    client: ClientDetails
    municipality: str
    source: ReferralSource
    source_description: str | None
    referral_date: date
    subsidy_days: int | None
    unemployment_months: int | None
    received_by: str
    owner: str | None
    waiting_for: Stage
    waiting_since: datetime | None
    info_session_id: str | None
    info_session_starts_at: datetime | None
    sessions_missed: int
    initial_survey_form_given: bool
    data_protection_leaflet_given: bool
    assessment_appointment_at: datetime | None
    duplicate_referrals: int
    consents: list[ConsentView]
    rules: RulesView
    assessment: dict[str, Any] | None


def case_view(state: IntakeCase, today: date) -> CaseView:
    finding = eligibility(state)
    deadline = deadline_status(state, today)
    return CaseView(
        client_id=state.client_id,
        version=state.version,
        client=state.client,
        municipality=state.municipality,
        source=state.source,
        source_description=state.source_description,
        referral_date=state.referral_date,
        subsidy_days=state.subsidy_days,
        unemployment_months=state.unemployment_months,
        received_by=state.received_by,
        owner=state.owner,
        waiting_for=state.stage,
        waiting_since=state.stage_since,
        info_session_id=state.session_id,
        info_session_starts_at=state.session_starts_at,
        sessions_missed=state.sessions_missed,
        initial_survey_form_given=state.handouts_given[0],
        data_protection_leaflet_given=state.handouts_given[1],
        assessment_appointment_at=state.appointment_at,
        duplicate_referrals=state.duplicate_referrals,
        consents=[
            ConsentView(
                consent_id=c.consent_id,
                scopes=sorted(c.scopes),
                organisations=sorted(c.organisations),
                given_on=c.given_on,
                withdrawn_on=c.withdrawn_on,
                in_force=c.in_force(today),
            )
            for c in state.consents
        ],
        rules=RulesView(
            rule_set=deadline.rule_set,
            statute=deadline.statute,
            assessment_indicated=finding.indicated,
            reasons=list(finding.reasons),
            unknown=list(finding.unknown),
            counts_towards_over_500_days=finding.counts_towards_over_500_days,
            assessment_deadline=deadline.deadline,
            overdue=deadline.overdue,
            days_left=deadline.days_left,
        ),
        assessment=_assessment_data(state.assessment),
    )


def _assessment_data(event: AssessmentCompleted | None) -> dict[str, Any] | None:
    if event is None:
        return None
    return event.model_dump(
        mode="json",
        include={
            "assessed_on",
            "assessors",
            "findings",
            "capacity_allows_rehabilitative_work",
            "profile",
            "ministry_segment",
            "route",
            "destination",
            "rule_set",
            "summary",
        },
    )


# --- sessions, consent, assessment requests ----------------------------------------------------


class InfoSessionRequest(RequestModel):
    starts_at: AwareDatetime
    place: str = Field(min_length=1, max_length=200, examples=["TYP Reitti, meeting room 2"])
    capacity: int = Field(ge=1, le=500)


class InfoSessionView(BaseModel):
    session_id: str
    starts_at: datetime
    place: str
    capacity: int
    invited: int
    places_left: int


def session_view(s: sessions.InfoSession) -> InfoSessionView:
    return InfoSessionView(
        session_id=s.session_id,
        starts_at=s.starts_at,
        place=s.place,
        capacity=s.capacity,
        invited=s.invited,
        places_left=max(0, s.capacity - s.invited),
    )


class InvitationRequest(RequestModel):
    client_id: str = Field(min_length=1, max_length=200)


class AttendanceRequest(RequestModel):
    session_id: str = Field(min_length=1, max_length=200)
    attended: bool
    initial_survey_form_given: bool = False
    data_protection_leaflet_given: bool = False


class AppointmentRequest(RequestModel):
    appointment_at: AwareDatetime
    assessor_person_id: str = Field(min_length=1, max_length=200)


class ConsentRequest(RequestModel):
    scopes: list[ConsentScope] = Field(min_length=1)
    organisations: list[str] = Field(
        default_factory=list, examples=[["social_services:mikkeli", "kela"]], max_length=20
    )
    given_on: date

    @field_validator("organisations")
    @classmethod
    def _organisation_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not name or len(name) > 100 or not all(c.isalnum() or c in "_:-" for c in name):
                raise ValueError(f"organisation {name!r}: use names like social_services:mikkeli or kela")
        return value

    @model_validator(mode="after")
    def _named_scope(self) -> ConsentRequest:
        if (ConsentScope.DISCLOSURE_TO_ORGANISATIONS in self.scopes) != bool(self.organisations):
            raise PydanticCustomError(
                "organisations_scope",
                "name the organisations exactly when disclosure_to_organisations is among the scopes",
            )
        return self


class ConsentRecorded(Written):
    consent_id: str


class WithdrawalRequest(RequestModel):
    withdrawn_on: date


class AssessmentRequest(RequestModel):
    assessed_on: date
    assessors: list[Assessor] = Field(min_length=1, max_length=2)
    findings: list[AreaFinding] = Field(min_length=1, max_length=6)
    capacity_allows_rehabilitative_work: bool
    profile: ClientProfile | None = None
    ministry_segment: int | None = Field(default=None, ge=1, le=3)
    route: Route
    destination: str | None = Field(default=None, max_length=200)
    summary: str = Field(default="", max_length=8000)

    def command(self) -> assessment.CompleteAssessment:
        return assessment.CompleteAssessment(
            **self.model_dump(exclude={"assessors", "findings"}),
            assessors=self.assessors,
            findings=self.findings,
        )


class ErasureRequest(RequestModel):
    """A lawful request to erase the client's personal data."""

    reference: str = Field(
        min_length=1,
        max_length=200,
        description="Where the request is recorded (a register or case number); no personal data",
        examples=["DPO-2026-17"],
    )


class LegalHoldRequest(RequestModel):
    hold: bool = Field(description="true sets a legal hold (no automatic erasure); false clears it")


class LegalHoldView(BaseModel):
    client_id: str
    legal_hold: bool


# --- routes -------------------------------------------------------------------------------------


def router() -> APIRouter:
    clock.zone()  # an unknown REITTI_TIME_ZONE fails here, at start-up, not in a request
    api = APIRouter(dependencies=[Depends(no_nul_in_parameters)])

    @api.post(
        "/referrals",
        response_model=ReferralAccepted | ReferralReceipt,
        status_code=201,
        tags=["referrals"],
        summary="Register a referral (ClientReferred); a known client keeps their one case",
        description="A caller who may read intake cases is told what happened (201 a new case, "
        "200 a known client, 202 a possible duplicate held for the intake advisor). Any other "
        "caller gets 202 and a receipt, whatever happened. Every identity-code lookup is "
        "recorded in the access log.",
        responses={
            **CONFLICT,
            202: {"description": "Received: a receipt, or a possible duplicate held for the intake advisor"},
        },
    )
    async def register_referral(
        body: ReferralRequest,
        actor: Registers,
        svc: Service,
        response: Response,
        x_reitti_purpose: Annotated[
            str | None,
            Header(
                min_length=3,
                max_length=200,
                description="Why you look this person up (kept in the access log); optional",
            ),
        ] = None,
    ) -> ReferralAccepted | ReferralReceipt:
        registered = await svc.register_referral(
            body.command(), context(actor), purpose=x_reitti_purpose or "registering a referral"
        )
        # Decided on the caller alone, as for a person not known yet: whether the answer
        # tells more than a receipt must not depend on whether the person is a client.
        unknown = Client(client_id=registered.referral_id, municipality=body.municipality)
        code, answer = referral_answer(
            registered, may_read_client=may_learn_client_exists(actor, unknown).allowed
        )
        response.status_code = code
        return answer

    @api.post(
        "/referrals/import",
        response_model=ImportResult,
        tags=["referrals"],
        summary="Import the TE-office info list (URA) as CSV or JSON Lines",
        description="Send the file as the request body with Content-Type text/csv or "
        "application/x-ndjson. Idempotent: importing the same list again adds nothing. "
        "Invalid rows are reported with their line numbers (the first 100, and errors_total); "
        "valid rows are imported, and the answer lists their client ids. A list of more rows "
        "than REITTI_MAX_IMPORT_ROWS (100,000 by default), or one that cannot be read as a "
        "whole (encoding, header), is refused before any row is written.",
        responses={
            413: {
                "description": "The body is over REITTI_MAX_IMPORT_BYTES, or the list has more "
                "rows than REITTI_MAX_IMPORT_ROWS: nothing was imported; send it in parts"
            },
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "application/x-ndjson": {"schema": {"type": "string"}},
                },
            }
        },
    )
    async def import_list(
        request: Request,
        actor: Imports,
        svc: Service,
        first_line: Annotated[
            int, Query(ge=1, description="Line number of the body's first line in the whole file")
        ] = 1,
    ) -> Response:
        fmt = detect_format(request.headers.get("content-type"))
        result = await import_info_list(
            svc,
            request.stream(),
            fmt,
            context(actor),
            line_offset=first_line - 1,
            max_rows=request.app.state.host.settings.max_import_rows,
        )
        # Up to 100,000 client ids: serialised off the loop, as the rows were parsed.
        body = await to_thread.run_sync(result.model_dump_json)
        return Response(body, media_type="application/json")

    @api.get(
        "/possible-duplicates",
        response_model=list[PossibleDuplicateView],
        tags=["referrals"],
        summary="Referrals held because they may be of a client already known, with the candidates",
        description="Names are shown only to roles that may read intake cases, and a candidate's "
        "only where the disclosure policy lets the caller read that client's case; every listing "
        "is recorded in the access log (the held referrals and their candidates).",
    )
    async def possible_duplicates(
        actor: ResolvesDuplicates,
        why: Purpose,
        svc: Service,
        request: Request,
        limit: Annotated[int, Query(ge=1, le=500)] = 200,
    ) -> list[PossibleDuplicateView]:
        found = await svc.possible_duplicates(limit=limit)
        may_read = allowed(Permission.INTAKE_CASE_READ, actor.role)
        candidates = {c for _, held in found for c in held.candidates}
        # A candidate's name, municipality and stage are its intake case: shown only where
        # the disclosure policy lets this caller read that case, as GET /clients/{id} does.
        today = clock.today()
        cases = {
            client_id: case
            for client_id, case in (await svc.cases([*candidates]) if may_read else {}).items()
            if decide(actor, Crossing(Kind.INTAKE_CASE), disclosure_client(case), on=(today,)).allowed
        }
        shown = [row.referral_id for row, _ in found] + sorted(candidates)
        await access_log(request).record(actor, shown, what="possible duplicates", purpose=why)
        return [
            PossibleDuplicateView(
                referral_id=row.referral_id,
                reason=held.reason,
                held_at=row.held_at,
                municipality=held.held.municipality,
                source=held.held.source,
                referral_date=held.held.referral_date,
                name=NameView(first_name=held.held.client.first_name, last_name=held.held.client.last_name)
                if may_read
                else None,
                candidates=[_candidate(c, cases.get(c)) for c in held.candidates],
            )
            for row, held in found
        ]

    @api.post(
        "/possible-duplicates/{referral_id}/resolution",
        response_model=ResolutionWritten,
        tags=["referrals"],
        summary="Resolve a possible duplicate: the same person (recorded on their case) or different people",
        description="same_person with the candidate's client_id records the referral on that case. "
        "different_people opens the referral's own case when its identity code was new, and "
        "dismisses it when the code is another client's. The held copy is then erased.",
        responses={**NOT_FOUND, **CONFLICT},
    )
    async def resolve(
        referral_id: str, body: ResolutionRequest, actor: ResolvesDuplicates, svc: Service
    ) -> ResolutionWritten:
        decided = await svc.resolve_possible_duplicate(
            referral_id, body.resolution, client_id=body.client_id, ctx=context(actor)
        )
        return ResolutionWritten(
            referral_id=referral_id,
            resolution=body.resolution,
            client_id=decided.case_id,
            event_ids=[e.event_id for e in (*decided.held_events, *decided.case_events)],
        )

    @api.get(
        "/queue",
        response_model=list[QueueEntry],
        tags=["queue"],
        summary="The one intake queue: who waits for what, and for how long",
    )
    async def queue(
        actor: ReadsQueue,
        why: Purpose,
        svc: Service,
        request: Request,
        waiting_for: Stage | None = None,
        municipality: Annotated[str | None, Query(max_length=100)] = None,
        limit: Annotated[int, Query(ge=1, le=2000)] = 500,
    ) -> list[QueueEntry]:
        now = clock.now()
        pool = request.app.state.host.pool
        async with pool.acquire() as conn:
            rows = await request.app.state.repository.queue(
                conn, stage=waiting_for, municipality=municipality, limit=limit
            )
        queue = Crossing(Kind.INTAKE_QUEUE)
        rows = [
            r
            for r in rows
            if decide(actor, queue, Client(r.client_id, r.municipality, referred_by=r.source)).allowed
        ]
        await access_log(request).record(actor, [r.client_id for r in rows], what="intake queue", purpose=why)
        return [
            QueueEntry(
                client_id=r.client_id,
                municipality=r.municipality,
                source=ReferralSource(r.source),
                referral_date=r.referral_date,
                received_by=r.received_by,
                owner=r.owner,
                waiting_for=r.stage,
                waiting_since=r.stage_since,
                waiting_days=(now - r.stage_since).days,
                rule_set=r.rule_set,
                assessment_deadline=r.assessment_deadline,
                overdue=r.assessment_deadline is not None and now.date() > r.assessment_deadline,
            )
            for r in rows
        ]

    @api.post(
        "/queue/{client_id}/pick",
        response_model=Written,
        tags=["queue"],
        summary="Take the client from the queue: the caller owns the case",
        responses={**NOT_FOUND, **CONFLICT},
    )
    async def pick(client_id: str, actor: Picks, svc: Service) -> Written:
        ctx = context(actor)
        return written(await svc.execute(client_id, lambda s: referral.pick_referral(s, ctx=ctx)))

    @api.get(
        "/clients/{client_id}",
        response_model=CaseView,
        tags=["clients"],
        summary="One client's intake case, with the rules that apply and the deadline",
        responses=NOT_FOUND,
    )
    async def get_case(
        client_id: str, actor: ReadsCase, why: Purpose, svc: Service, request: Request
    ) -> CaseView:
        state = await svc.get(client_id)
        today = clock.today()
        ensure(decide(actor, Crossing(Kind.INTAKE_CASE), disclosure_client(state), on=(today,)))
        await access_log(request).record(actor, [client_id], what="intake case", purpose=why)
        return case_view(state, today)

    @api.post(
        "/info-sessions",
        response_model=InfoSessionView,
        status_code=201,
        tags=["info sessions"],
        summary="Schedule an info session",
        responses=CONFLICT,
    )
    async def schedule(body: InfoSessionRequest, actor: ManagesSessions, svc: Service) -> InfoSessionView:
        return session_view(
            await svc.schedule_session(
                starts_at=body.starts_at, place=body.place, capacity=body.capacity, ctx=context(actor)
            )
        )

    @api.get(
        "/info-sessions",
        response_model=list[InfoSessionView],
        tags=["info sessions"],
        summary="Upcoming info sessions and their free places",
    )
    async def list_sessions(request: Request, actor: ReadsSessions) -> list[InfoSessionView]:
        async with request.app.state.host.pool.acquire() as conn:
            found = await request.app.state.repository.sessions(conn, since=clock.now())
        return [session_view(s) for s in found]

    @api.post(
        "/info-sessions/{session_id}/invitations",
        response_model=Written,
        status_code=201,
        tags=["info sessions"],
        summary="Invite a client; a full session refuses",
        responses={**NOT_FOUND, **CONFLICT},
    )
    async def invite(
        session_id: str, body: InvitationRequest, actor: ManagesSessions, svc: Service
    ) -> Written:
        return written(await svc.invite(session_id, body.client_id, context(actor)))

    @api.post(
        "/clients/{client_id}/info-session-attendance",
        response_model=Written,
        tags=["info sessions"],
        summary="Record attendance or a no-show, and the handouts",
        responses={**NOT_FOUND, **CONFLICT},
    )
    async def attendance(
        client_id: str, body: AttendanceRequest, actor: ManagesSessions, svc: Service
    ) -> Written:
        ctx = context(actor)
        return written(
            await svc.execute(
                client_id,
                lambda s: sessions.record_attendance(
                    s,
                    session_id=body.session_id,
                    attended=body.attended,
                    initial_survey_form_given=body.initial_survey_form_given,
                    data_protection_leaflet_given=body.data_protection_leaflet_given,
                    ctx=ctx,
                ),
            )
        )

    @api.post(
        "/clients/{client_id}/assessment-appointment",
        response_model=Written,
        tags=["assessment"],
        summary="Book the personal assessment appointment",
        responses={**NOT_FOUND, **CONFLICT},
    )
    async def book(client_id: str, body: AppointmentRequest, actor: ManagesSessions, svc: Service) -> Written:
        ctx = context(actor)
        return written(
            await svc.execute(
                client_id,
                lambda s: sessions.book_assessment(
                    s, appointment_at=body.appointment_at, assessor_person_id=body.assessor_person_id, ctx=ctx
                ),
            )
        )

    @api.post(
        "/clients/{client_id}/consents",
        response_model=ConsentRecorded,
        status_code=201,
        tags=["consent"],
        summary="Record the client's consent and its scopes",
        responses={**NOT_FOUND, **CONFLICT},
    )
    async def give(
        client_id: str, body: ConsentRequest, actor: RecordsConsent, svc: Service
    ) -> ConsentRecorded:
        ctx = context(actor)
        consent_id = f"consent-{uuid4()}"
        outcome = await svc.execute(
            client_id,
            lambda s: consent.give_consent(
                s,
                consent_id=consent_id,
                scopes=body.scopes,
                organisations=body.organisations,
                given_on=body.given_on,
                ctx=ctx,
            ),
        )
        return ConsentRecorded(**written(outcome).model_dump(), consent_id=consent_id)

    @api.post(
        "/clients/{client_id}/consents/{consent_id}/withdrawal",
        response_model=Written,
        tags=["consent"],
        summary="Record that the client withdrew a consent",
        responses={**NOT_FOUND, **CONFLICT},
    )
    async def withdraw(
        client_id: str, consent_id: str, body: WithdrawalRequest, actor: RecordsConsent, svc: Service
    ) -> Written:
        ctx = context(actor)
        return written(
            await svc.execute(
                client_id,
                lambda s: consent.withdraw_consent(
                    s, consent_id=consent_id, withdrawn_on=body.withdrawn_on, ctx=ctx
                ),
            )
        )

    @api.post(
        "/clients/{client_id}/assessment",
        response_model=Written,
        status_code=201,
        tags=["assessment"],
        summary="Complete the service-needs assessment (AssessmentCompleted)",
        responses={**NOT_FOUND, **CONFLICT},
    )
    async def assess(client_id: str, body: AssessmentRequest, actor: Assesses, svc: Service) -> Written:
        ctx = context(actor)
        command = body.command()
        return written(
            await svc.execute(client_id, lambda s: assessment.complete_assessment(s, command, ctx=ctx))
        )

    @api.post(
        "/clients/{client_id}/erasure",
        response_model=Written,
        tags=["erasure"],
        summary="Erase the client's personal data on a lawful request (deletes their key)",
        description="Every personal field of the client's events then reads `[erased]` in every "
        "service, store and replay; statistics and the audit trail are kept. Cannot be undone.",
        responses={**NOT_FOUND, **CONFLICT},
    )
    async def erase(client_id: str, body: ErasureRequest, actor: Erases, svc: Service) -> Written:
        return written(
            await svc.erase(
                client_id,
                reason=ErasureReason.LAWFUL_REQUEST,
                note=body.reference,
                ctx=context(actor),
                erased_on=clock.today(),
            )
        )

    @api.post(
        "/clients/{client_id}/legal-hold",
        response_model=LegalHoldView,
        tags=["erasure"],
        summary="Set or clear a legal hold: a held client is not erased when retention ends",
        responses=NOT_FOUND,
    )
    async def legal_hold(
        client_id: str, body: LegalHoldRequest, actor: Erases, svc: Service
    ) -> LegalHoldView:
        await svc.set_legal_hold(client_id, body.hold)
        return LegalHoldView(client_id=client_id, legal_hold=body.hold)

    return api
