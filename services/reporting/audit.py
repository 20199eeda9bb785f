"""The audit log: every event's timeline entry in a hash chain per client stream, the
export of any range as JSON Lines in the CloudEvents envelope; the verification of
every chain against the log (JetStream) or against an exported file is in
:mod:`services.reporting.audit_verify`.

Each entry's ``hash`` is ``sha256(previous hash || canonical envelope bytes)`` (hex; the
first entry's previous hash is 32 zero bytes). The canonical bytes are the envelope as
JSON with sorted keys, no whitespace and UTF-8 text (:func:`canonical_bytes`), so an
auditor can recompute them from an exported line with any JSON library. An entry links
to the head of its chain when it is applied, so the chain's order is the order in which
reporting applied the stream's events (the log's order, barring redeliveries).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from nats.js import JetStreamContext
from pydantic import BaseModel, Field, ValidationError

from contracts.base import EventBase
from contracts.envelope import CloudEventEnvelope
from contracts.subjects import events_wildcard
from runtime.config import Settings
from runtime.log_reader import LogReader
from runtime.sql import SqlStatements
from services.reporting.columns import columns_of

GENESIS = "0" * 64
#: the chain heads a rebuild holds in memory at most before it writes them out
BULK_HEADS = 100_000
#: CloudEvents extension attributes an exported line carries besides the envelope.
EXPORT_ATTRIBUTES = ("streamseq", "auditposition", "auditprevhash", "audithash")

_ENTRY_COLUMNS = """
source, stream_id, position, event_id, stream_seq, event_type, stream_version, occurred_at,
actor_person_id, actor_role, actor_organisation, correlation_id, causation_id, prev_hash, hash
"""


class AuditSql(SqlStatements):
    """The audit log's statements (``audit_log``, ``audit_chain_heads``)."""

    # A batch locks its chains' heads in one statement, in one order (by chain), so two
    # batches never wait on each other in a circle.
    lock_heads = """
INSERT INTO {schema}.audit_chain_heads (source, stream_id, position, hash)
SELECT source, stream_id, 0, $3 FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(source, stream_id, n)
ORDER BY n
ON CONFLICT (source, stream_id) DO UPDATE SET position = {schema}.audit_chain_heads.position
RETURNING source, stream_id, position, hash
"""
    # An entry's stream sequence is the one the exactly-once consumer recorded for its event
    # a moment earlier, in the same transaction (runtime/consumer.py); 0 only when the
    # projection is applied outside a consumer.
    append = """
INSERT INTO {schema}.audit_log (
    source, stream_id, position, event_id, stream_seq, event_type, stream_version, occurred_at,
    actor_person_id, actor_role, actor_organisation, correlation_id, causation_id, prev_hash, hash
)
SELECT source, stream_id, position, event_id,
       coalesce((SELECT stream_seq FROM {schema}.consumed_events AS c
                 WHERE c.consumer = $15 AND c.event_id = u.event_id), 0),
       event_type, stream_version, occurred_at, actor_person_id, actor_role, actor_organisation,
       correlation_id, causation_id, prev_hash, hash
FROM unnest($1::text[], $2::text[], $3::int[], $4::uuid[], $5::text[], $6::int[], $7::timestamptz[],
            $8::text[], $9::text[], $10::text[], $11::uuid[], $12::uuid[], $13::text[], $14::text[])
    AS u(source, stream_id, position, event_id, event_type, stream_version, occurred_at,
         actor_person_id, actor_role, actor_organisation, correlation_id, causation_id, prev_hash, hash)
"""
    # A rebuild's heads, held in memory while it loads (ADR 0046), read and written once.
    read_heads = """
SELECT source, stream_id, position, hash FROM {schema}.audit_chain_heads AS h
WHERE (h.source, h.stream_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
"""
    save_heads = """
INSERT INTO {schema}.audit_chain_heads (source, stream_id, position, hash)
SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[])
ON CONFLICT (source, stream_id) DO UPDATE SET position = excluded.position, hash = excluded.hash
"""
    move_heads = """
UPDATE {schema}.audit_chain_heads AS h SET position = u.position, hash = u.hash
FROM unnest($1::text[], $2::text[], $3::int[], $4::text[]) AS u(source, stream_id, position, hash)
WHERE h.source = u.source AND h.stream_id = u.stream_id
"""
    timeline = (
        "SELECT "
        + _ENTRY_COLUMNS
        + " FROM {schema}.audit_log WHERE stream_id = $1 ORDER BY occurred_at, stream_seq, source, position"
    )
    all_entries = "SELECT " + _ENTRY_COLUMNS + " FROM {schema}.audit_log ORDER BY source, stream_id, position"
    heads = "SELECT source, stream_id, position, hash FROM {schema}.audit_chain_heads"
    entries_between = (
        "SELECT "
        + _ENTRY_COLUMNS
        + """ FROM {schema}.audit_log
WHERE ($1::bigint IS NULL OR stream_seq >= $1) AND ($2::bigint IS NULL OR stream_seq <= $2)
  AND ($3::timestamptz IS NULL OR occurred_at >= $3) AND ($4::timestamptz IS NULL OR occurred_at < $4)
ORDER BY stream_seq, source, stream_id, position
"""
    )
    position = "SELECT stream_seq FROM {schema}.consumer_positions WHERE consumer = $1"


