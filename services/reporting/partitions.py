"""How a client's case is cut into the side partitions: pure functions of :class:`CaseFacts`.

Separation is by construction: each partition's rows are produced here, and only here,
from the centre partition's facts, and each function decides on its own what its side
may hold.

- **TE side** (employment): the client's referral, route, guide, phase, plan measures,
  closure and the health check's summary. All of it is recorded in the joint centre, so
  it is on the TE side's view only while a consent in force covers data exchange within
  the centre (``data_exchange_within_centre``; the disclosure policy decides, docs/adr/0018).
  The final assessment is the TE-office's own (it goes to URA by law) and is kept apart,
  without that condition.
- **Municipal side**, one view per municipality: its residents routed to rehabilitative
  work activity, with their names, and the transfers it received, with the activation
  plans. Only while a consent in force names ``social_services:<municipality>`` for
  disclosure.
- **Health**: the health check's details; they never enter :class:`CaseFacts`.
- **Steering group**: counts keyed by metric, year, municipality and a bucket. A key
  has no client in it, so the aggregates hold no personal data by their type.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from contracts.intake import Route
from services.disclosure.policy import Crossing, Kind, decide
from services.reporting.config import OVER_DAYS
from services.reporting.facts import CaseFacts
from services.rules import NoRulesInForce, RuleSet, assessment_deadline, plan_due, rules_in_force

# --- TE side ----------------------------------------------------------------------------

TeClientRow = tuple[
    str,
    str,
    str | None,
    date | None,
    str | None,
    str | None,
    int | None,
    date | None,
    str | None,
    str | None,
    date | None,
    str | None,
]
TeMeasureRow = tuple[str, str, str, str, date, date | None, str]
TeHealthSummaryRow = tuple[str, int, date, bool, str]


@dataclass(frozen=True)
class TeView:
    client: TeClientRow
    measures: tuple[TeMeasureRow, ...]
    health_summaries: tuple[TeHealthSummaryRow, ...]


def te_view(facts: CaseFacts) -> TeView | None:
    """The client's rows on the TE side's view, or None while no consent covers the exchange."""
    if not decide(None, Crossing(Kind.TE_PARTITION), facts.disclosure_client()).allowed:
        return None
    c = facts
    return TeView(
        client=(
            c.client_id,
            c.municipality,
            c.referral_source,
            c.referral_date,
            c.route,
            c.profile,
            c.ministry_segment,
            c.opened_on,
            c.guide_person_id,
            c.phase,
            c.closed_on,
            c.outcome,
        ),
        measures=tuple(
            (c.client_id, m.measure_id, m.kind, m.provider, m.start, m.end, m.status) for m in c.measures
        ),
        health_summaries=tuple(
            (c.client_id, n, h.checked_on, h.work_restrictions_found, h.recommended_next_step)
            for n, h in enumerate(c.health_summaries, start=1)
        ),
    )


# --- municipal side ---------------------------------------------------------------------

MunicipalClientRow = tuple[str, str, str, str | None, date | None, date | None, bool, str | None]
MunicipalTransferRow = tuple[
    str,
    str,
    str,
    date,
    date | None,
    int | None,
    int | None,
    object,
    str | None,
    bool,
    date | None,
    bool | None,
    date | None,
]


@dataclass(frozen=True)
class MunicipalView:
    clients: tuple[MunicipalClientRow, ...]
    transfers: tuple[MunicipalTransferRow, ...]


def municipal_view(facts: CaseFacts) -> MunicipalView:
    """The client's rows on each municipality's view that a consent in force allows: with
    the client's name, what the receiving social services serve the client with (the one
    decision, :data:`Kind.MUNICIPAL_PARTITION`, covers the row and its name)."""
    c = facts
    client = facts.disclosure_client()

    def disclosed(m: str) -> bool:
        return decide(None, Crossing(Kind.MUNICIPAL_PARTITION, municipality=m), client).allowed

    involved: list[str] = []
    if c.route == Route.REHABILITATIVE_WORK_ACTIVITY.value or c.handed_to_social_services:
        involved.append(c.municipality)
    involved.extend(t.receiving_municipality for t in c.transfers)
    clients = tuple(
        (m, c.client_id, c.municipality, c.route, c.opened_on, c.closed_on, c.at_social_services, c.name)
        for m in dict.fromkeys(involved)
        if disclosed(m)
    )
    transfers = tuple(
        (
            t.receiving_municipality,
            t.transfer_id,
            c.client_id,
            t.transferred_on,
            t.plan_start,
            t.plan_months,
            t.days_per_week,
            t.hours_per_day,
            t.place,
            t.relationship_stays_open,
            t.acknowledged_on,
            t.accepted,
            t.returned_on,
        )
        for t in c.transfers
        if disclosed(t.receiving_municipality)
    )
    return MunicipalView(clients=clients, transfers=transfers)


# --- steering group ---------------------------------------------------------------------


class Metric(StrEnum):
    """What a steering count counts. ``year`` is the year named; ``bucket`` refines."""

    #: new clients whose subsidy days are known; year of referral
    SUBSIDY_DAYS_KNOWN = "subsidy_days_known"
    #: of those, over 500 days of labour-market subsidy at referral
    OVER_500_DAYS = "over_500_days"
    #: closed relationships; year of closure; bucket = outcome
    CLOSED = "closed"
    #: closed relationships that had lasted over three years (36 months)
    CLOSED_OVER_THREE_YEARS = "closed_over_three_years"
    #: bucket = days from referral to assessment; year of the assessment
    WAIT_REFERRAL_TO_ASSESSMENT = "wait_referral_to_assessment"
    #: bucket = days from assessment to the first named guide; year of the assignment
    WAIT_ASSESSMENT_TO_GUIDE = "wait_assessment_to_guide"
    #: clients in active guidance now; year 0; bucket = guide's person id
    ACTIVE_CASELOAD = "active_caseload"
    #: transfers to social services; year of the transfer; municipality = receiving
    TRANSFERRED = "transferred_to_social_services"
    #: returns from social services; year of the return; municipality = receiving
    RETURNED = "returned_from_social_services"
    #: transfers to social services; year of the transfer; municipality = receiving;
    #: bucket = where it stands now (facts.TRANSFER_STATES): they add up to TRANSFERRED
    TRANSFER_STATE = "transfer_state"
    #: relationships open and waiting for a named guide now; year of the opening
    WAITING_FOR_GUIDE = "waiting_for_guide"
    #: plan measures not cancelled (services used); year of start; bucket = measure kind
    MEASURES = "measures"
    #: bucket = "<due>|<assessed on or empty>"; year of the due date
    ASSESSMENT_DEADLINE = "assessment_deadline"
    #: bucket = "<due>|<first plan on or empty>"; year of the due date
    PLAN_DEADLINE = "plan_deadline"


#: metric, year, municipality, bucket
SteeringKey = tuple[str, int, str, str]
NOT_BY_YEAR = 0


def steering_counts(facts: CaseFacts) -> Counter[SteeringKey]:
    """What one client adds to the steering group's counts. Rules are those in force on
    the dates of the case (the referral, the opening), never today's."""
    c, m = facts, facts.municipality
    out: Counter[SteeringKey] = Counter()
    if c.referral_date is not None and c.subsidy_days is not None:
        out[(Metric.SUBSIDY_DAYS_KNOWN, c.referral_date.year, m, "")] += 1
        if c.subsidy_days > OVER_DAYS:
            out[(Metric.OVER_500_DAYS, c.referral_date.year, m, "")] += 1
    if c.closed_on is not None and c.outcome is not None:
        out[(Metric.CLOSED, c.closed_on.year, m, c.outcome)] += 1
        if (c.months_in_relationship or 0) > 36:
            out[(Metric.CLOSED_OVER_THREE_YEARS, c.closed_on.year, m, "")] += 1
    if c.referral_date is not None and c.assessed_on is not None:
        days = max(0, (c.assessed_on - c.referral_date).days)
        out[(Metric.WAIT_REFERRAL_TO_ASSESSMENT, c.assessed_on.year, m, str(days))] += 1
    if c.assessed_on is not None and c.guide_first_assigned_on is not None:
        days = max(0, (c.guide_first_assigned_on - c.assessed_on).days)
        out[(Metric.WAIT_ASSESSMENT_TO_GUIDE, c.guide_first_assigned_on.year, m, str(days))] += 1
    if c.in_active_guidance and c.guide_person_id is not None:
        out[(Metric.ACTIVE_CASELOAD, NOT_BY_YEAR, m, c.guide_person_id)] += 1
    for t in c.transfers:
        out[(Metric.TRANSFERRED, t.transferred_on.year, t.receiving_municipality, "")] += 1
        if t.returned_on is not None:
            out[(Metric.RETURNED, t.returned_on.year, t.receiving_municipality, "")] += 1
        out[
            (Metric.TRANSFER_STATE, t.transferred_on.year, t.receiving_municipality, c.transfer_state(t))
        ] += 1
    if c.waiting_for_guide and c.opened_on is not None:
        out[(Metric.WAITING_FOR_GUIDE, c.opened_on.year, m, "")] += 1
    for measure in c.measures:
        if measure.status != "cancelled":
            out[(Metric.MEASURES, measure.start.year, m, measure.kind)] += 1
    if c.referral_date is not None:
        due = _deadline(assessment_deadline, c.referral_date)
        if due is not None:
            out[(Metric.ASSESSMENT_DEADLINE, due.year, m, deadline_bucket(due, c.assessed_on))] += 1
    if c.opened_on is not None:
        # from the referral under Act 1369/2014, from the opening from 2025 (services/rules/deadlines.py)
        due = plan_due(referral_date=None if c.reopened else c.referral_date, opened_on=c.opened_on)
        if due is not None:
            out[(Metric.PLAN_DEADLINE, due.year, m, deadline_bucket(due, c.first_plan_on))] += 1
    return out


def _deadline(rule: Callable[[RuleSet, date], date | None], start: date) -> date | None:
    """``rule`` under the rules in force on ``start``; None before the first rule set."""
    try:
        return rule(rules_in_force(start), start)
    except NoRulesInForce:
        return None


def deadline_bucket(due: date, met: date | None) -> str:
    return f"{due.isoformat()}|{met.isoformat() if met else ''}"


def parse_deadline_bucket(bucket: str) -> tuple[date, date | None]:
    due, _, met = bucket.partition("|")
    return date.fromisoformat(due), date.fromisoformat(met) if met else None


def steering_changes(before: CaseFacts | None, after: CaseFacts) -> dict[SteeringKey, int]:
    """The changes to the steering counts when a case goes from ``before`` to ``after``."""
    old = steering_counts(before) if before is not None else Counter()
    new = steering_counts(after)
    return {key: new[key] - old[key] for key in old.keys() | new.keys() if new[key] != old[key]}
