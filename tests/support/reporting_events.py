"""Events of whole client stories, for reporting's tests: built as intake and guidance
emit them (one stream per client, each producer with its own versions), then applied
straight through the exactly-once path or published to JetStream as envelopes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, cast

import asyncpg

from contracts.base import Actor, EventBase
from contracts.envelope import CloudEventEnvelope
from contracts.guidance import (
    ActivationPlan,
    ClientRelationshipClosed,
    Continuation,
    FinalAssessment,
    FinalAssessmentIssued,
    GuidanceCaseOpened,
    GuideAssigned,
    HealthCheckDetailsRecorded,
    HealthCheckSummaryRecorded,
    Measure,
    MeasureStatus,
    Outcome,
    Phase,
    PhaseChanged,
    PlanRevised,
    ReassessmentCompleted,
    ReturnedFromSocialServices,
    TransferAcknowledged,
    TransferredToSocialServices,
)
from contracts.intake import (
    AreaFinding,
    AssessmentArea,
    AssessmentCompleted,
    Assessor,
    ClientDataErased,
    ClientDetails,
    ClientProfile,
    ClientReferred,
    ConsentGiven,
    ConsentScope,
    ConsentWithdrawn,
    DuplicateReferralReceived,
    ErasureReason,
    IntakeTargetSet,
    ReferralSource,
    Route,
    SupportNeed,
)
from contracts.subjects import event_subject, organisation_slug
from runtime import erasure
from runtime.config import Settings
from runtime.consumer import ExactlyOnceConsumer
from services.reporting.facts import ClientEvent
from services.reporting.projections import ReportingProjection
from services.rules import rules_in_force

SOURCES = {"intake": "/reitti/intake", "guidance": "/reitti/guidance"}
ADVISOR = Actor(person_id="advisor-1", role="employment_advisor", organisation="te-office")
GUIDE_ACTOR = Actor(person_id="guide-1", role="service_guide", organisation="mikkeli")
MUNICIPALITIES = ("Mikkeli", "Hirvensalmi", "Kangasniemi", "Mäntyharju", "Pertunmaa", "Puumala", "Ristiina")
INTO_CENTRE = (ConsentScope.MOVE_TO_CENTRE, ConsentScope.DATA_EXCHANGE_WITHIN_CENTRE)


def client_event(event: EventBase) -> ClientEvent:
    """``event`` as the client's event every event of a story is (``CaseFacts.new`` takes one)."""
    assert isinstance(event, ClientEvent), f"{type(event).__name__} is not a client's event"
    return event


def at(day: date) -> datetime:
    return datetime.combine(day, time(10, 0), tzinfo=UTC)


