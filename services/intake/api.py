"""Intake's HTTP API: every command is an endpoint with a typed request and response.

Errors: 422 names the field and the reason; 404 an unknown client or session; 409 a
business-rule refusal with a message a person can act on, or a concurrent change to the
same client with ``retryable: true``. Nothing is written on any error.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

from anyio import to_thread
from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
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
from runtime import clock, purposes
from runtime.access import Permission, allowed, require
from runtime.field_docs import (
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
from runtime.known_names import invalid, municipality_at, organisation_at
from runtime.openapi_names import MUNICIPALITY as NAMES_ONE
from runtime.openapi_names import ORGANISATIONS as NAMES_ORGS
from runtime.purposes import PurposeCode
from runtime.requests import RequestModel, no_nul_in_parameters
from runtime.strict_types import AwareIsoInstant, IsoDate, StrictCount, StrictFlag
from services.disclosure.policy import Client, Crossing, Kind, decide, ensure, may_learn_client_exists
from services.intake.application import REGISTERING, IntakeService, Outcome, ReferralKind, Registered
from services.intake.domain import assessment, consent, referral, sessions, targets
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
SetsTargets = Annotated[Actor, Depends(require(Permission.TARGETS_SET))]
CONFLICT: Responses = {409: {"description": "Refused by a rule, or a concurrent change (retryable)"}}
NOT_FOUND: Responses = {404: {"description": "No such client or session"}}


ClientIdPath = Annotated[str, Path(description=CLIENT_ID)]
ConsentIdPath = Annotated[str, Path(description="The consent's id, as POST .../consents answered it")]
SessionIdPath = Annotated[str, Path(description="The info session's id, `info-session-<uuid>`")]
ReferralIdPath = Annotated[
    str, Path(description="The held referral's id, as GET /possible-duplicates lists it")
]


def service(request: Request) -> IntakeService:
    svc: IntakeService = request.app.state.intake
    return svc


Service = Annotated[IntakeService, Depends(service)]


class Written(BaseModel):
    """What a command wrote."""

    client_id: str = Field(description=CLIENT_ID)
    stream_version: int = Field(ge=1, description=STREAM_VERSION)
    event_ids: list[UUID] = Field(description=EVENT_IDS)


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
    model_config = ConfigDict(
        json_schema_extra={
            # The rule of ``_checks``, in the schema, so that a generated request is valid.
            "if": {"properties": {"source": {"const": "other"}}, "required": ["source"]},
            "then": {
                "properties": {"source_description": {"type": "string", "minLength": 1}},
                "required": ["source_description"],
            },
            "examples": [
                {
                    "source": "te_office",
                    "municipality": "Mikkeli",
                    "referral_date": "2026-03-02",
                    "subsidy_days": 520,
                    "unemployment_months": 14,
                    "client": {
                        "first_name": "Maija",
                        "last_name": "Meikäläinen",
                        "personal_identity_code": "010190-123M",
                    },
                }
            ],
        }
    )

    source: ReferralSource = Field(
        description="Who referred the client: te_office, social_services, self_referral or other"
    )
    source_description: str | None = Field(
        default=None,
        max_length=200,
        description="Required for source `other`: who referred (school, health care, a partner); "
        "personal data",
        examples=["school"],
    )
    municipality: str = Field(
        min_length=1,
        max_length=100,
        description=MUNICIPALITY,
        examples=["Mikkeli"],
        json_schema_extra=NAMES_ONE,
    )
    referral_date: IsoDate = Field(
        description="The day of the referral (YYYY-MM-DD); it decides which rules apply",
        examples=["2026-03-02"],
    )
    subsidy_days: StrictCount | None = Field(
        default=None,
        ge=0,
        le=10_000,
        description="Days of labour-market subsidy paid so far, if known (a JSON number)",
        examples=[520],
    )
    unemployment_months: StrictCount | None = Field(
        default=None,
        ge=0,
        le=600,
        description="Months of continuous unemployment, if known (a JSON number)",
        examples=[14],
    )
    need_based_reason: str | None = Field(
        default=None,
        max_length=500,
        description="From 2025 (Act 381/2023): why joint service is needed, i.e. limits of work "
        "or functional capacity, or life-management problems that advice alone cannot solve; "
        "free text and personal data",
        examples=["Long-term back pain limits the work they can do"],
    )
    client: ClientDetailsRequest = Field(description="The client's name and identity code")

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
    stream_version: int | None = Field(description=f"{STREAM_VERSION}; null for a possible duplicate")
    event_ids: list[UUID] = Field(description="Events written now; empty when nothing changed")


class ReferralReceipt(BaseModel):
    """The answer to a caller who may register referrals but not read intake cases: the
    same for a new person and a known one, so it tells nothing about who is a client."""

    referral_id: str = Field(description="A receipt for this referral")
    status: Literal["received"] = Field(default="received", description="Always `received`")


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
    first_name: str = Field(description="First name; personal data")
    last_name: str = Field(description="Last name; personal data")


class CandidateView(BaseModel):
    client_id: str = Field(description=f"A known client the referral may be of: {CLIENT_ID}")
    name: NameView | None = Field(description="Shown only to roles that may read the client")
    municipality: str | None = Field(
        description=f"{MUNICIPALITY}; null unless the caller may read this client's case"
    )
    waiting_for: Stage | None = Field(
        description="The step the candidate's intake case waits for; null unless the caller may read it"
    )


class PossibleDuplicateView(BaseModel):
    referral_id: str = Field(description="The held referral's receipt (its id in POST .../resolution)")
    reason: PossibleDuplicateReason = Field(
        description="same_code_other_name: a known client's identity code under another name; "
        "same_name_and_birth_date: a new code with a known client's name and birth date"
    )
    held_at: datetime = Field(description="When the referral was held")
    municipality: str = Field(description=f"The municipality on the referral: {MUNICIPALITY}")
    source: ReferralSource = Field(description="Who referred the client")
    referral_date: date = Field(description="The day of the referral")
    name: NameView | None = Field(description="The name on the referral; only to roles that may read it")
    candidates: list[CandidateView] = Field(description="The known clients the referral may be of")


class ResolutionRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"resolution": "same_person", "client_id": "client-9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"}
            ]
        }
    )

    resolution: PossibleDuplicateResolution = Field(
        description="same_person: the referral is of the candidate named in client_id; "
        "different_people: it is none of the candidates"
    )
    client_id: str | None = Field(
        default=None,
        max_length=200,
        description="For same_person: which candidate the referral is of",
        examples=["client-9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"],
    )


class ResolutionWritten(BaseModel):
    referral_id: str = Field(description="The held referral that was resolved")
    resolution: PossibleDuplicateResolution = Field(description="The resolution, as sent")
    client_id: str | None = Field(
        description="The case the referral was recorded on or opened; null if dismissed"
    )
    event_ids: list[UUID] = Field(description=EVENT_IDS)


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


WAITING_FOR = "The next step the intake case waits for"
WAITING_SINCE = (
    "The business date the case began to wait for that step: the referral's date while it waits "
    "for an invitation, then the day of the step that moved it (the assessment's date once routed)"
)
CONSENT_SCOPES = (
    "What the client consented to: move_to_centre (moving to the joint service centre), "
    "data_exchange_within_centre (exchange of data between the centre's staff of both sides), "
    "disclosure_to_organisations (disclosure to the organisations named)"
)
ORGANISATIONS = (
    "The outside organisations the client consented to disclosure to: `kela`, `te-office` or "
    "`social_services:<municipality>` in lower case (e.g. `social_services:mikkeli`); "
    "named exactly when disclosure_to_organisations is among the scopes"
)


class QueueEntry(BaseModel):
    client_id: str = Field(description=CLIENT_ID)
    municipality: str = Field(description=MUNICIPALITY)
    source: ReferralSource = Field(description="Who referred the client")
    referral_date: date = Field(description="The day of the referral")
    received_by: str = Field(description=f"Who registered the referral: {PERSON_ID}")
    owner: str | None = Field(description="The intake advisor who picked the client; null if nobody")
    waiting_for: Stage = Field(description=WAITING_FOR)
    waiting_since: date = Field(description=WAITING_SINCE)
    waiting_days: int = Field(ge=0, description=WAITING_DAYS)
    rule_set: str = Field(description=f"{RULE_SET}, by the referral date")
    assessment_deadline: date | None = Field(
        description="The last day for the service-needs assessment under those rules; null if they set none"
    )
    overdue: bool = Field(description="The assessment deadline has passed without an assessment")


class ConsentView(BaseModel):
    consent_id: str = Field(description="The consent's id (for its withdrawal)")
    scopes: list[ConsentScope] = Field(description=CONSENT_SCOPES)
    organisations: list[str] = Field(description=ORGANISATIONS)
    given_on: date = Field(description="The day the client signed it")
    withdrawn_on: date | None = Field(description="The day the client withdrew it; null if not withdrawn")
    in_force: bool = Field(description="Given and not withdrawn as of today")


class RulesView(BaseModel):
    rule_set: str = Field(description=f"{RULE_SET}, by the referral date")
    statute: str = Field(description="The statute of that rule set, or the criterion where there was none")
    assessment_indicated: bool = Field(
        description="Whether the rules call for a joint service assessment of this client"
    )
    reasons: list[str] = Field(description="The triggers met, in words, one per entry")
    unknown: list[str] = Field(description="What the rules need to decide but the referral did not give")
    counts_towards_over_500_days: bool | None = Field(
        description="Seed rules: whether the client counts towards the half with over 500 subsidy "
        "days; null under other rules or when the days are not known"
    )
    assessment_deadline: date | None = Field(
        description="The last day for the assessment; null if the rules set none"
    )
    overdue: bool = Field(description="The deadline has passed without an assessment")
    days_left: int | None = Field(
        description="Days until the deadline (negative when overdue); null if none or once routed"
    )


class CaseView(BaseModel):
    client_id: str = Field(description=CLIENT_ID)
    version: int = Field(ge=1, description="The client stream's version: how many events the case has")
    client: ClientDetails = Field(description="The client's name and identity code; personal data")
    municipality: str = Field(description=MUNICIPALITY)
    source: ReferralSource = Field(description="Who referred the client")
    source_description: str | None = Field(description="Who referred, for source `other`; personal data")
    referral_date: date = Field(description="The day of the referral")
    subsidy_days: int | None = Field(description="Days of labour-market subsidy, if known")
    unemployment_months: int | None = Field(description="Months of unemployment, if known")
    received_by: str = Field(description=f"Who registered the referral: {PERSON_ID}")
    owner: str | None = Field(description="The intake advisor who picked the client; null if nobody")
    waiting_for: Stage = Field(description=WAITING_FOR)
    waiting_since: date | None = Field(description=WAITING_SINCE)
    info_session_id: str | None = Field(description="The info session the client is invited to; null if none")
    info_session_starts_at: datetime | None = Field(description="When that info session starts")
    sessions_missed: int = Field(ge=0, description="Info sessions the client did not come to")
    info_session_attended_on: date | None = Field(
        description="The business date the client came to the info session; null before (or if recorded "
        "before attendance carried its date)"
    )
    initial_survey_form_given: bool = Field(
        description="The initial survey form (alkukartoituslomake) was handed out"
    )
    data_protection_leaflet_given: bool = Field(description="The data protection leaflet was handed out")
    assessment_appointment_at: datetime | None = Field(
        description="The booked service-needs assessment appointment; null if none"
    )
    duplicate_referrals: int = Field(
        ge=0, description="Further referrals of this client recorded on the case"
    )
    consents: list[ConsentView] = Field(description="The client's consents, in force or withdrawn")
    rules: RulesView = Field(description="The rules that apply to the case, and its deadline")
    assessment: dict[str, Any] | None = Field(
        description="The completed service-needs assessment (as sent to POST .../assessment, with "
        "its rule set); null until it is done"
    )


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
        info_session_attended_on=state.info_session_attended_on,
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


# --- the steering group's intake targets ---------------------------------------------------


class IntakeTargetRequest(RequestModel):
    """The yearly intake target (*vuoden asiakastavoite*) the steering group sets."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"year": 2011, "target": 200, "set_on": "2010-12-15"},
                {
                    "year": 2011,
                    "target": 10,
                    "set_on": "2010-12-15",
                    "municipalities": {"Mikkeli": 7, "Puumala": 3},
                },
            ]
        }
    )

    year: StrictCount = Field(
        ge=targets.FIRST_YEAR, le=targets.LAST_YEAR, description="The calendar year", examples=[2011]
    )
    target: StrictCount = Field(
        ge=1, le=100_000, description="New clients the centre should take in the year", examples=[200]
    )
    set_on: IsoDate = Field(
        description="The business date the steering group set it, YYYY-MM-DD: in force from then; "
        "a later setting for the same year supersedes it",
        examples=["2010-12-15"],
    )
    municipalities: dict[str, Annotated[StrictCount, Field(ge=0, le=100_000)]] | None = Field(
        default=None,
        max_length=50,
        description="The target per municipality, adding up to target (every municipality left "
        "out has 0); leave out to apportion the target by population",
        examples=[{"Mikkeli": 7, "Puumala": 3}],
    )


