"""The base of every durable JetStream consumer: exactly-once effect, per-stream order,
bounded retries, dead letters with a reason, and no stop on bad input (architecture
decision 4). Split by job:

- runtime/tracking.py, the tracking store (seuranta): which event ids a projection
  applied and how far each stream has got, behind a protocol with a PostgreSQL
  implementation and an in-memory fake;
- runtime/delivery.py, the delivery policy: fetch, apply, ack/nak, dead-letter, and the
  retry in place through database outages (runtime/outages.py);
- runtime/decoding.py, a delivery read against its contract;
- this module, what "applied" means:

- **Exactly once.** A delivery is applied and its event id recorded in one Postgres
  transaction; the event id's primary key makes a redelivered or replayed event a no-op.
- **In order, per stream.** ``stream_positions`` keeps the last version applied of each
  producer's stream (one client's case). Version *n* is applied only after *n-1*: an
  event that arrives early (a redelivery overtaken by its successor) is NAKed and comes
  back after its predecessor. Different clients' events need no order between them. If
  the predecessor is lost from JetStream, the consumer asks its owner to re-publish it
  from PostgreSQL (``on_early``, runtime/reconcile.py) and keeps waiting.
- **No personal data in reasons or logs**: validation errors are reported by field and
  message, never with the rejected value.

The names other modules import from here are re-exported from the modules above.
"""

from __future__ import annotations

from typing import Protocol

import asyncpg

from contracts.base import EventBase
from contracts.envelope import CloudEventEnvelope
from runtime import outages
from runtime.config import Settings
from runtime.decoding import (
    InvalidEvent,
    decode_delivery,
    describe,
    keys_for,
    parse_delivery,
    read_envelope,
)
from runtime.delivery import (
    BATCH_SIZE,
    CONTENTION_ERRORS,
    CONTENTION_RETRIES,
    DEAD_LETTER_MARGIN,
    EARLY_DELAY,
    EARLY_DELAY_MAX,
    EARLY_DELIVERIES,
    MAX_HEADER,
    Applied,
    ConsumerStats,
    DeadLetterPublisher,
    Delivery,
    DeliveryPolicy,
    Item,
    early_delay,
    jetstream_max_deliver,
)
from runtime.outages import OUTAGE_ERRORS
from runtime.tracking import PostgresTrackingStore, StreamKey, TrackingStore, stream_keys

__all__ = [
    "BATCH_SIZE",
    "CONTENTION_ERRORS",
    "CONTENTION_RETRIES",
    "DEAD_LETTER_MARGIN",
    "EARLY_DELAY",
    "EARLY_DELAY_MAX",
    "EARLY_DELIVERIES",
    "MAX_HEADER",
    "OUTAGE_ERRORS",
    "Applied",
    "ConsumerStats",
    "Delivery",
    "ExactlyOnceConsumer",
    "InvalidEvent",
    "Projection",
    "decode_delivery",
    "describe",
    "early_delay",
    "jetstream_max_deliver",
    "keys_for",
    "outage",
    "parse_delivery",
    "read_envelope",
    "reads_personal_data",
]


class Projection(Protocol):
    """A read model fed by events. ``apply`` runs inside the consumer's transaction.

    A projection that keeps no personal data says so with a class attribute
    ``reads_personal_data = False`` (see :func:`reads_personal_data`): it is then never
    given the clients' keys, and every personal field reaches it as ``[erased]``."""

    #: the consumer (durable) name, also the row key in consumer tracking
    name: str
    schema: str

    async def create(self, conn: asyncpg.Connection) -> None: ...

    async def apply(
        self, conn: asyncpg.Connection, event: EventBase, envelope: CloudEventEnvelope
    ) -> None: ...


def reads_personal_data(projection: object) -> bool:
    """Whether ``projection`` is given personal fields readable (the default), or, having
    declared ``reads_personal_data = False``, only ever sees them as ``[erased]``: data
    minimisation, and no key read for it."""
    return bool(getattr(projection, "reads_personal_data", True))