class Story:
    """One client's events, in the order intake and guidance would emit them."""

    def __init__(self, municipality: str = "Mikkeli", client_id: str | None = None) -> None:
        self.client_id = client_id or f"client-{uuid.uuid4()}"
        self.municipality = municipality
        self.versions = {"intake": 0, "guidance": 0}
        self.events: list[EventBase] = []
        self.correlation = uuid.uuid4()

    def _add(self, cls: type[Any], day: date, actor: Actor = ADVISOR, **fields: Any) -> Any:
        self.versions[cls.producer] += 1
        event = cls(
            event_id=uuid.uuid4(),
            stream_id=self.client_id,
            stream_version=self.versions[cls.producer],
            occurred_at=at(day),
            recorded_at=at(day),
            actor=actor,
            correlation_id=self.correlation,
            causation_id=self.events[-1].event_id if self.events else None,
            municipality=self.municipality,
            **fields,
        )
        self.events.append(event)
        return event

    def referred(
        self, on: date, source: ReferralSource = ReferralSource.TE_OFFICE, subsidy_days: int | None = 520
    ) -> ClientReferred:
        event: ClientReferred = self._add(
            ClientReferred,
            on,
            source=source,
            source_description="school" if source is ReferralSource.OTHER else None,
            referral_date=on,
            subsidy_days=subsidy_days,
            unemployment_months=30,
            client=ClientDetails(
                first_name="Maija", last_name="Meikäläinen", personal_identity_code="010190-123M"
            ),
        )
        return event

    def consent(
        self,
        on: date,
        consent_id: str = "consent-1",
        scopes: Sequence[ConsentScope] = INTO_CENTRE,
        organisations: Sequence[str] = (),
    ) -> ConsentGiven:
        event: ConsentGiven = self._add(
            ConsentGiven,
            on,
            consent_id=consent_id,
            scopes=tuple(scopes),
            organisations=tuple(organisations),
            given_on=on,
        )
        return event

    def referred_again(self, on: date) -> DuplicateReferralReceived:
        event: DuplicateReferralReceived = self._add(
            DuplicateReferralReceived, on, source=ReferralSource.SELF_REFERRAL, referral_date=on
        )
        return event

    def erased(self, on: date) -> ClientDataErased:
        event: ClientDataErased = self._add(
            ClientDataErased, on, reason=ErasureReason.LAWFUL_REQUEST, erased_on=on
        )
        return event

    def withdraw(self, on: date, consent_id: str = "consent-1") -> ConsentWithdrawn:
        event: ConsentWithdrawn = self._add(ConsentWithdrawn, on, consent_id=consent_id, withdrawn_on=on)
        return event

    def assessed(self, on: date, route: Route = Route.INDIVIDUAL_SERVICE_GUIDANCE) -> AssessmentCompleted:
        referral = next(e for e in self.events if isinstance(e, ClientReferred))
        event: AssessmentCompleted = self._add(
            AssessmentCompleted,
            on,
            assessed_on=on,
            assessors=(Assessor(person_id="advisor-1", role="employment_advisor", organisation="te-office"),),
            findings=tuple(
                AreaFinding(area=a, support_need=SupportNeed.SOME, notes="free text") for a in AssessmentArea
            ),
            capacity_allows_rehabilitative_work=True,
            profile=ClientProfile.CENTRE,
            ministry_segment=3,
            route=route,
            rule_set=rules_in_force(referral.referral_date).name,
        )
        return event

    def opened(self, on: date, route: Route = Route.INDIVIDUAL_SERVICE_GUIDANCE) -> GuidanceCaseOpened:
        event: GuidanceCaseOpened = self._add(
            GuidanceCaseOpened,
            on,
            GUIDE_ACTOR,
            opened_on=on,
            route=route,
            profile=ClientProfile.CENTRE,
            ministry_segment=3,
            handed_to_social_services=route is Route.REHABILITATIVE_WORK_ACTIVITY,
            rule_set=rules_in_force(on).name,
        )
        return event

    def guide(self, on: date, guide: str = "guide-1") -> GuideAssigned:
        event: GuideAssigned = self._add(
            GuideAssigned, on, GUIDE_ACTOR, guide_person_id=guide, guide_role="service_guide", assigned_on=on
        )
        return event

    def phase(self, on: date, phase: Phase) -> PhaseChanged:
        event: PhaseChanged = self._add(PhaseChanged, on, GUIDE_ACTOR, phase=phase, changed_on=on)
        return event

    def reassessed(self, on: date, previous: Route, route: Route) -> ReassessmentCompleted:
        event: ReassessmentCompleted = self._add(
            ReassessmentCompleted,
            on,
            GUIDE_ACTOR,
            reassessed_on=on,
            assessors=(
                Assessor(person_id="guide-1", role="service_guide", organisation="mikkeli"),
                Assessor(person_id="social-worker-1", role="social_worker", organisation="mikkeli"),
            ),
            previous_route=previous,
            route=route,
            reason="stalled at the work try-out",
        )
        return event

    def plan(self, on: date, *kinds: str, revision: int = 1) -> PlanRevised:
        measures = tuple(
            Measure(
                measure_id=f"m{n}",
                kind=kind,
                provider="Vartti",
                start=on,
                end=date(on.year, 12, 31),
                status=MeasureStatus.ONGOING,
            )
            for n, kind in enumerate(kinds, start=1)
        )
        event: PlanRevised = self._add(
            PlanRevised, on, GUIDE_ACTOR, revision=revision, revised_on=on, measures=measures, review=False
        )
        return event

    def health_summary(self, on: date) -> HealthCheckSummaryRecorded:
        event: HealthCheckSummaryRecorded = self._add(
            HealthCheckSummaryRecorded,
            on,
            Actor(person_id="nurse-1", role="nurse", organisation="mikkeli"),
            checked_on=on,
            work_restrictions_found=True,
            recommended_next_step="work try-out, light duties",
        )
        return event

    def health_details(self, on: date, details: str) -> HealthCheckDetailsRecorded:
        event: HealthCheckDetailsRecorded = self._add(
            HealthCheckDetailsRecorded,
            on,
            Actor(person_id="nurse-1", role="nurse", organisation="mikkeli"),
            checked_on=on,
            details=details,
        )
        return event

    def transferred(
        self, on: date, transfer_id: str = "t1", receiving: str | None = None, *, stays_open: bool = True
    ) -> Any:
        return self._add(
            TransferredToSocialServices,
            on,
            GUIDE_ACTOR,
            transfer_id=transfer_id,
            receiving_municipality=receiving or self.municipality,
            transferred_on=on,
            activation_plan=ActivationPlan(
                start=on, months=6, days_per_week=3, hours_per_day=Decimal(5), place="Workshop"
            ),
            relationship_stays_open=stays_open,
        )

    def acknowledged(self, on: date, transfer_id: str = "t1", accepted: bool = True) -> Any:
        return self._add(
            TransferAcknowledged,
            on,
            Actor(person_id="social-worker-1", role="social_worker", organisation="mikkeli"),
            transfer_id=transfer_id,
            accepted=accepted,
            acknowledged_on=on,
        )

    def returned(self, on: date, transfer_id: str = "t1") -> Any:
        return self._add(ReturnedFromSocialServices, on, GUIDE_ACTOR, transfer_id=transfer_id, returned_on=on)

    def closed(self, on: date, outcome: Outcome, months: int = 8) -> ClientRelationshipClosed:
        event: ClientRelationshipClosed = self._add(
            ClientRelationshipClosed,
            on,
            GUIDE_ACTOR,
            closed_on=on,
            outcome=outcome,
            services_continue=Continuation.TE_OFFICE,
            final_assessment=FINAL_ASSESSMENT,
            rule_set=rules_in_force(on).name,
            months_in_relationship=months,
        )
        return event

    def final_assessment(
        self, on: date, outcome: Outcome, assessment: FinalAssessment | None = None
    ) -> FinalAssessmentIssued:
        event: FinalAssessmentIssued = self._add(
            FinalAssessmentIssued,
            on,
            GUIDE_ACTOR,
            personal_identity_code="010190-123M",
            closed_on=on,
            outcome=outcome,
            services_continue=Continuation.TE_OFFICE,
            final_assessment=assessment or FINAL_ASSESSMENT,
        )
        return event


