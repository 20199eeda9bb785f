"""Events emitted by the intake service (referral to routed assessment).

Over 400 lines because every intake event is here with its field descriptions: each
service's event contract is one module (as contracts/guidance.py), the source of its
JSON Schemas and AsyncAPI document.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.base import EventBase, PersonalData, Side
from contracts.subjects import organisation_slug


class ReferralSource(StrEnum):
    """Where a referral came from (*asiakkaaksi ohjautuminen*)."""

    TE_OFFICE = "te_office"
    SOCIAL_SERVICES = "social_services"
    SELF_REFERRAL = "self_referral"
    OTHER = "other"


#: DDMMYY, century sign, individual number, check character; ASCII digits only (``\\d``
#: would take Arabic-Indic, Bengali or fullwidth digits). The date, the individual number
#: and the check character are checked by ``services.intake.identity.parse``.
IDENTITY_CODE_PATTERN = r"^[0-9]{6}[-+A-FU-Y][0-9]{3}[0-9A-Y]$"


class ClientDetails(BaseModel):
    """The client's personal details. Every field here is personal data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    first_name: Annotated[str, PersonalData()] = Field(
        min_length=1, max_length=100, description="First name; personal data", examples=["Maija"]
    )
    last_name: Annotated[str, PersonalData()] = Field(
        min_length=1, max_length=100, description="Last name; personal data", examples=["Meikäläinen"]
    )
    personal_identity_code: Annotated[str, PersonalData()] = Field(
        min_length=1,
        max_length=11,
        description="Finnish personal identity code (henkilötunnus); `[erased]` once the client's "
        "key is deleted. The form (IDENTITY_CODE_PATTERN) is checked where it is entered.",
        examples=["010190-123M"],
    )


class IntakeClientEvent(EventBase):
    """An event of one client's intake case (stream ``client-<uuid>``).

    Every such event carries the client's municipality: subjects and per-municipality
    feeds are routed by it.
    """

    producer: ClassVar[str] = "intake"

    municipality: str = Field(min_length=1, max_length=100, examples=["Mikkeli"])

    def subject_side(self) -> Side:
        return Side.CENTRE

    def subject_organisation(self) -> str:
        return organisation_slug(self.municipality)


class ClientReferred(IntakeClientEvent):
    """A client was referred to the centre (*asiakkaaksi ohjautuminen*).

    v2: ``source`` is an enum with ``source_description`` beside it (v1 stored URA's
    Finnish source code; see :mod:`contracts.upcasters`). v3: ``source_description`` and
    ``need_based_reason`` are personal data (free text about the client; the reason is
    about their functional capacity), sealed with the client's key (docs/adr/0020).
    """

    event_type: ClassVar[str] = "ClientReferred"
    schema_version: ClassVar[int] = 3
    source: ReferralSource
    source_description: Annotated[str | None, PersonalData()] = Field(
        default=None,
        max_length=200,
        description="Required for source 'other': school, health care, a partner",
    )
    referral_date: date
    subsidy_days: int | None = Field(
        default=None, ge=0, le=10_000, description="Days of labour-market subsidy, if known"
    )
    unemployment_months: int | None = Field(
        default=None, ge=0, le=600, description="Months of unemployment, if known"
    )
    need_based_reason: Annotated[str | None, PersonalData()] = Field(
        default=None,
        max_length=500,
        description="From 2025: why joint service is needed (limits of work or functional "
        "capacity, or life-management problems that advice alone cannot solve)",
    )
    client: ClientDetails

    @model_validator(mode="after")
    def _other_needs_description(self) -> ClientReferred:
        if self.source is ReferralSource.OTHER and not self.source_description:
            raise ValueError("a referral from source 'other' needs source_description")
        return self


class DuplicateReferralReceived(IntakeClientEvent):
    """The same client was referred again while their intake case exists: recorded on
    the existing case, which stays the only one. v2: ``source_description`` is personal
    data (docs/adr/0020)."""

    event_type: ClassVar[str] = "DuplicateReferralReceived"
    schema_version: ClassVar[int] = 2

    source: ReferralSource
    source_description: Annotated[str | None, PersonalData()] = Field(default=None, max_length=200)
    referral_date: date


