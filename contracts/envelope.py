"""The CloudEvents 1.0 envelope events travel in (structured JSON mode).

Outside systems (URA, a municipality's case system, an auditor's tool) read this without
our code: ``id``, ``source``, ``type``, ``time``, ``subject`` and ``dataschema`` are the
CloudEvents attributes; ``schemaversion``, ``streamversion``, ``correlationid`` and
``causationid`` are extension attributes (lower-case alphanumerics, as the spec asks).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.base import EventBase


def dataschema_uri(event_type: str, version: int) -> str:
    return f"urn:reitti:contracts:{event_type}:v{version}"


class CloudEventEnvelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    specversion: Literal["1.0"] = "1.0"
    id: UUID = Field(description="The event id")
    source: str = Field(min_length=1, description="URI reference of the producing service")
    type: str = Field(min_length=1, description="Stable event type name")
    time: datetime = Field(description="When the event occurred")
    subject: str = Field(min_length=1, description="The client stream id")
    dataschema: str
    datacontenttype: Literal["application/json"] = "application/json"
    schemaversion: int = Field(ge=1)
    streamversion: int = Field(ge=1)
    correlationid: UUID
    causationid: UUID | None = None
    data: dict[str, Any]

    @classmethod
    def wrap(cls, event: EventBase, *, source: str, data: dict[str, Any] | None = None) -> CloudEventEnvelope:
        """``event`` in its envelope; ``data``: the event's JSON as already prepared
        (sealed, by the event store) instead of ``event.data()``."""
        return cls(
            id=event.event_id,
            source=source,
            type=event.event_type,
            time=event.occurred_at,
            subject=event.stream_id,
            dataschema=dataschema_uri(event.event_type, event.schema_version),
            schemaversion=event.schema_version,
            streamversion=event.stream_version,
            correlationid=event.correlation_id,
            causationid=event.causation_id,
            data=event.data() if data is None else data,
        )

    def to_text(self) -> str:
        return self.model_dump_json(exclude_none=True)

    def to_bytes(self) -> bytes:
        return self.to_text().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> CloudEventEnvelope:
        return cls.model_validate_json(raw)
