"""The tracking store of an exactly-once consumer (seuranta): which event ids a projection
has applied, and how far each producer's stream has got (docs/adr/0002).

A consumer applies an event and records its id in one transaction: the id's primary key
makes a redelivered or replayed event a no-op. :class:`TrackingStore` is what the
consumer needs of that record; :class:`PostgresTrackingStore` keeps it in the
projection's schema (runtime/migrations/0002_consumer_tracking.sql and its successors),
:class:`InMemoryTrackingStore` is the fake for tests without a database. Both pass the
same contract test (tests/integration/test_tracking_store.py).

Every method takes the connection of the consumer's transaction, so the record commits
or rolls back with the projection's effect; the fake ignores it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol
from uuid import UUID

from runtime.sql import SqlStatements

#: a producer's stream: (source, stream id), one client's case of one service
StreamKey = tuple[str, str]


class TrackingStore(Protocol):
    """What an exactly-once consumer records, per consumer name."""

    async def positions(self, conn: Any, consumer: str, keys: list[StreamKey]) -> dict[StreamKey, int]:
        """The last version applied of each of ``keys`` (absent: none yet), locked until
        the transaction ends so that two batches of one stream cannot interleave."""
        ...

    async def claim(self, conn: Any, consumer: str, events: list[tuple[UUID, int]]) -> set[UUID]:
        """Record ``(event id, stream sequence)`` pairs as applied; the ids new now (an id
        already recorded is a duplicate and is not returned)."""
        ...

    async def advance(self, conn: Any, consumer: str, versions: dict[StreamKey, int]) -> None:
        """Move each stream's position up to its version (never down)."""
        ...

    async def record_position(self, conn: Any, consumer: str, stream_seq: int) -> None:
        """The highest JetStream sequence handled (for operators; never moves down)."""
        ...

    async def position(self, conn: Any, consumer: str) -> int | None:
        """The highest JetStream sequence recorded, if any."""
        ...


class TrackingSql(SqlStatements):
    """The tracking statements of one projection schema, set-based (a batch at a time)."""

    positions = (
        "SELECT source, stream_id, version FROM {schema}.stream_positions WHERE consumer = $1 "
        "AND (source, stream_id) IN (SELECT * FROM unnest($2::text[], $3::text[])) FOR UPDATE"
    )
    claim = (
        "INSERT INTO {schema}.consumed_events (consumer, event_id, stream_seq) "
        "SELECT $1, e, q FROM unnest($2::uuid[], $3::bigint[]) AS u(e, q) ON CONFLICT DO NOTHING "
        "RETURNING event_id"
    )
    advance = (
        "INSERT INTO {schema}.stream_positions (consumer, source, stream_id, version) "
        "SELECT $1, a, b, c FROM unnest($2::text[], $3::text[], $4::int[]) AS u(a, b, c) "
        "ON CONFLICT (consumer, source, stream_id) DO UPDATE SET version = "
        "greatest({schema}.stream_positions.version, excluded.version)"
    )
    record_position = (
        "INSERT INTO {schema}.consumer_positions (consumer, stream_seq) VALUES ($1, $2) "
        "ON CONFLICT (consumer) DO UPDATE SET stream_seq = "
        "greatest({schema}.consumer_positions.stream_seq, excluded.stream_seq)"
    )
    position = "SELECT stream_seq FROM {schema}.consumer_positions WHERE consumer = $1"


class PostgresTrackingStore:
    """The tracking tables in a projection's schema."""

    def __init__(self, schema: str) -> None:
        self.sql = TrackingSql(schema)

    async def positions(self, conn: Any, consumer: str, keys: list[StreamKey]) -> dict[StreamKey, int]:
        rows = await conn.fetch(self.sql.positions, consumer, [k[0] for k in keys], [k[1] for k in keys])
        return {(r["source"], r["stream_id"]): r["version"] for r in rows}

    async def claim(self, conn: Any, consumer: str, events: list[tuple[UUID, int]]) -> set[UUID]:
        rows = await conn.fetch(self.sql.claim, consumer, [e for e, _ in events], [q for _, q in events])
        return {r["event_id"] for r in rows}

    async def advance(self, conn: Any, consumer: str, versions: dict[StreamKey, int]) -> None:
        await conn.execute(
            self.sql.advance,
            consumer,
            [k[0] for k in versions],
            [k[1] for k in versions],
            list(versions.values()),
        )

    async def record_position(self, conn: Any, consumer: str, stream_seq: int) -> None:
        await conn.execute(self.sql.record_position, consumer, stream_seq)

    async def position(self, conn: Any, consumer: str) -> int | None:
        value = await conn.fetchval(self.sql.position, consumer)
        return None if value is None else int(value)


class InMemoryTrackingStore:
    """The fake: the same record in dictionaries (no transactions, no locks)."""

    def __init__(self) -> None:
        self.consumed: dict[tuple[str, UUID], int] = {}
        self.versions: dict[tuple[str, StreamKey], int] = {}
        self.sequences: dict[str, int] = {}

    async def positions(self, conn: Any, consumer: str, keys: list[StreamKey]) -> dict[StreamKey, int]:
        return {k: self.versions[(consumer, k)] for k in keys if (consumer, k) in self.versions}

    async def claim(self, conn: Any, consumer: str, events: list[tuple[UUID, int]]) -> set[UUID]:
        new: set[UUID] = set()
        for event_id, stream_seq in events:
            if (consumer, event_id) not in self.consumed:
                self.consumed[(consumer, event_id)] = stream_seq
                new.add(event_id)
        return new

    async def advance(self, conn: Any, consumer: str, versions: dict[StreamKey, int]) -> None:
        for key, version in versions.items():
            self.versions[(consumer, key)] = max(self.versions.get((consumer, key), 0), version)

    async def record_position(self, conn: Any, consumer: str, stream_seq: int) -> None:
        self.sequences[consumer] = max(self.sequences.get(consumer, 0), stream_seq)

    async def position(self, conn: Any, consumer: str) -> int | None:
        return self.sequences.get(consumer)


def stream_keys(pairs: Iterable[StreamKey]) -> list[StreamKey]:
    """The distinct stream keys of ``pairs``, in first-seen order."""
    return list(dict.fromkeys(pairs))