FINAL_ASSESSMENT = FinalAssessment(
    text="Work ability clarified; continues at the TE-office.",
    work_ability_clarified=True,
    competence_improved=False,
)

#: The seed's 2010: 139 new clients (TE-office 52 %, social services 5 %, self 29 %,
#: other 14 %) and 100 closures (13/15/17/28/14/13 %).
SEED_SOURCES = (
    [ReferralSource.TE_OFFICE] * 72
    + [ReferralSource.SOCIAL_SERVICES] * 7
    + [ReferralSource.SELF_REFERRAL] * 40
    + [ReferralSource.OTHER] * 20
)
SEED_OUTCOMES = (
    [Outcome.OPEN_LABOUR_MARKET] * 13
    + [Outcome.EDUCATION] * 15
    + [Outcome.WAGE_SUBSIDISED_WORK] * 17
    + [Outcome.OUTSIDE_LABOUR_FORCE] * 28
    + [Outcome.UNEMPLOYED] * 14
    + [Outcome.INTERRUPTED] * 13
)
SEED_POPULATION_SHARES = {  # 139 clients apportioned by the configured populations
    "Mikkeli": 93,
    "Hirvensalmi": 5,
    "Kangasniemi": 11,
    "Mäntyharju": 12,
    "Pertunmaa": 4,
    "Puumala": 5,
    "Ristiina": 9,
}


def seed_year(guides: int = 3) -> list[Story]:
    """139 clients of 2010, referred from the seed's mix, 100 of them closed with its outcomes."""
    homes = [m for m, n in SEED_POPULATION_SHARES.items() for _ in range(n)]
    stories = []
    for n, source in enumerate(SEED_SOURCES):
        story = Story(homes[(n * 37) % len(homes)])
        referred = date(2010, 1, 4) + (date(2010, 8, 31) - date(2010, 1, 4)) * n // len(SEED_SOURCES)
        story.referred(referred, source, subsidy_days=300 + (n * 53) % 700)
        story.consent(referred)
        assessed = referred.fromordinal(referred.toordinal() + 14 + n % 20)
        story.assessed(assessed)
        story.opened(assessed)
        story.guide(assessed.fromordinal(assessed.toordinal() + 7 + n % 10), guide=f"guide-{n % guides + 1}")
        if n < len(SEED_OUTCOMES):
            story.plan(assessed.fromordinal(assessed.toordinal() + 20), "work_try_out")
            closed = date(2010, 12, 15) - (date(2010, 12, 15) - assessed) * (n % 5) // 10
            outcome = SEED_OUTCOMES[(n * 7) % len(SEED_OUTCOMES)]
            story.closed(closed, outcome, months=40 if n % 25 == 0 else 6)
            story.final_assessment(closed, outcome)
        stories.append(story)
    return stories