class PossibleDuplicateReason(StrEnum):
    """Why a referral was held for the intake advisor instead of being recorded."""

    #: the identity code is a known client's, but the name is not the one on their case
    SAME_CODE_OTHER_NAME = "same_code_other_name"
    #: a new identity code, but the name and birth date are an existing client's
    SAME_NAME_AND_BIRTH_DATE = "same_name_and_birth_date"


class ReferralHeldAsPossibleDuplicate(IntakeClientEvent):
    """A referral that may be of a client already known (*mahdollinen kaksoiskappale*)
    was held for the intake advisor to resolve: it opened no case and was written onto
    none. Stream ``client-<uuid>`` of its own (the referral id), so its personal fields
    are sealed and erasable like a client's; its key is deleted once it is resolved."""

    event_type: ClassVar[str] = "ReferralHeldAsPossibleDuplicate"

    reason: PossibleDuplicateReason
    candidate_client_ids: tuple[str, ...] = Field(
        min_length=1, max_length=50, description="The existing clients it may be"
    )
    source: ReferralSource
    source_description: Annotated[str | None, PersonalData()] = Field(default=None, max_length=200)
    referral_date: date
    subsidy_days: int | None = Field(default=None, ge=0, le=10_000)
    unemployment_months: int | None = Field(default=None, ge=0, le=600)
    need_based_reason: Annotated[str | None, PersonalData()] = Field(default=None, max_length=500)
    client: ClientDetails


class PossibleDuplicateResolution(StrEnum):
    """How the intake advisor resolved a referral held as a possible duplicate."""

    #: the referral is of the candidate client: recorded on their case
    SAME_PERSON = "same_person"
    #: not the candidates: the referral opens a case of its own, or (its identity code
    #: being another person's) is dismissed
    DIFFERENT_PEOPLE = "different_people"


class PossibleDuplicateResolved(IntakeClientEvent):
    """The intake advisor resolved a held referral (on the referral's own stream)."""

    event_type: ClassVar[str] = "PossibleDuplicateResolved"

    resolution: PossibleDuplicateResolution
    client_id: str | None = Field(
        default=None,
        max_length=200,
        description="The case the referral was recorded on or opened; none when dismissed",
    )


class ReferralPicked(IntakeClientEvent):
    """The intake advisor took the client from the queue: they own the case now."""

    event_type: ClassVar[str] = "ReferralPicked"

    owner_person_id: str = Field(min_length=1, max_length=200)


class InvitedToInfoSession(IntakeClientEvent):
    """The client was invited to an info session (*info-tilaisuus*)."""

    event_type: ClassVar[str] = "InvitedToInfoSession"

    session_id: str = Field(min_length=1, max_length=200)
    starts_at: datetime
    place: str = Field(min_length=1, max_length=200)


class InfoSessionAttended(IntakeClientEvent):
    """The client came to the info session; what they were handed is recorded.
    v2: ``attended_on``, the business date they came (null in a v1 event, which had none)."""

    event_type: ClassVar[str] = "InfoSessionAttended"
    schema_version: ClassVar[int] = 2

    session_id: str = Field(min_length=1, max_length=200)
    attended_on: date | None = Field(
        description="The business date the client came; null only in events recorded before v2"
    )
    initial_survey_form_given: bool = Field(description="Alkukartoituslomake handed out")
    data_protection_leaflet_given: bool


class InfoSessionMissed(IntakeClientEvent):
    """The client did not come to the info session they were invited to (no-show).
    v2: ``missed_on``, the business date of the session missed (null in a v1 event)."""

    event_type: ClassVar[str] = "InfoSessionMissed"
    schema_version: ClassVar[int] = 2

    session_id: str = Field(min_length=1, max_length=200)
    missed_on: date | None = Field(
        description="The business date of the session missed; null only in events recorded before v2"
    )


