"""Intake's request and response models (*pyynnöt ja vastaukset*): each checks the
shape of what is sent; the rules are the domain's. Over 400 lines because every field
carries the description the OpenAPI document shows; one module keeps them in one place.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from contracts.base import PersonalData
from contracts.intake import (
    IDENTITY_CODE_PATTERN,
    AreaFinding,
    Assessor,
    ClientDetails,
    ClientProfile,
    ConsentScope,
    PossibleDuplicateReason,
    PossibleDuplicateResolution,
    ReferralSource,
    Route,
)
from runtime.answers import Written as Written  # one answer for both services
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
from runtime.openapi_names import MUNICIPALITY as NAMES_ONE
from runtime.openapi_names import MUNICIPALITY_KEYS
from runtime.openapi_names import ORGANISATIONS as NAMES_ORGS
from runtime.requests import RequestModel
from runtime.strict_types import AwareIsoInstant, IsoDate, StrictCount, StrictFlag
from services.intake.application import ReferralKind
from services.intake.domain import assessment, referral, targets
from services.intake.domain.case import Stage
from services.intake.identity import InvalidIdentityCode, normalise
from services.intake.identity import parse as parse_identity_code

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
    name: NameView | None = Field(
        description="The client's name; null unless the caller may read the client's intake case, "
        "and for an erased client"
    )
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
        json_schema_extra=MUNICIPALITY_KEYS,
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
