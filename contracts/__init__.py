"""Reitti's event contracts: the only code the three services share about events.

Contracts never import service or runtime code. Every event has a stable ``type`` name
and a ``schema_version``; the JSON Schemas under ``contracts/schemas/`` are generated
from these models (``reitti schemas``) and committed.
"""

from contracts.base import (
    Actor,
    EventBase,
    PersonalData,
    Side,
    personal_fields,
)
from contracts.envelope import CloudEventEnvelope
from contracts.registry import EVENT_TYPES, UnknownEventType, event_class
from contracts.subjects import SubjectName, dead_letter_subject, event_subject

__all__ = [
    "EVENT_TYPES",
    "Actor",
    "CloudEventEnvelope",
    "EventBase",
    "PersonalData",
    "Side",
    "SubjectName",
    "UnknownEventType",
    "dead_letter_subject",
    "event_class",
    "event_subject",
    "personal_fields",
]