class AssessmentAppointmentBooked(IntakeClientEvent):
    """The personal service-needs assessment appointment was booked."""

    event_type: ClassVar[str] = "AssessmentAppointmentBooked"

    appointment_at: datetime
    assessor_person_id: str = Field(min_length=1, max_length=200)


class ConsentScope(StrEnum):
    """What the client consented to (*suostumus*)."""

    #: moving to the joint service centre
    MOVE_TO_CENTRE = "move_to_centre"
    #: data exchange between the centre's staff of both sides
    DATA_EXCHANGE_WITHIN_CENTRE = "data_exchange_within_centre"
    #: disclosure to the named outside organisations
    DISCLOSURE_TO_ORGANISATIONS = "disclosure_to_organisations"


class ConsentGiven(IntakeClientEvent):
    """The client signed a consent with these scopes."""

    event_type: ClassVar[str] = "ConsentGiven"

    consent_id: str = Field(min_length=1, max_length=200)
    scopes: tuple[ConsentScope, ...] = Field(min_length=1)
    organisations: tuple[str, ...] = Field(
        default=(),
        description="Named outside organisations, e.g. 'social_services:mikkeli', 'kela'",
    )
    given_on: date

    @model_validator(mode="after")
    def _organisations_need_their_scope(self) -> ConsentGiven:
        named = ConsentScope.DISCLOSURE_TO_ORGANISATIONS in self.scopes
        if named != bool(self.organisations):
            raise ValueError(
                "disclosure_to_organisations needs the organisations named, and organisations need that scope"
            )
        return self


class ConsentWithdrawn(IntakeClientEvent):
    """The client withdrew a consent they had given; it is no longer in force."""

    event_type: ClassVar[str] = "ConsentWithdrawn"

    consent_id: str = Field(min_length=1, max_length=200)
    withdrawn_on: date


class AssessmentArea(StrEnum):
    """The areas a service-needs assessment (*palvelutarvearvio*) surveys."""

    COMPETENCE = "competence"
    MOTIVATION = "motivation"
    WORK_ABILITY = "work_ability"
    SOCIAL_FUNCTIONING = "social_functioning"
    MATERIAL_RESOURCES = "material_resources"
    LABOUR_MARKET_POSITION = "labour_market_position"


class SupportNeed(StrEnum):
    """A structured finding for one area."""

    NONE = "none"
    SOME = "some"
    SIGNIFICANT = "significant"
    NOT_ASSESSED = "not_assessed"


