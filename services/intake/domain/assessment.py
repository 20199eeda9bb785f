"""The service-needs assessment (*palvelutarvearvio*) and its route."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from contracts.base import EventBase
from contracts.intake import (
    AreaFinding,
    AssessmentArea,
    AssessmentCompleted,
    Assessor,
    ClientProfile,
    Route,
)
from runtime.decision import Context
from services.intake.domain.case import IntakeCase
from services.intake.domain.consent import check_consent_for
from services.intake.domain.errors import AlreadyAssessed, DomainError
from services.intake.domain.status import rule_set_for


@dataclass(frozen=True)
class CompleteAssessment:
    assessed_on: date
    assessors: Sequence[Assessor]
    findings: Sequence[AreaFinding]
    capacity_allows_rehabilitative_work: bool
    profile: ClientProfile | None
    ministry_segment: int | None
    route: Route
    destination: str | None
    summary: str


def complete_assessment(state: IntakeCase, command: CompleteAssessment, *, ctx: Context) -> list[EventBase]:
    if state.assessment is not None:
        raise AlreadyAssessed(
            f"client {state.client_id} was assessed on {state.assessment.assessed_on}; "
            "a re-assessment belongs to guidance"
        )
    if command.assessed_on < state.referral_date:
        raise DomainError("the assessment cannot be dated before the referral")
    if command.assessed_on > ctx.now.date():
        raise DomainError("the assessment cannot be dated in the future")
    _check_assessors(command.assessors)
    _check_findings(command.findings)
    route = command.route
    if not command.capacity_allows_rehabilitative_work and route is not Route.NOT_HELPED_HERE:
        raise DomainError(
            "the client's functional capacity does not allow even rehabilitative work activity: "
            "the entry rule allows only the route not_helped_here, with the destination named"
        )
    if route is Route.NOT_HELPED_HERE:
        if not command.destination:
            raise DomainError("route not_helped_here needs the destination: the service that fits")
    else:
        if command.profile is None or command.ministry_segment is None:
            raise DomainError(f"route {route.value} needs the client profile and the ministry segment (1-3)")
    # In force on the assessment's date and on the day it is recorded: a backdated
    # assessment cannot route a client whose consent has been withdrawn since.
    check_consent_for(state, route, command.assessed_on, ctx.now.date())
    return [
        AssessmentCompleted(
            **ctx.envelope(state.client_id, state.version + 1),
            municipality=state.municipality,
            assessed_on=command.assessed_on,
            assessors=tuple(command.assessors),
            findings=tuple(command.findings),
            capacity_allows_rehabilitative_work=command.capacity_allows_rehabilitative_work,
            profile=command.profile,
            ministry_segment=command.ministry_segment,
            route=route,
            destination=command.destination,
            rule_set=rule_set_for(state).name,
            summary=command.summary,
        )
    ]


def _check_assessors(assessors: Sequence[Assessor]) -> None:
    if not 1 <= len(assessors) <= 2:
        raise DomainError("an assessment has one assessor, or two working as a pair")
    if len({a.person_id for a in assessors}) != len(assessors):
        raise DomainError("the two assessors of a pair must be different people")


def _check_findings(findings: Sequence[AreaFinding]) -> None:
    areas = [f.area for f in findings]
    missing = [a.value for a in AssessmentArea if a not in areas]
    if missing:
        raise DomainError("findings missing for: " + ", ".join(missing) + " (use not_assessed if so)")
    if len(set(areas)) != len(areas):
        raise DomainError("each area has one finding")