ChainId = tuple[str, str]
"""(source, stream id): one stream of one event store."""


def canonical_bytes(envelope: CloudEventEnvelope) -> bytes:
    """The envelope as canonical JSON: sorted keys, no whitespace, UTF-8, nulls omitted at
    the top level exactly as the envelope travels (``to_bytes``)."""
    data = envelope.model_dump(mode="json", exclude_none=True)
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def link_hash(prev_hash: str, canonical: bytes) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical).hexdigest()


class AuditEntry(BaseModel):
    """One event in a client's timeline: what, when, who, and why (correlation, causation),
    and its link in the chain of its stream (``source``, ``stream_id``)."""

    source: str = Field(description="The service whose event it is: intake or guidance")
    stream_id: str = Field(description="The event's stream: the client's id, or an info session's")
    position: int = Field(ge=1, description="The event's position in its chain (source, stream_id)")
    event_id: UUID = Field(description="The event's id")
    stream_seq: int = Field(
        ge=0, description="The event's sequence number on the broker's stream; 0 if not known"
    )
    event_type: str = Field(description="The event's type, e.g. ClientReferred")
    stream_version: int = Field(ge=1, description="The event's version in its stream")
    occurred_at: datetime = Field(description="When it happened")
    actor_person_id: str = Field(description="Who did it: a person's stable id")
    actor_role: str = Field(description="Their role")
    actor_organisation: str = Field(description="Their organisation")
    correlation_id: UUID = Field(description="The request or process the event belongs to")
    causation_id: UUID | None = Field(description="The command or event that caused it; null if none")
    prev_hash: str = Field(description="The previous link's hash (hex SHA-256); zeros for the first")
    hash: str = Field(
        description="SHA-256 (hex) of prev_hash and the event's canonical form: the chain's link"
    )

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> AuditEntry:
        return cls.model_validate(dict(row))


@dataclass(frozen=True)
class Head:
    position: int
    hash: str