class AreaFinding(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    area: AssessmentArea = Field(description="The area surveyed")
    support_need: SupportNeed = Field(description="The support need found in it")
    notes: Annotated[str, PersonalData()] = Field(
        default="", max_length=4000, description="Free text; personal data"
    )


class ClientProfile(StrEnum):
    """The client profiles the centre's team agreed on."""

    CENTRE = "centre"
    INTERMEDIATE_LABOUR_MARKET = "intermediate_labour_market"
    REHABILITATIVE_WORK_ACTIVITY = "rehabilitative_work_activity"


class Route(StrEnum):
    """Where the assessment sends the client."""

    INDIVIDUAL_SERVICE_GUIDANCE = "individual_service_guidance"
    HEALTH_CHECK_FIRST = "health_check_first"
    INTERMEDIATE_LABOUR_MARKET = "intermediate_labour_market"
    PAID_OR_WAGE_SUBSIDISED_WORK = "paid_or_wage_subsidised_work"
    JOB_SEARCH_SERVICES = "job_search_services"
    REHABILITATIVE_WORK_ACTIVITY = "rehabilitative_work_activity"
    NOT_HELPED_HERE = "not_helped_here"


#: Routes that start a client relationship in the centre (guidance opens a case).
ROUTES_INTO_CENTRE = frozenset(
    {Route.INDIVIDUAL_SERVICE_GUIDANCE, Route.HEALTH_CHECK_FIRST, Route.REHABILITATIVE_WORK_ACTIVITY}
)


class Assessor(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    person_id: str = Field(
        min_length=1, max_length=200, description="The assessor's stable id (their token's `sub`)"
    )
    role: str = Field(
        min_length=1,
        max_length=100,
        description="The assessor's role",
        examples=["employment_advisor", "social_worker"],
    )
    organisation: str = Field(
        min_length=1,
        max_length=100,
        description="The assessor's organisation",
        examples=["te-office", "social_services:mikkeli"],
    )


class AssessmentCompleted(IntakeClientEvent):
    """The service-needs assessment (*palvelutarvearvio*) is done and routes the client.

    From here on the guidance service owns the client relationship when the route is
    into the centre. v2: ``destination`` is personal data (docs/adr/0020).
    """

    event_type: ClassVar[str] = "AssessmentCompleted"
    schema_version: ClassVar[int] = 2

    assessed_on: date
    assessors: tuple[Assessor, ...] = Field(min_length=1, max_length=2)
    findings: tuple[AreaFinding, ...] = Field(min_length=1)
    capacity_allows_rehabilitative_work: bool = Field(
        description="Functional capacity allows at least rehabilitative work activity (entry rule)"
    )
    profile: ClientProfile | None = Field(default=None, description="None when routed elsewhere")
    ministry_segment: int | None = Field(
        default=None,
        ge=1,
        le=3,
        description="The ministry's client segment: 1 straight to the labour market, 2 via "
        "competence building, 3 rehabilitating towards the labour market",
    )
    route: Route
    destination: Annotated[str | None, PersonalData()] = Field(
        default=None, max_length=200, description="Where the client goes when not helped here; personal data"
    )
    rule_set: str = Field(description="The rule set in force on the referral date")
    summary: Annotated[str, PersonalData()] = Field(default="", max_length=8000)


class InfoSessionScheduled(EventBase):
    """An info session (*info-tilaisuus*) was scheduled (stream ``info-session-<uuid>``)."""

    event_type: ClassVar[str] = "InfoSessionScheduled"
    producer: ClassVar[str] = "intake"

    starts_at: datetime
    duration_minutes: int = Field(default=60, ge=15, le=480)
    place: str = Field(min_length=1, max_length=200)
    capacity: int = Field(ge=1, le=500)


class IntakeTargetSet(EventBase):
    """The steering group (*johtoryhmä*) set the centre's yearly intake target: how many
    new clients the centre should take in ``year`` (stream ``intake-target-<year>``).

    Effective-dated: the target in force on a day is the one with the latest ``set_on``
    not after that day; a later setting for the same year supersedes an earlier one.
    ``municipalities`` splits the target per municipality (it adds up to ``target``);
    without it, reporting apportions the target by population.
    """

    event_type: ClassVar[str] = "IntakeTargetSet"
    producer: ClassVar[str] = "intake"

    year: int = Field(ge=2000, le=2100, description="The calendar year the target is for")
    target: int = Field(ge=1, le=100_000, description="New clients the centre should take in the year")
    set_on: date = Field(description="The business date the steering group set it; in force from then")
    municipalities: dict[str, int] | None = Field(
        default=None,
        description="The target per municipality (canonical names, adding up to target); "
        "null: apportioned by population",
    )

    @model_validator(mode="after")
    def _split_adds_up(self) -> IntakeTargetSet:
        if self.municipalities is not None:
            if any(n < 0 for n in self.municipalities.values()):
                raise ValueError("a municipality's target cannot be negative")
            if sum(self.municipalities.values()) != self.target:
                raise ValueError("the municipalities' targets must add up to the target")
        return self


class ErasureReason(StrEnum):
    """Why a client's personal data was erased."""

    #: the client (or another lawful ground) asked for erasure
    LAWFUL_REQUEST = "lawful_request"
    #: four years passed since the relationship closed, with no legal hold
    RETENTION_EXPIRED = "retention_expired"


class ClientDataErased(IntakeClientEvent):
    """The client's key was deleted: every personal field of their events now reads
    ``[erased]`` (docs/adr/0011). Carries no personal data; tells the other services to
    erase their own copies (guidance's client directory, reporting's personal text)."""

    event_type: ClassVar[str] = "ClientDataErased"

    reason: ErasureReason
    erased_on: date
