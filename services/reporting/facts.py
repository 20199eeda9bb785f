"""What reporting knows of one client's case, folded from the events by a pure function.

:class:`CaseFacts` is the centre partition's record of a client (the joint workspace's
working copy): dates, codes, the current plan's measures, transfers and the consents in
force. It holds the client's name (sealed at rest, for the receiving social services'
view) but no identity code, and never the health check's details
(those go to the health partition only). The side views and the steering aggregates are
cut from it by the pure functions in :mod:`services.reporting.partitions`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from contracts.base import ERASED, EventBase
from contracts.guidance import (
    ClientRelationshipClosed,
    GuidanceCaseOpened,
    GuidanceClientEvent,
    GuideAssigned,
    HealthCheckSummaryRecorded,
    Phase,
    PhaseChanged,
    PlanRevised,
    ReassessmentCompleted,
    ReturnedFromSocialServices,
    TransferAcknowledged,
    TransferredToSocialServices,
)
from contracts.intake import (
    AssessmentCompleted,
    ClientDataErased,
    ClientReferred,
    ConsentGiven,
    ConsentWithdrawn,
    DuplicateReferralReceived,
    IntakeClientEvent,
)
from services.disclosure.policy import Client
from services.rules.caseload import Handover, counts_in_caseload

ClientEvent = IntakeClientEvent | GuidanceClientEvent


class _Fact(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ConsentFact(_Fact):
    consent_id: str
    scopes: tuple[str, ...]
    organisations: tuple[str, ...] = ()
    given_on: date
    withdrawn_on: date | None = None


class MeasureFact(_Fact):
    measure_id: str
    kind: str
    provider: str
    start: date
    end: date | None
    status: str


#: guidance's name for the hand-over made when the route opens the case with social services
OPENING_TRANSFER = "opening"


class TransferFact(_Fact):
    transfer_id: str
    receiving_municipality: str
    transferred_on: date
    #: the activation plan; None for the hand-over at opening (transfer_id "opening")
    plan_start: date | None
    plan_months: int | None
    days_per_week: int | None
    hours_per_day: Decimal | None
    place: str | None
    relationship_stays_open: bool
    acknowledged_on: date | None = None
    accepted: bool | None = None
    returned_on: date | None = None

    @property
    def at_social_services(self) -> bool:
        """The client is with social services: transferred, not declined, not returned."""
        return self.returned_on is None and self.accepted is not False


#: where a transfer to social services stands: they add up to the transfers made
TRANSFER_STATES = ("returned", "at_social_services", "closed_while_there", "declined")


class HealthSummaryFact(_Fact):
    checked_on: date
    work_restrictions_found: bool
    recommended_next_step: str


class CaseFacts(_Fact):
    client_id: str
    municipality: str
    #: the client's name as the referral gave it (first and last), for the receiving
    #: social services (sealed at rest: services/reporting/sealed.py); None once erased
    name: str | None = None
    referral_source: str | None = None
    referral_date: date | None = None
    subsidy_days: int | None = None
    unemployment_months: int | None = None
    duplicate_referrals: int = 0
    assessed_on: date | None = None
    #: route, profile and segment as intake's assessment gave them ...
    assessment_route: str | None = None
    assessment_profile: str | None = None
    assessment_segment: int | None = None
    assessment_rule_set: str | None = None
    #: ... and as guidance opened (or re-assessed) the case; guidance's win
    guidance_route: str | None = None
    guidance_profile: str | None = None
    guidance_segment: int | None = None
    opened_on: date | None = None
    #: the current relationship was opened after an earlier one: the referral is that one's
    reopened: bool = False
    handed_to_social_services: bool = False
    opening_rule_set: str | None = None
    guide_person_id: str | None = None
    guide_first_assigned_on: date | None = None
    phase: str | None = None
    plan_revision: int = 0
    first_plan_on: date | None = None
    measures: tuple[MeasureFact, ...] = ()
    health_summaries: tuple[HealthSummaryFact, ...] = ()
    transfers: tuple[TransferFact, ...] = ()
    #: how many of ``transfers`` were made before the current relationship was opened
    #: (a closed case may be opened again; its earlier hand-overs stay for the counts)
    transfers_before_opening: int = 0
    #: the current relationship is closed (``closed_on`` keeps the last closure's date);
    #: None in facts stored before this field, where ``closed_on`` tells
    relationship_closed: bool | None = None
    reassessments: int = 0
    closed_on: date | None = None
    outcome: str | None = None
    services_continue: str | None = None
    months_in_relationship: int | None = None
    closing_rule_set: str | None = None
    consents: tuple[ConsentFact, ...] = ()

    @classmethod
    def new(cls, event: ClientEvent) -> CaseFacts:
        return cls(client_id=event.stream_id, municipality=event.municipality)

    # --- consent -----------------------------------------------------------------------

    def disclosure_client(self) -> Client:
        """The client as the disclosure policy sees them (docs/adr/0018): which side and
        partner may hold their data is decided there, from these consents."""
        return Client(client_id=self.client_id, municipality=self.municipality, consents=self.consents)

    # --- state -------------------------------------------------------------------------
    # Intake's and guidance's events are each applied in their own stream's order, but
    # not in order with each other; fields both set are kept apart and merged here.

    @property
    def route(self) -> str | None:
        return self.guidance_route or self.assessment_route

    @property
    def profile(self) -> str | None:
        return self.guidance_profile or self.assessment_profile

    @property
    def ministry_segment(self) -> int | None:
        return self.guidance_segment or self.assessment_segment

    @property
    def at_social_services(self) -> bool:
        return any(t.at_social_services for t in self.transfers)

    @property
    def latest_handover(self) -> Handover | None:
        """The current relationship's latest hand-over to social services, if any."""
        if len(self.transfers) <= self.transfers_before_opening:
            return None
        t = self.transfers[-1]
        return Handover(
            relationship_stays_open=t.relationship_stays_open,
            declined=t.accepted is False,
            returned=t.returned_on is not None,
        )

    @property
    def waiting_for_guide(self) -> bool:
        """The relationship is open and waits for a named guide (guidance's
        ``waiting_for_guide``): opened, no guide named, not with social services."""
        closed = self.relationship_closed
        if self.opened_on is None or self.guide_person_id is not None:
            return False
        if self.closed_on is not None if closed is None else closed:
            return False
        handover = self.latest_handover
        return handover is None or handover.declined or handover.returned

    def transfer_state(self, transfer: TransferFact) -> str:
        """Where a transfer to social services stands now: one of :data:`TRANSFER_STATES`."""
        if transfer.accepted is False:
            return "declined"
        if transfer.returned_on is not None:
            return "returned"
        closed = self.relationship_closed
        earlier = transfer in self.transfers[: self.transfers_before_opening]
        if earlier or (self.closed_on is not None if closed is None else closed):
            # the relationship that made it closed while the client was there
            return "closed_while_there"
        return "at_social_services"

    @property
    def in_active_guidance(self) -> bool:
        """Counts in the named guide's caseload, as guidance counts it (docs/adr/0029)."""
        closed = self.relationship_closed
        return counts_in_caseload(
            guide_named=self.guide_person_id is not None,
            closed=self.closed_on is not None if closed is None else closed,
            latest_handover=self.latest_handover,
        )