class ExactlyOnceConsumer(DeliveryPolicy):
    """Applies deliveries to a projection exactly once and in stream order."""

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        js: DeadLetterPublisher,
        settings: Settings,
        projection: Projection,
        tracking: TrackingStore | None = None,
    ) -> None:
        super().__init__(pool=pool, js=js, settings=settings)
        self.projection = projection
        self.tracking: TrackingStore = tracking or PostgresTrackingStore(projection.schema)

    @property
    def name(self) -> str:
        return self.projection.name

    @property
    def reads_personal_data(self) -> bool:
        return reads_personal_data(self.projection)

    async def apply_in(
        self,
        conn: asyncpg.Connection,
        envelope: CloudEventEnvelope,
        event: EventBase,
        stream_seq: int,
        *,
        strict_order: bool = True,
    ) -> Applied:
        """Inside a transaction: apply unless already applied, or not yet due.

        ``strict_order=False`` (replay, which reads the log in order) applies past a gap
        left by an event that was never valid."""
        [result] = await self.apply_many(conn, [(envelope, event, stream_seq)], strict_order=strict_order)
        return result

    async def apply_many(
        self, conn: asyncpg.Connection, items: list[Item], *, strict_order: bool = True
    ) -> list[Applied]:
        """Inside a transaction: apply a batch in order, set-based. One statement reads
        (and locks) the batch's stream positions, the order rules are decided here, one
        statement claims the event ids, one moves the positions; the projection applies
        the batch in one call when it has ``apply_batch``, else event by event.
        ``strict_order=False`` is replay's (the log's order is final)."""
        keys = stream_keys((envelope.source, envelope.subject) for envelope, _, _ in items)
        last = await self.tracking.positions(conn, self.name, keys)
        results: list[Applied] = []
        due: list[int] = []
        for index, (envelope, event, _) in enumerate(items):
            key = (envelope.source, envelope.subject)
            version = last.get(key, 0)
            if event.stream_version <= version:
                results.append(Applied.DUPLICATE)
            elif strict_order and event.stream_version != version + 1:
                results.append(Applied.EARLY)
            else:
                last[key] = event.stream_version
                results.append(Applied.APPLIED)
                due.append(index)
        if not due:
            return results
        claimed = await self.tracking.claim(
            conn, self.name, [(items[i][1].event_id, items[i][2]) for i in due]
        )
        todo: list[tuple[EventBase, CloudEventEnvelope]] = []
        top: dict[StreamKey, int] = {}
        for i in due:
            envelope, event, _ = items[i]
            key = (envelope.source, envelope.subject)
            top[key] = max(top.get(key, 0), event.stream_version)
            if event.event_id in claimed:
                todo.append((event, envelope))
            else:
                results[i] = Applied.DUPLICATE
        await self._project(conn, todo)
        await self.tracking.advance(conn, self.name, top)
        return results

    async def apply_replayed(self, conn: asyncpg.Connection, items: list[Item]) -> int:
        """Replay: apply a batch read in log order; returns how many were applied now."""
        results = await self.apply_many(conn, items, strict_order=False)
        return sum(r is Applied.APPLIED for r in results)

    async def _project(
        self, conn: asyncpg.Connection, todo: list[tuple[EventBase, CloudEventEnvelope]]
    ) -> None:
        """The projection applies the events, in one call when it has ``apply_batch``."""
        apply_batch = getattr(self.projection, "apply_batch", None)
        if apply_batch is not None:
            await apply_batch(conn, todo)
        else:
            for event, envelope in todo:
                await self.projection.apply(conn, event, envelope)

    async def redrive(
        self, conn: asyncpg.Connection, envelope: CloudEventEnvelope, event: EventBase, stream_seq: int
    ) -> Applied:
        """Inside a transaction: apply a dead-lettered event that an operator sends again
        (runtime/deadletters.py). Exactly once by its id: an event applied meanwhile is a
        duplicate. A stream that went on without it (it was passed over when it was
        dead-lettered) has it applied after the events that came since. One whose
        predecessor was never applied (dead-lettered as early) is not applied: EARLY, and
        its stream's position never jumps over a version it has not seen. The stream's
        position is locked first, as :meth:`apply_many` locks it."""
        key = (envelope.source, envelope.subject)
        last = (await self.tracking.positions(conn, self.name, [key])).get(key, 0)
        if event.stream_version > last + 1:
            return Applied.EARLY
        if not await self.tracking.claim(conn, self.name, [(event.event_id, stream_seq)]):
            return Applied.DUPLICATE
        await self._project(conn, [(event, envelope)])
        await self.tracking.advance(conn, self.name, {key: event.stream_version})
        return Applied.APPLIED

    async def record_position(self, conn: asyncpg.Connection, stream_seq: int) -> None:
        """The highest stream sequence handled (for operators); once per batch."""
        await self.tracking.record_position(conn, self.name, stream_seq)

    async def pass_over(self, conn: asyncpg.Connection, envelope: CloudEventEnvelope) -> None:
        """A dead-lettered event counts as passed for its stream's order (if it was next),
        so the stream's later events are not held back behind it."""
        key = (envelope.source, envelope.subject)
        last = (await self.tracking.positions(conn, self.name, [key])).get(key, 0)
        if envelope.streamversion == last + 1:
            await self.tracking.advance(conn, self.name, {key: envelope.streamversion})


def outage(exc: BaseException) -> None:
    """Inside ``except OUTAGE_ERRORS``: re-raise ``exc`` unless it is an outage (an
    ``InterfaceError`` about the call itself is the event's failure, not an outage)."""
    if not outages.is_outage(exc):
        raise exc
