"""Event type registry and the upcasting read path.

``decode_event`` is how every consumer turns an envelope into a current-version event:
look the type up by its stable name, upcast the data from the stored schema version to
the current one with the pure functions in :mod:`contracts.upcasters`, then validate.
"""

from __future__ import annotations

from typing import Any

from contracts.audit import ClientDataAccessed
from contracts.base import EventBase
from contracts.envelope import CloudEventEnvelope
from contracts.guidance import (
    ClientRelationshipClosed,
    ClosureProposed,
    FinalAssessmentIssued,
    GuidanceCaseOpened,
    GuideAssigned,
    HealthCheckDetailsRecorded,
    HealthCheckSummaryRecorded,
    PhaseChanged,
    PlanRevised,
    ReassessmentCompleted,
    ReturnedFromSocialServices,
    TransferAcknowledged,
    TransferredToSocialServices,
)
from contracts.intake import (
    AssessmentAppointmentBooked,
    AssessmentCompleted,
    ClientDataErased,
    ClientReferred,
    ConsentGiven,
    ConsentWithdrawn,
    DuplicateReferralReceived,
    InfoSessionAttended,
    InfoSessionMissed,
    InfoSessionScheduled,
    IntakeTargetSet,
    InvitedToInfoSession,
    PossibleDuplicateResolved,
    ReferralHeldAsPossibleDuplicate,
    ReferralPicked,
)
from contracts.upcasters import UPCASTERS, upcast

EVENT_TYPES: dict[str, type[EventBase]] = {
    cls.event_type: cls
    for cls in (
        ClientReferred,
        DuplicateReferralReceived,
        ReferralHeldAsPossibleDuplicate,
        PossibleDuplicateResolved,
        ReferralPicked,
        InvitedToInfoSession,
        InfoSessionAttended,
        InfoSessionMissed,
        AssessmentAppointmentBooked,
        ConsentGiven,
        ConsentWithdrawn,
        AssessmentCompleted,
        InfoSessionScheduled,
        IntakeTargetSet,
        GuidanceCaseOpened,
        GuideAssigned,
        PhaseChanged,
        PlanRevised,
        HealthCheckSummaryRecorded,
        HealthCheckDetailsRecorded,
        TransferredToSocialServices,
        TransferAcknowledged,
        ReturnedFromSocialServices,
        ReassessmentCompleted,
        ClosureProposed,
        ClientRelationshipClosed,
        FinalAssessmentIssued,
        ClientDataAccessed,
        ClientDataErased,
    )
}


class UnknownEventType(LookupError):
    pass


def event_class(event_type: str) -> type[EventBase]:
    try:
        return EVENT_TYPES[event_type]
    except KeyError:
        raise UnknownEventType(f"unknown event type {event_type!r}") from None


def decode_data(event_type: str, schema_version: int, data: dict[str, Any]) -> EventBase:
    cls = event_class(event_type)
    current = upcast(event_type, schema_version, data, target=cls.schema_version)
    return cls.model_validate(current)


def decode_event(envelope: CloudEventEnvelope) -> EventBase:
    """Validate an envelope's data against its contract, upcasting old versions first."""
    event = decode_data(envelope.type, envelope.schemaversion, envelope.data)
    if event.event_id != envelope.id:
        raise ValueError("envelope id and event_id differ")
    return event


__all__ = [
    "EVENT_TYPES",
    "UPCASTERS",
    "UnknownEventType",
    "decode_data",
    "decode_event",
    "event_class",
]