def evolve(facts: CaseFacts, event: EventBase) -> CaseFacts:
    """The case after ``event``. Pure: the same events give the same facts, whenever."""
    update: dict[str, object] = {}
    if isinstance(event, ClientReferred):
        details = event.client
        erased = ERASED in (details.first_name, details.last_name)  # a replay after erasure
        update = {
            "name": None if erased else f"{details.first_name} {details.last_name}",
            "referral_source": event.source.value,
            "referral_date": event.referral_date,
            "subsidy_days": event.subsidy_days,
            "unemployment_months": event.unemployment_months,
        }
    elif isinstance(event, DuplicateReferralReceived):
        update = {"duplicate_referrals": facts.duplicate_referrals + 1}
    elif isinstance(event, ConsentGiven):
        consent = ConsentFact(
            consent_id=event.consent_id,
            scopes=tuple(s.value for s in event.scopes),
            organisations=event.organisations,
            given_on=event.given_on,
        )
        others = tuple(c for c in facts.consents if c.consent_id != event.consent_id)
        update = {"consents": (*others, consent)}
    elif isinstance(event, ConsentWithdrawn):
        update = {
            "consents": tuple(
                c.model_copy(update={"withdrawn_on": event.withdrawn_on})
                if c.consent_id == event.consent_id
                else c
                for c in facts.consents
            )
        }
    elif isinstance(event, AssessmentCompleted):
        update = {
            "assessed_on": event.assessed_on,
            "assessment_route": event.route.value,
            "assessment_profile": event.profile.value if event.profile else None,
            "assessment_segment": event.ministry_segment,
            "assessment_rule_set": event.rule_set,
        }
    elif isinstance(event, GuidanceCaseOpened):
        update = {
            "opened_on": event.opened_on,
            "reopened": facts.opened_on is not None,
            "guidance_route": event.route.value,
            "guidance_profile": event.profile.value if event.profile else None,
            "guidance_segment": event.ministry_segment,
            "handed_to_social_services": event.handed_to_social_services,
            "opening_rule_set": event.rule_set,
            # A new relationship: guidance names a guide afresh and counts its hand-overs anew.
            "relationship_closed": False,
            "guide_person_id": None,
            # The phase is the case's, as guidance holds it: a new relationship begins in
            # the referral phase (*asiakkaaksi ohjautuminen*) until a PhaseChanged moves it.
            "phase": Phase.REFERRAL.value,
            "transfers_before_opening": len(facts.transfers),
        }
        if event.handed_to_social_services:
            # Guidance's implicit hand-over at opening: acknowledged and returned like any.
            opening = TransferFact(
                transfer_id=OPENING_TRANSFER,
                receiving_municipality=event.municipality,
                transferred_on=event.opened_on,
                plan_start=None,
                plan_months=None,
                days_per_week=None,
                hours_per_day=None,
                place=None,
                relationship_stays_open=True,
            )
            earlier = tuple(t for t in facts.transfers if t.transfer_id != OPENING_TRANSFER)
            update["transfers"] = (*earlier, opening)
            update["transfers_before_opening"] = len(earlier)
    elif isinstance(event, GuideAssigned):
        update = {
            "guide_person_id": event.guide_person_id,
            "guide_first_assigned_on": facts.guide_first_assigned_on or event.assigned_on,
        }
    elif isinstance(event, PhaseChanged):
        update = {"phase": event.phase.value}
    elif isinstance(event, PlanRevised):
        update = {
            "plan_revision": event.revision,
            "first_plan_on": facts.first_plan_on or event.revised_on,
            "measures": tuple(
                MeasureFact(
                    measure_id=m.measure_id,
                    kind=m.kind,
                    provider=m.provider,
                    start=m.start,
                    end=m.end,
                    status=m.status.value,
                )
                for m in event.measures
            ),
        }
    elif isinstance(event, HealthCheckSummaryRecorded):
        summary = HealthSummaryFact(
            checked_on=event.checked_on,
            work_restrictions_found=event.work_restrictions_found,
            recommended_next_step=event.recommended_next_step,
        )
        update = {"health_summaries": (*facts.health_summaries, summary)}
    elif isinstance(event, TransferredToSocialServices):
        plan = event.activation_plan
        transfer = TransferFact(
            transfer_id=event.transfer_id,
            receiving_municipality=event.receiving_municipality,
            transferred_on=event.transferred_on,
            plan_start=plan.start,
            plan_months=plan.months,
            days_per_week=plan.days_per_week,
            hours_per_day=plan.hours_per_day,
            place=plan.place,
            relationship_stays_open=event.relationship_stays_open,
        )
        earlier = tuple(t for t in facts.transfers if t.transfer_id != event.transfer_id)
        update = {"transfers": (*earlier, transfer)}
    elif isinstance(event, TransferAcknowledged):
        changes: dict[str, object] = {"acknowledged_on": event.acknowledged_on, "accepted": event.accepted}
        if (agreed := event.activation_plan) is not None:
            # the hand-over the route opened gets its activation plan when it is accepted
            changes.update(
                plan_start=agreed.start,
                plan_months=agreed.months,
                days_per_week=agreed.days_per_week,
                hours_per_day=agreed.hours_per_day,
                place=agreed.place,
            )
        update = {"transfers": _update_transfer(facts, event.transfer_id, **changes)}
    elif isinstance(event, ReturnedFromSocialServices):
        update = {"transfers": _update_transfer(facts, event.transfer_id, returned_on=event.returned_on)}
    elif isinstance(event, ReassessmentCompleted):
        update = {"reassessments": facts.reassessments + 1, "guidance_route": event.route.value}
    elif isinstance(event, ClientDataErased):
        # The key is gone: a replay reads these as erased already; live, they go now.
        update = {
            "name": None,
            "health_summaries": tuple(
                h.model_copy(update={"recommended_next_step": ERASED}) for h in facts.health_summaries
            ),
        }
    elif isinstance(event, ClientRelationshipClosed):
        update = {
            "closed_on": event.closed_on,
            "outcome": event.outcome.value,
            "services_continue": event.services_continue.value,
            "months_in_relationship": event.months_in_relationship,
            "closing_rule_set": event.rule_set,
            "relationship_closed": True,
            # closing the relationship begins the closure phase (guidance allows no
            # PhaseChanged to it): a side view never shows a phase older than the case's
            "phase": Phase.CLOSURE.value,
        }
    return facts.model_copy(update=update) if update else facts


def _update_transfer(facts: CaseFacts, transfer_id: str, **changes: object) -> tuple[TransferFact, ...]:
    return tuple(t.model_copy(update=changes) if t.transfer_id == transfer_id else t for t in facts.transfers)
