"""The event store of a write service: PostgreSQL, one schema per service.

Postgres is the system of record (architecture decision 1). An append writes the events
and their outbox rows in one statement, so either both are committed or neither is; the
relay (:mod:`runtime.relay`) later moves outbox rows to JetStream.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from contracts.base import EventBase
from contracts.envelope import CloudEventEnvelope
from contracts.subjects import event_subject
from runtime import erasure
from runtime.db import quote_ident


class ConcurrencyConflict(Exception):
    """Another writer appended to the stream first. Re-read the stream and retry."""

    def __init__(self, stream_id: str, expected_version: int, actual_version: int | None) -> None:
        self.stream_id = stream_id
        self.expected_version = expected_version
        self.actual_version = actual_version
        super().__init__(
            f"stream {stream_id!r} changed concurrently: expected version {expected_version}, "
            f"found {actual_version if actual_version is not None else 'a newer one'}; retry"
        )


@dataclass(frozen=True)
class StoredEvent:
    global_position: int
    stream_id: str
    stream_version: int
    event_id: str
    event_type: str
    envelope: CloudEventEnvelope


# One round trip: check the expected version, insert the events, insert their outbox rows
# (only for events actually inserted).
# The expected-version check stops gaps; the (stream_id, stream_version) primary key stops
# two concurrent writers that both passed the check: the later insert fails, nothing is
# overwritten.
_APPEND = """
WITH current AS (
    SELECT coalesce(max(stream_version), 0) AS v FROM {s}.events WHERE stream_id = $1
), new AS (
    SELECT * FROM unnest($3::int[], $4::uuid[], $5::text[], $6::int[], $7::timestamptz[],
                         $8::timestamptz[], $9::text[], $10::text[], $11::bytea[])
        AS u(stream_version, event_id, event_type, schema_version, occurred_at, recorded_at,
             envelope, subject, payload)
), inserted AS (
    INSERT INTO {s}.events (stream_id, stream_version, event_id, event_type, schema_version,
                            occurred_at, recorded_at, envelope)
    SELECT $1, stream_version, event_id, event_type, schema_version, occurred_at, recorded_at,
           envelope::jsonb
    FROM new WHERE (SELECT v FROM current) = $2
    RETURNING event_id
), queued AS (
    INSERT INTO {s}.outbox (event_id, subject, payload)
    SELECT new.event_id, new.subject, new.payload FROM new JOIN inserted USING (event_id)
    RETURNING 1
)
SELECT (SELECT count(*) FROM inserted) AS inserted,
       (SELECT count(*) FROM queued) AS queued,
       (SELECT v FROM current) AS current_version