STEERING_ACTOR = Actor(person_id="steering-1", role="steering_group_member", organisation="centre")


def target_set(
    year: int, target: int, set_on: date, *, version: int = 1, municipalities: dict[str, int] | None = None
) -> IntakeTargetSet:
    """The steering group's setting of ``year``'s intake target, as intake emits it."""
    return IntakeTargetSet(
        event_id=uuid.uuid4(),
        stream_id=f"intake-target-{year}",
        stream_version=version,
        occurred_at=at(set_on),
        recorded_at=at(set_on),
        actor=STEERING_ACTOR,
        correlation_id=uuid.uuid4(),
        year=year,
        target=target,
        set_on=set_on,
        municipalities=municipalities,
    )


def seed_targets() -> list[EventBase]:
    """The seed's targets, 350 for 2010 and 200 for 2011, set as reitti demo sets them."""
    return [target_set(2010, 350, date(2009, 12, 15)), target_set(2011, 200, date(2010, 12, 15))]


def interleaved(stories: Iterable[Story]) -> list[EventBase]:
    """All stories' events in order of occurrence (each story's own order kept)."""
    indexed = [
        (e.occurred_at, s, i, e) for s, story in enumerate(stories) for i, e in enumerate(story.events)
    ]
    return [e for *_, e in sorted(indexed, key=lambda t: t[:3])]


def envelope(event: EventBase) -> CloudEventEnvelope:
    return CloudEventEnvelope.wrap(event, source=SOURCES[event.producer])


def subject(settings: Settings, event: EventBase) -> str:
    return event_subject(
        settings.namespace,
        event.producer,
        event.subject_side(),
        event.subject_organisation(),
        event.event_type,
    )


async def publish(js: Any, settings: Settings, events: Iterable[EventBase]) -> int:
    """Publish as the relays do: the envelope, ``Nats-Msg-Id`` = event id, every ack awaited."""
    acks = [
        await js.publish_async(
            subject(settings, e), envelope(e).to_bytes(), headers={"Nats-Msg-Id": str(e.event_id)}
        )
        for e in events
    ]
    await asyncio.gather(*acks)
    return len(acks)


async def apply_all(
    pool: asyncpg.Pool, settings: Settings, events: Iterable[EventBase], *, schema: str = "reporting"
) -> int:
    """Apply events through the consumer's exactly-once path, one transaction each, with
    made-up stream sequences (1, 2, ...), as the live consumer would; the number applied
    (an event already applied is not applied again)."""
    consumer = ExactlyOnceConsumer(
        pool=pool, js=cast(Any, None), settings=settings, projection=ReportingProjection(schema)
    )
    applied = 0
    events = list(events)
    async with pool.acquire() as conn:
        await give_keys(conn, events)
        seq = await conn.fetchval(f'SELECT coalesce(max(stream_seq), 0) FROM "{schema}".consumed_events')
        for event in events:
            seq += 1
            async with conn.transaction():
                result = await consumer.apply_in(conn, envelope(event), event, seq)
            # apply_in answers True/False, or an Applied member where the consumer keeps stream order
            applied += getattr(result, "value", result) in (True, "applied")
    return applied


async def give_keys(conn: asyncpg.Connection, events: Iterable[EventBase]) -> None:
    """A key in the vault for each client of ``events`` that has none, as intake's first
    append makes it live: reporting seals their personal text with it (docs/adr/0020)."""
    clients = sorted({e.stream_id for e in events if e.stream_id.startswith(erasure.CLIENT_STREAM_PREFIX)})
    keys = await erasure.fetch_keys(conn, clients)
    for client_id in clients:
        if keys.get(client_id) is None:
            await erasure.set_legal_hold(conn, client_id, False)


def slug(municipality: str) -> str:
    return organisation_slug(municipality)