class IntakeTargetWritten(BaseModel):
    stream_id: str = Field(description="The year's stream of target settings, `intake-target-<year>`")
    stream_version: int = Field(ge=1, description=STREAM_VERSION)
    event_id: UUID = Field(description="The IntakeTargetSet event's id")
    year: int = Field(description="The calendar year")
    target: int = Field(description="The target set")
    set_on: date = Field(description="In force from")
    municipalities: dict[str, int] | None = Field(
        description="The target per municipality as given, or null: apportioned by population"
    )


# --- sessions, consent, assessment requests ----------------------------------------------------


class InfoSessionRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "starts_at": "2026-03-10T09:00:00+02:00",
                    "place": "TYP Reitti, meeting room 2",
                    "capacity": 12,
                }
            ]
        }
    )

    starts_at: AwareIsoInstant = Field(
        description="When the session starts: an ISO timestamp with its offset",
        examples=["2026-03-10T09:00:00+02:00"],
    )
    place: str = Field(
        min_length=1, max_length=200, description="Where it is held", examples=["TYP Reitti, meeting room 2"]
    )
    capacity: StrictCount = Field(ge=1, le=500, description="How many clients may be invited", examples=[12])


class InfoSessionView(BaseModel):
    session_id: str = Field(description="The session's id, `info-session-<uuid>`")
    starts_at: datetime = Field(description="When the session starts")
    place: str = Field(description="Where it is held")
    capacity: int = Field(ge=1, le=500, description="How many clients may be invited")
    invited: int = Field(ge=0, description="How many are invited")
    places_left: int = Field(ge=0, description="Free places: capacity less invited, never below 0")


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
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"client_id": "client-9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"}]}
    )

    client_id: str = Field(min_length=1, max_length=200, description=f"Whom to invite: {CLIENT_ID}")


class AttendanceRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "session_id": "info-session-1f0e6a38-3c63-4c8e-9a53-0d1b7a0f5e11",
                    "attended": True,
                    "attended_on": "2026-03-10",
                    "initial_survey_form_given": True,
                    "data_protection_leaflet_given": True,
                }
            ]
        }
    )

    session_id: str = Field(
        min_length=1, max_length=200, description="The info session the client was invited to"
    )
    attended: StrictFlag = Field(description="true: the client came; false: a no-show")
    attended_on: IsoDate = Field(
        description="The business date of the session the client came to (or missed): not before "
        "the session's date, not after today, and only once the session has begun (else 409)",
        examples=["2026-03-10"],
    )
    initial_survey_form_given: StrictFlag = Field(
        default=False, description="The initial survey form (alkukartoituslomake) was handed out"
    )
    data_protection_leaflet_given: StrictFlag = Field(
        default=False, description="The data protection leaflet was handed out"
    )


class AppointmentRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"appointment_at": "2026-03-17T13:00:00+02:00", "assessor_person_id": "advisor-1"}]
        }
    )

    appointment_at: AwareIsoInstant = Field(
        description="When the assessment appointment is: an ISO timestamp with its offset",
        examples=["2026-03-17T13:00:00+02:00"],
    )
    assessor_person_id: str = Field(
        min_length=1, max_length=200, description=f"Who assesses: {PERSON_ID}", examples=["advisor-1"]
    )


class ConsentRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            # The rule of ``_named_scope``, in the schema, so that a generated request is valid.
            "if": {"properties": {"scopes": {"contains": {"const": "disclosure_to_organisations"}}}},
            "then": {"properties": {"organisations": {"minItems": 1}}, "required": ["organisations"]},
            "else": {"properties": {"organisations": {"maxItems": 0}}},
            "examples": [
                {
                    "scopes": [
                        "move_to_centre",
                        "data_exchange_within_centre",
                        "disclosure_to_organisations",
                    ],
                    "organisations": ["social_services:mikkeli", "kela"],
                    "given_on": "2026-03-10",
                }
            ],
        }
    )

    scopes: list[ConsentScope] = Field(
        min_length=1,
        description=CONSENT_SCOPES,
        examples=[["move_to_centre", "data_exchange_within_centre", "disclosure_to_organisations"]],
    )
    organisations: list[str] = Field(
        default_factory=list,
        max_length=20,
        description=ORGANISATIONS,
        examples=[["social_services:mikkeli", "kela"]],
        json_schema_extra=NAMES_ORGS,
    )
    given_on: IsoDate = Field(description="The day the client signed the consent", examples=["2026-03-02"])

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
    consent_id: str = Field(description="The consent's id (for its withdrawal)")


class WithdrawalRequest(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"withdrawn_on": "2026-06-01"}]})

    withdrawn_on: IsoDate = Field(
        description="The day the client withdrew the consent", examples=["2026-06-01"]
    )


class AssessmentRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "assessed_on": "2026-03-17",
                    "assessors": [
                        {"person_id": "advisor-1", "role": "employment_advisor", "organisation": "te-office"},
                        {
                            "person_id": "sw-1",
                            "role": "social_worker",
                            "organisation": "social_services:mikkeli",
                        },
                    ],
                    "findings": [
                        {"area": "work_ability", "support_need": "significant", "notes": ""},
                        {"area": "competence", "support_need": "some", "notes": ""},
                    ],
                    "capacity_allows_rehabilitative_work": True,
                    "profile": "centre",
                    "ministry_segment": 3,
                    "route": "individual_service_guidance",
                    "summary": "Wants to try work in a workshop first.",
                }
            ]
        }
    )

    assessed_on: IsoDate = Field(description="The day of the assessment", examples=["2026-03-17"])
    assessors: list[Assessor] = Field(
        min_length=1,
        max_length=2,
        description="Who assessed: one, or a TE and a municipal assessor as a pair",
    )
    findings: list[AreaFinding] = Field(
        min_length=1, max_length=6, description="The support need found in each area surveyed"
    )
    capacity_allows_rehabilitative_work: StrictFlag = Field(
        description="Functional capacity allows at least rehabilitative work activity (the entry rule)"
    )
    profile: ClientProfile | None = Field(
        default=None, description="The client profile the team agreed on; null when routed elsewhere"
    )
    ministry_segment: StrictCount | None = Field(
        default=None, ge=1, le=3, description=MINISTRY_SEGMENT, examples=[3]
    )
    route: Route = Field(
        description="Where the assessment sends the client; individual_service_guidance, "
        "health_check_first and rehabilitative_work_activity open a guidance case"
    )
    destination: str | None = Field(
        default=None,
        max_length=200,
        description="Where the client goes instead, for route not_helped_here (free text); personal data",
        examples=["Mental health services of the wellbeing services county"],
    )
    summary: str = Field(
        default="", max_length=8000, description="The assessment's summary (free text); personal data"
    )

    def command(self) -> assessment.CompleteAssessment:
        return assessment.CompleteAssessment(
            **self.model_dump(exclude={"assessors", "findings"}),
            assessors=self.assessors,
            findings=self.findings,
        )