class AuditTrail:
    """The audit log's part of the reporting projection."""

    def __init__(self, schema: str, consumer: str) -> None:
        self._consumer = consumer
        self.sql = AuditSql(schema)
        #: a rebuild's chain heads, held between batches (:meth:`start_bulk`); None when live
        self._bulk: dict[ChainId, Head] | None = None

    def start_bulk(self) -> None:
        """From now on (a rebuild into a fresh schema nobody else writes, ADR 0046), hold
        the chains' heads in memory and write them once, at :meth:`finish_bulk`. The
        entries are still written batch by batch, linked exactly as live links them."""
        self._bulk = {}

    async def finish_bulk(self, conn: asyncpg.Connection) -> None:
        """Write the heads held, and go back to locking and moving them per batch."""
        if self._bulk is not None:
            await self._save_heads(conn, self._bulk)
            self._bulk = None

    async def _save_heads(self, conn: asyncpg.Connection, heads: Mapping[ChainId, Head]) -> None:
        rows = [(source, stream_id, h.position, h.hash) for (source, stream_id), h in sorted(heads.items())]
        if rows:
            await conn.execute(self.sql.save_heads, *columns_of(rows))

    async def _bulk_heads(
        self, conn: asyncpg.Connection, chains: Sequence[ChainId], held: dict[ChainId, Head]
    ) -> dict[ChainId, Head]:
        """The heads of ``chains`` from memory; those not held read (none, in a fresh
        schema) or new. Past :data:`BULK_HEADS` held, the heads are written and forgotten."""
        if len(held) > BULK_HEADS:
            await self._save_heads(conn, held)
            held.clear()
        missing = [c for c in chains if c not in held]
        if missing:
            rows = await conn.fetch(self.sql.read_heads, [c[0] for c in missing], [c[1] for c in missing])
            found = {(r["source"], r["stream_id"]): Head(r["position"], r["hash"]) for r in rows}
            held.update({c: found.get(c, Head(0, GENESIS)) for c in missing})
        return {c: held[c] for c in chains}

    async def lock_heads(
        self, conn: asyncpg.Connection, items: Sequence[tuple[EventBase, CloudEventEnvelope]]
    ) -> dict[ChainId, Head]:
        """The heads of the chains of ``items``' events, locked until the transaction ends."""
        chains = sorted({(envelope.source, event.stream_id) for event, envelope in items})
        if self._bulk is not None:
            return await self._bulk_heads(conn, chains, self._bulk)
        rows = await conn.fetch(self.sql.lock_heads, [c[0] for c in chains], [c[1] for c in chains], GENESIS)
        return {(r["source"], r["stream_id"]): Head(r["position"], r["hash"]) for r in rows}

    async def append(
        self,
        conn: asyncpg.Connection,
        items: Sequence[tuple[EventBase, CloudEventEnvelope]],
        heads: Mapping[ChainId, Head],
    ) -> None:
        """Add the events, in order, as their chains' next entries after ``heads``
        (from :meth:`lock_heads`), and move the heads."""
        moved = dict(heads)
        entries: list[tuple[Any, ...]] = []
        for event, envelope in items:
            chain = (envelope.source, event.stream_id)
            head = moved[chain]
            new = Head(head.position + 1, link_hash(head.hash, canonical_bytes(envelope)))
            actor = event.actor
            entries.append(
                (
                    envelope.source,
                    event.stream_id,
                    new.position,
                    event.event_id,
                    event.event_type,
                    event.stream_version,
                    event.occurred_at,
                    actor.person_id,
                    actor.role,
                    actor.organisation,
                    event.correlation_id,
                    event.causation_id,
                    head.hash,
                    new.hash,
                )
            )
            moved[chain] = new
        if not entries:
            return
        await conn.execute(self.sql.append, *columns_of(entries), self._consumer)
        if self._bulk is not None:
            self._bulk.update(moved)
            return
        await conn.execute(
            self.sql.move_heads,
            *columns_of(
                [(source, stream_id, h.position, h.hash) for (source, stream_id), h in moved.items()]
            ),
        )

    async def timeline(self, conn: asyncpg.Connection, stream_id: str) -> list[AuditEntry]:
        return [AuditEntry.from_row(r) for r in await conn.fetch(self.sql.timeline, stream_id)]

    async def entries(
        self,
        conn: asyncpg.Connection,
        *,
        from_seq: int | None = None,
        to_seq: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[AuditEntry]:
        rows = await conn.fetch(self.sql.entries_between, from_seq, to_seq, since, until)
        return [AuditEntry.from_row(r) for r in rows]

    async def all_entries(self, conn: asyncpg.Connection) -> list[AuditEntry]:
        return [AuditEntry.from_row(r) for r in await conn.fetch(self.sql.all_entries)]

    async def heads(self, conn: asyncpg.Connection) -> dict[ChainId, tuple[int, str]]:
        return {
            (r["source"], r["stream_id"]): (r["position"], r["hash"])
            for r in await conn.fetch(self.sql.heads)
        }

    async def consumed_up_to(self, conn: asyncpg.Connection) -> int:
        return int(await conn.fetchval(self.sql.position, self._consumer) or 0)


# --- reading the log --------------------------------------------------------------------


async def read_log(
    js: JetStreamContext, settings: Settings, *, first_seq: int, last_seq: int
) -> AsyncIterator[tuple[int, bytes]]:
    """The log's messages with ``first_seq <= seq <= last_seq``, in order, as (seq, bytes):
    read completely by :class:`runtime.log_reader.LogReader` (flow-controlled, every
    sequence accounted for, a stalled broker resumed), or :class:`IncompleteRead`. An
    export or a verification never ends early and calls itself complete."""
    if last_seq < first_seq:
        return
    reader = LogReader(
        js,
        stream=settings.events_stream,
        subject=events_wildcard(settings.namespace),
        after_seq=first_seq - 1,
        until_seq=last_seq,
    )
    async for batch in reader.batches():
        for seq, data in batch:
            yield seq, data


async def last_sequence(js: JetStreamContext, settings: Settings) -> int:
    info = await js.stream_info(settings.events_stream)
    return int(info.state.last_seq)


# --- export -----------------------------------------------------------------------------


def export_line(envelope: CloudEventEnvelope, entry: AuditEntry) -> bytes:
    """One JSON Lines record: the CloudEvents envelope with the audit chain's extension
    attributes (``streamseq``, ``auditposition``, ``auditprevhash``, ``audithash``)."""
    data = envelope.model_dump(mode="json", exclude_none=True)
    data.update(
        streamseq=entry.stream_seq,
        auditposition=entry.position,
        auditprevhash=entry.prev_hash,
        audithash=entry.hash,
    )
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


async def export_lines(
    js: JetStreamContext, settings: Settings, entries: Sequence[AuditEntry]
) -> AsyncIterator[bytes]:
    """The export of ``entries`` (ordered by stream sequence): each event read back from the log."""
    if not entries:
        return
    wanted = {e.event_id: e for e in entries}
    first = min(e.stream_seq for e in entries)
    last = max(e.stream_seq for e in entries)
    async for _, raw in read_log(js, settings, first_seq=first, last_seq=last):
        try:
            envelope = CloudEventEnvelope.from_bytes(raw)
        except ValidationError:
            continue
        entry = wanted.get(envelope.id)
        if entry is not None:
            yield export_line(envelope, entry)