"""

_READ_STREAM = """
SELECT global_position, stream_id, stream_version, event_id::text, event_type, envelope::text
FROM {s}.events WHERE stream_id = $1 AND stream_version > $2 ORDER BY stream_version
"""

_READ_ALL = """
SELECT global_position, stream_id, stream_version, event_id::text, event_type, envelope::text
FROM {s}.events WHERE global_position > $1 ORDER BY global_position LIMIT $2
"""


class EventStore:
    """Append and read the client streams of one service."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        schema: str,
        namespace: str,
        source: str,
        service: str | None = None,
        on_append: Callable[[], None] | None = None,
    ) -> None:
        self._pool = pool
        self.schema = schema
        #: the producing service, named in every subject (the schema's name by default)
        self.service = service or schema
        self._namespace = namespace
        self._source = source
        s = quote_ident(schema)
        self._append_sql = _APPEND.format(s=s)
        self._read_stream_sql = _READ_STREAM.format(s=s)
        self._read_all_sql = _READ_ALL.format(s=s)
        #: called after each append (the relay's wake-up in this process)
        self._on_append = on_append

    def subject_for(self, event: EventBase) -> str:
        return event_subject(
            self._namespace,
            self.service,
            event.subject_side(),
            event.subject_organisation(),
            event.event_type,
        )

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[EventBase],
        *,
        conn: asyncpg.Connection | None = None,
    ) -> int:
        """Append ``events`` after ``expected_version``; return the new stream version.

        Raises :class:`ConcurrencyConflict` if the stream is not at ``expected_version``.
        Pass ``conn`` to append inside a transaction of your own.
        """
        if not events:
            return expected_version
        for offset, event in enumerate(events, start=1):
            if event.stream_id != stream_id:
                raise ValueError(f"event {event.event_id} belongs to {event.stream_id!r}")
            if event.stream_version != expected_version + offset:
                raise ValueError(
                    f"event {event.event_id} has version {event.stream_version}, "
                    f"expected {expected_version + offset}"
                )
        try:
            if conn is None:
                async with self._pool.acquire() as own:
                    args = await self._columns(own, stream_id, events)
                    row = await own.fetchrow(self._append_sql, stream_id, expected_version, *args)
            else:
                args = await self._columns(conn, stream_id, events)
                row = await conn.fetchrow(self._append_sql, stream_id, expected_version, *args)
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name and exc.constraint_name.endswith("event_id_key"):
                raise ValueError("an event with this event_id is already stored") from exc
            raise ConcurrencyConflict(stream_id, expected_version, None) from exc
        assert row is not None
        if row["inserted"] != len(events):
            raise ConcurrencyConflict(stream_id, expected_version, row["current_version"])
        if self._on_append is not None:
            self._on_append()
        return expected_version + len(events)

    async def _columns(
        self, conn: asyncpg.Connection, stream_id: str, events: Sequence[EventBase]
    ) -> list[Any]:
        versions, ids, types, schema_versions, occurred, recorded = [], [], [], [], [], []
        envelopes, subjects, payloads = [], [], []
        key: bytes | None = None
        key_read = False
        for event in events:
            envelope = CloudEventEnvelope.wrap(event, source=self._source)
            data = dict(envelope.data)
            if erasure.has_personal_data(event, data):
                # Personal fields travel and rest encrypted with the client's key (ADR 11).
                if not key_read:
                    key, key_read = await erasure.key_for_writing(conn, stream_id), True
                envelope = envelope.model_copy(update={"data": erasure.seal(event, data, key)})
            payload = envelope.to_bytes()
            versions.append(event.stream_version)
            ids.append(event.event_id)
            types.append(event.event_type)
            schema_versions.append(event.schema_version)
            occurred.append(event.occurred_at)
            recorded.append(event.recorded_at)
            envelopes.append(payload.decode())
            subjects.append(self.subject_for(event))
            payloads.append(payload)
        return [
            versions,
            ids,
            types,
            schema_versions,
            occurred,
            recorded,
            envelopes,
            subjects,
            payloads,
        ]

    async def read_stream(
        self, stream_id: str, *, after_version: int = 0, conn: asyncpg.Connection | None = None
    ) -> list[StoredEvent]:
        if conn is not None:
            rows = await conn.fetch(self._read_stream_sql, stream_id, after_version)
        else:
            async with self._pool.acquire() as own:
                rows = await own.fetch(self._read_stream_sql, stream_id, after_version)
        return [_stored(r) for r in rows]

    async def load_events(self, stream_id: str, *, conn: asyncpg.Connection | None = None) -> list[EventBase]:
        """The stream's events as current-version contracts (old versions upcast)."""
        from contracts.registry import decode_event

        stored = await self.read_stream(stream_id, conn=conn)
        keys: erasure.Keys = {}
        if any(erasure.is_sealed(e.envelope.data) for e in stored):
            # Read now, for this call only: an erased key stops working at once.
            keys = await erasure.fetch_keys(conn if conn is not None else self._pool, [stream_id])
        return [decode_event(erasure.reveal(e.envelope, keys)) for e in stored]

    async def read_all(self, *, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(self._read_all_sql, after_position, limit)
        return [_stored(r) for r in rows]


def _stored(row: asyncpg.Record) -> StoredEvent:
    return StoredEvent(
        global_position=row["global_position"],
        stream_id=row["stream_id"],
        stream_version=row["stream_version"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        envelope=CloudEventEnvelope.model_validate(json.loads(row["envelope"])),
    )