class ErasureRequest(RequestModel):
    """A lawful request to erase the client's personal data."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"reference": "DPO-2026-17"}]})

    reference: str = Field(
        min_length=1,
        max_length=200,
        description="Where the request is recorded (a register or case number); no personal data",
        examples=["DPO-2026-17"],
    )


class LegalHoldRequest(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"hold": True}]})

    hold: StrictFlag = Field(description="true sets a legal hold (no automatic erasure); false clears it")


class LegalHoldView(BaseModel):
    client_id: str = Field(description=CLIENT_ID)
    legal_hold: bool = Field(description="Whether the client is now under a legal hold")


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
            200: {
                "description": "A client already known: the referral is recorded on their one case, "
                "or was recorded before",
                "model": ReferralAccepted,
            },
            202: {"description": "Received: a receipt, or a possible duplicate held for the intake advisor"},
        },
    )
    async def register_referral(
        body: ReferralRequest,
        actor: Registers,
        svc: Service,
        response: Response,
        x_reitti_purpose: Annotated[
            PurposeCode | None,
            Header(description="Optional here (default `intake`). " + purposes.PURPOSE_DESCRIPTION),
        ] = None,
        x_reitti_purpose_detail: Annotated[
            str | None,
            Header(
                description=purposes.DETAIL_DESCRIPTION,
                max_length=purposes.DETAIL_MAX_LENGTH,
                pattern=purposes.DETAIL_PATTERN,
            ),
        ] = None,
    ) -> ReferralAccepted | ReferralReceipt:
        municipality = municipality_at(body.municipality, svc.municipalities, "body", "municipality")
        registered = await svc.register_referral(
            replace(body.command(), municipality=municipality),
            context(actor),
            purpose=REGISTERING
            if x_reitti_purpose is None and x_reitti_purpose_detail is None
            else purposes.parse(x_reitti_purpose or PurposeCode.INTAKE, x_reitti_purpose_detail),
        )
        # Decided on the caller alone, as for a person not known yet: whether the answer
        # tells more than a receipt must not depend on whether the person is a client.
        unknown = Client(client_id=registered.referral_id, municipality=municipality)
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
        limit: Annotated[int, Query(ge=1, le=500, description="The most held referrals to list")] = 200,
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
        referral_id: ReferralIdPath, body: ResolutionRequest, actor: ResolvesDuplicates, svc: Service
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
        waiting_for: Annotated[
            Stage | None, Query(description="Only clients waiting for this step; all when left out")
        ] = None,
        municipality: Annotated[
            str | None,
            Query(
                max_length=100,
                description=f"Only this municipality's clients. {MUNICIPALITY}",
                json_schema_extra=NAMES_ONE,
            ),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=2000, description="The most entries to list")] = 500,
    ) -> list[QueueEntry]:
        if municipality is not None:
            municipality = municipality_at(municipality, svc.municipalities, "query", "municipality")
        today = clock.today()
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
                waiting_days=max(0, (today - r.stage_since).days),
                rule_set=r.rule_set,
                assessment_deadline=r.assessment_deadline,
                overdue=r.assessment_deadline is not None and today > r.assessment_deadline,
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
    async def pick(client_id: ClientIdPath, actor: Picks, svc: Service) -> Written:
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
        client_id: ClientIdPath, actor: ReadsCase, why: Purpose, svc: Service, request: Request
    ) -> CaseView:
        state = await svc.get(client_id)
        today = clock.today()
        ensure(decide(actor, Crossing(Kind.INTAKE_CASE), disclosure_client(state), on=(today,)))
        await access_log(request).record(actor, [client_id], what="intake case", purpose=why)
        return case_view(state, today)

    @api.post(
        "/intake-targets",
        response_model=IntakeTargetWritten,
        status_code=201,
        tags=["intake targets"],
        summary="Set a year's intake target (IntakeTargetSet); a later setting supersedes",
        description="The steering group's yearly target of new clients, for the centre and, "
        "optionally, per municipality; reporting shows it beside the actual intake.",
        responses=CONFLICT,
    )
    async def set_intake_target(
        body: IntakeTargetRequest, actor: SetsTargets, svc: Service
    ) -> IntakeTargetWritten:
        split = None
        if body.municipalities is not None:
            split = {}
            for name, n in body.municipalities.items():
                known = municipality_at(name, svc.municipalities, "body", "municipalities", name)
                if known in split:
                    raise invalid(("body", "municipalities", name), f"{known} is named twice")
                split[known] = n
        event = await svc.set_intake_target(
            targets.SetIntakeTarget(body.year, body.target, body.set_on, split), context(actor)
        )
        return IntakeTargetWritten(
            stream_id=event.stream_id,
            stream_version=event.stream_version,
            event_id=event.event_id,
            year=event.year,
            target=event.target,
            set_on=event.set_on,
            municipalities=event.municipalities,
        )

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
        session_id: SessionIdPath, body: InvitationRequest, actor: ManagesSessions, svc: Service
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
        client_id: ClientIdPath, body: AttendanceRequest, actor: ManagesSessions, svc: Service
    ) -> Written:
        ctx = context(actor)
        return written(
            await svc.execute(
                client_id,
                lambda s: sessions.record_attendance(
                    s,
                    session_id=body.session_id,
                    attended=body.attended,
                    attended_on=body.attended_on,
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
    async def book(
        client_id: ClientIdPath, body: AppointmentRequest, actor: ManagesSessions, svc: Service
    ) -> Written:
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
        client_id: ClientIdPath, body: ConsentRequest, actor: RecordsConsent, svc: Service
    ) -> ConsentRecorded:
        # one spelling per organisation, so a consent to social_services:Mikkeli matches
        # the social_services:mikkeli every check asks for (ADR 0027)
        organisations = [
            organisation_at(name, svc.municipalities, "body", "organisations", i)
            for i, name in enumerate(body.organisations)
        ]
        ctx = context(actor)
        consent_id = f"consent-{uuid4()}"
        outcome = await svc.execute(
            client_id,
            lambda s: consent.give_consent(
                s,
                consent_id=consent_id,
                scopes=body.scopes,
                organisations=organisations,
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
        client_id: ClientIdPath,
        consent_id: ConsentIdPath,
        body: WithdrawalRequest,
        actor: RecordsConsent,
        svc: Service,
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
    async def assess(
        client_id: ClientIdPath, body: AssessmentRequest, actor: Assesses, svc: Service
    ) -> Written:
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
    async def erase(client_id: ClientIdPath, body: ErasureRequest, actor: Erases, svc: Service) -> Written:
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
        client_id: ClientIdPath, body: LegalHoldRequest, actor: Erases, svc: Service
    ) -> LegalHoldView:
        await svc.set_legal_hold(client_id, body.hold)
        return LegalHoldView(client_id=client_id, legal_hold=body.hold)

    return api
