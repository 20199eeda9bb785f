"""A client's timeline as the centre's staff see it (*asiakkaan tapahtumat*): what happened
in one service's stream of the client, who did it and when, and nothing of what the
events say. Intake and guidance each answer their own part, after the disclosure policy
let the caller read that service's case (docs/adr/0050); the auditors' timeline, with the
audit chain, is reporting's (``GET /audit/clients/{client_id}/timeline``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from contracts.base import EventBase


class TimelineEntry(BaseModel):
    """One event of a client's stream: its type, when it happened, and who did it."""

    model_config = ConfigDict(frozen=True)

    source: str = Field(description="The service whose stream it is: intake or guidance")
    stream_version: int = Field(ge=1, description="The event's version in its stream")
    event_type: str = Field(description="The event's type, e.g. ClientReferred")
    occurred_at: datetime = Field(description="When it happened")
    actor_person_id: str = Field(description="Who did it: a person's stable id")
    actor_role: str = Field(description="Their role")
    actor_organisation: str = Field(description="Their organisation")


def timeline(source: str, events: Iterable[EventBase]) -> list[TimelineEntry]:
    """The entries of ``events`` (one stream, in order) as ``source``'s part of a timeline."""
    return [
        TimelineEntry(
            source=source,
            stream_version=e.stream_version,
            event_type=e.event_type,
            occurred_at=e.occurred_at,
            actor_person_id=e.actor.person_id,
            actor_role=e.actor.role,
            actor_organisation=e.actor.organisation,
        )
        for e in events
    ]
