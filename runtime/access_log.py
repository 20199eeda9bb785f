"""Recording reads of client data (architecture decision 9).

A read is logged before its data is returned: the event is appended to the reading
service's event store (and so relayed to JetStream) in its own transaction. If the log
cannot be written, the read fails: there are no unlogged reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from uuid import UUID, uuid4

import asyncpg

from contracts.audit import ClientDataAccessed
from contracts.base import Actor
from runtime.eventstore import EventStore
from runtime.purposes import ReadPurpose


class AccessLog:
    def __init__(self, store: EventStore) -> None:
        self._store = store

    async def record(
        self,
        actor: Actor,
        client_ids: Iterable[str],
        *,
        what: str,
        purpose: ReadPurpose,
        conn: asyncpg.Connection | None = None,
        correlation_id: UUID | None = None,
    ) -> None:
        """Record the read. With ``conn``, inside the caller's transaction (the read and
        its entry commit together); ``correlation_id`` ties the entry to the request."""
        stream_id, events = self.entry(
            actor, client_ids, what=what, purpose=purpose, correlation_id=correlation_id
        )
        if events:
            await self._store.append(stream_id, 0, events, conn=conn)

    def entry(
        self,
        actor: Actor,
        client_ids: Iterable[str],
        *,
        what: str,
        purpose: ReadPurpose,
        correlation_id: UUID | None = None,
    ) -> tuple[str, list[ClientDataAccessed]]:
        """The read's entry, to append in the caller's own statement (the event store's
        ``append_all``, at version 0 of the returned stream): a new stream of one event
        per 5,000 clients; none if no client was read."""
        ids = tuple(dict.fromkeys(client_ids))
        now = datetime.now(UTC)
        stream_id = f"access-{uuid4()}"
        correlation = correlation_id or uuid4()
        return stream_id, [
            ClientDataAccessed(
                event_id=uuid4(),
                stream_id=stream_id,
                stream_version=start // 5000 + 1,
                occurred_at=now,
                recorded_at=now,
                actor=actor,
                correlation_id=correlation,
                service=self._store.service,
                client_ids=ids[start : start + 5000],
                what=what,
                purpose=purpose.code.value,
                purpose_detail=purpose.detail,
            )
            for start in range(0, len(ids), 5000)
        ]
