"""What every domain decision needs from outside: who acts, when, in which request, and
fresh ids. Pure: imports only contracts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID, uuid4

from contracts.base import Actor


@dataclass(frozen=True)
class Context:
    """Who acts, when, in which request; ``new_id`` makes fresh event ids."""

    actor: Actor
    now: datetime
    correlation_id: UUID
    new_id: Callable[[], UUID] = field(default=uuid4)
    #: the command or event that caused the decision, when it was an event
    causation_id: UUID | None = None

    def envelope(self, stream_id: str, version: int) -> dict[str, object]:
        """The fields every event of a decision shares."""
        return {
            "event_id": self.new_id(),
            "stream_id": stream_id,
            "stream_version": version,
            "occurred_at": self.now,
            "recorded_at": self.now,
            "actor": self.actor,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
        }
