"""The base of every durable JetStream consumer: exactly-once effect, per-stream order,
bounded retries, dead letters with a reason, and no stop on bad input (architecture
decision 4).

- **Exactly once.** A delivery is applied and its event id recorded in one Postgres
  transaction; the event id's primary key makes a redelivered or replayed event a no-op.
- **In order, per stream.** ``stream_positions`` keeps the last version applied of each
  producer's stream (one client's case). Version *n* is applied only after *n-1*: an
  event that arrives early (a redelivery overtaken by its successor) is NAKed and comes
  back after its predecessor. Different clients' events need no order between them. If
  the predecessor is lost from JetStream, the consumer asks its owner to re-publish it
  from PostgreSQL (``on_early``, runtime/reconcile.py) and keeps waiting.
- **Explicit acknowledgement** (FastStream ``AckPolicy.MANUAL``): FastStream's NATS
  default, ``REJECT_ON_ERROR``, would drop a failing event.
- **Bad input never stops the consumer.** An event that does not validate against its
  contract (bad JSON, unknown type, wrong fields) cannot get better by retrying: it goes
  straight to the dead-letter stream. An event whose application fails is NAKed with a
  growing delay, and dead-lettered on its ``max_deliver``-th delivery. A dead-lettered
  event counts as passed for its stream's order, so the stream's later events go on.
- **Outages pause, they do not condemn.** When the database cannot be reached (connection
  refused or dropped, too many connections, shutting down) the consumer retries in place,
  telling JetStream it is still working, until the database is back. Serialization
  failures and deadlocks are retried in place a few times, then treated as failures.
- **No personal data in reasons or logs**: validation errors are reported by field and
  message, never with the rejected value.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

import asyncpg
from nats.js import JetStreamContext
from pydantic import ValidationError

from contracts.base import EventBase
from contracts.envelope import CloudEventEnvelope
from contracts.registry import UnknownEventType, decode_event
from contracts.subjects import dead_letter_subject
from contracts.upcasters import MissingUpcaster, NewerSchemaVersion
from runtime import erasure, outages
from runtime.config import Settings
from runtime.db import quote_ident
from runtime.heartbeat import WaitingQueue, heartbeat_interval, heartbeats

log = logging.getLogger(__name__)

#: JetStream's own redelivery bound is ours plus this margin, so the deliveries that
#: dead-letter a message can themselves be retried if the dead-letter publish fails.
DEAD_LETTER_MARGIN = 3
#: An event that came before its predecessor is redelivered every EARLY_DELAY seconds at
#: first, then less often (:func:`early_delay`), up to EARLY_DELIVERIES times (about 20
#: minutes, long enough for its owner to re-publish a lost predecessor; docs/adr/0015)
#: before it is dead-lettered.
EARLY_DELIVERIES = 300
EARLY_DELAY = 0.2
EARLY_DELAY_MAX = 5.0


def early_delay(deliveries: int) -> float:
    """The redelivery delay of an early event: EARLY_DELAY for its first 25 deliveries (a
    predecessor overtaken by a redelivery), then doubling up to EARLY_DELAY_MAX."""
    return min(EARLY_DELAY * 2.0 ** max(0, deliveries - 25), EARLY_DELAY_MAX)


def jetstream_max_deliver(settings_max_deliver: int) -> int:
    """JetStream's bound: above both of ours, so we always decide first."""
    return max(settings_max_deliver, EARLY_DELIVERIES) + DEAD_LETTER_MARGIN


MAX_HEADER = 900
#: The most deliveries applied in one transaction.
BATCH_SIZE = 200
#: Retries in place of a serialization failure or deadlock before it counts as a failure.
CONTENTION_RETRIES = 5

#: The database is unreachable: not the event's fault, retried in place until it is back.
#: These classes, and the errors runtime/outages.py recognises by what they say (an
#: ``InterfaceError`` about a closed connection): :func:`outage` tells them apart.
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (*outages.DATABASE_OUTAGES, asyncpg.InterfaceError)
CONTENTION_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
)


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


class Delivery(Protocol):
    """What the consumer needs of a JetStream message (nats-py's ``Msg`` fits)."""

    subject: str
    data: bytes

    @property
    def headers(self) -> Mapping[str, str] | None: ...

    @property
    def metadata(self) -> Any: ...

    async def ack(self) -> None: ...

    async def nak(self, delay: float | None = None) -> None: ...

    async def in_progress(self) -> None: ...


class InvalidEvent(ValueError):
    """The message does not satisfy its contract; retrying cannot help."""

    def __init__(self, reason: str, envelope: CloudEventEnvelope | None = None) -> None:
        super().__init__(reason)
        #: the envelope, when it parsed and only the event inside did not
        self.envelope = envelope


def read_envelope(data: bytes) -> CloudEventEnvelope:
    """The delivery's envelope; :class:`InvalidEvent` if it is not one."""
    try:
        return CloudEventEnvelope.from_bytes(data)
    except (ValidationError, ValueError) as exc:
        raise InvalidEvent(describe(exc)) from exc


def decode_delivery(envelope: CloudEventEnvelope, keys: erasure.Keys) -> EventBase:
    """The event inside ``envelope``, its personal fields revealed with ``keys`` (the
    clients' keys read for this batch; a client missing from them reads as erased)."""
    try:
        return decode_event(erasure.reveal(envelope, keys))
    except (
        ValidationError,
        UnknownEventType,
        MissingUpcaster,
        NewerSchemaVersion,
        ValueError,
        KeyError,
    ) as exc:
        raise InvalidEvent(describe(exc), envelope) from exc


def parse_delivery(data: bytes, keys: erasure.Keys | None = None) -> tuple[CloudEventEnvelope, EventBase]:
    """Envelope and event of a delivery. Without ``keys`` personal fields read as erased."""
    envelope = read_envelope(data)
    return envelope, decode_delivery(envelope, keys or {})


async def keys_for(
    conn: asyncpg.Connection | asyncpg.Pool, envelopes: list[CloudEventEnvelope]
) -> dict[str, bytes | None]:
    """The keys the sealed ``envelopes`` need, read now (never kept across batches)."""
    sealed = [e.subject for e in envelopes if erasure.envelope_sealed(e)]
    return await erasure.fetch_keys(conn, sealed) if sealed else {}


class Applied(Enum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    EARLY = "early"


@dataclass
class ConsumerStats:
    applied: int = 0
    duplicates: int = 0
    retried: int = 0
    early: int = 0
    dead_lettered: int = 0
    paused_on_outage: int = 0
    #: requests to an owner to re-publish a lost predecessor (runtime/reconcile.py)
    repairs_requested: int = 0


class ExactlyOnceConsumer:
    """Applies deliveries to a projection exactly once and in stream order."""

    def __init__(
        self, *, pool: asyncpg.Pool, js: JetStreamContext, settings: Settings, projection: Projection
    ) -> None:
        self._pool = pool
        self._js = js
        self._settings = settings
        self.projection = projection
        s = quote_ident(projection.schema)
        self._position_sql = (
            f"INSERT INTO {s}.consumer_positions (consumer, stream_seq) VALUES ($1, $2) "
            "ON CONFLICT (consumer) DO UPDATE SET stream_seq = "
            f"greatest({s}.consumer_positions.stream_seq, excluded.stream_seq)"
        )
        self._stream_version_sql = (
            f"SELECT version FROM {s}.stream_positions "
            "WHERE consumer = $1 AND source = $2 AND stream_id = $3 FOR UPDATE"
        )
        self._advance_sql = (
            f"INSERT INTO {s}.stream_positions (consumer, source, stream_id, version) "
            "VALUES ($1, $2, $3, $4) "
            f"ON CONFLICT (consumer, source, stream_id) DO UPDATE SET version = excluded.version "
            f"WHERE {s}.stream_positions.version < excluded.version"
        )
        # Set-based statements: a whole batch at a time (live batches and replay).
        self._positions_sql = (
            f"SELECT source, stream_id, version FROM {s}.stream_positions WHERE consumer = $1 "
            "AND (source, stream_id) IN (SELECT * FROM unnest($2::text[], $3::text[])) FOR UPDATE"
        )
        self._claim_many_sql = (
            f"INSERT INTO {s}.consumed_events (consumer, event_id, stream_seq) "
            "SELECT $1, e, q FROM unnest($2::uuid[], $3::bigint[]) AS u(e, q) ON CONFLICT DO NOTHING "
            "RETURNING event_id"
        )
        self._advance_many_sql = (
            f"INSERT INTO {s}.stream_positions (consumer, source, stream_id, version) "
            "SELECT $1, a, b, c FROM unnest($2::text[], $3::text[], $4::int[]) AS u(a, b, c) "
            "ON CONFLICT (consumer, source, stream_id) DO UPDATE SET version = "
            f"greatest({s}.stream_positions.version, excluded.version)"
        )
        self.stats = ConsumerStats()
        self._queue: WaitingQueue[Delivery] = WaitingQueue()
        self._worker: asyncio.Task[None] | None = None
        #: seconds between attempts while the database is unreachable (doubles, capped)
        self.outage_backoff = (0.1, 5.0)
        #: told of each early delivery (subject, envelope, deliveries); True if it asked
        #: the stream's owner for a repair (runtime/reconcile.py, RepairRequests)
        self.on_early: Callable[[str, CloudEventEnvelope, int], bool] | None = None

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
        self,
        conn: asyncpg.Connection,
        items: list[tuple[CloudEventEnvelope, EventBase, int]],
        *,
        strict_order: bool = True,
    ) -> list[Applied]:
        """Inside a transaction: apply a batch in order, set-based. One statement reads
        (and locks) the batch's stream positions, the order rules are decided here, one
        statement claims the event ids, one moves the positions; the projection applies
        the batch in one call when it has ``apply_batch``, else event by event.
        ``strict_order=False`` is replay's (the log's order is final)."""
        keys = list(dict.fromkeys((envelope.source, envelope.subject) for envelope, _, _ in items))
        rows = await conn.fetch(self._positions_sql, self.name, [k[0] for k in keys], [k[1] for k in keys])
        last = {(r["source"], r["stream_id"]): r["version"] for r in rows}
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
        claimed = {
            r["event_id"]
            for r in await conn.fetch(
                self._claim_many_sql,
                self.name,
                [items[i][1].event_id for i in due],
                [items[i][2] for i in due],
            )
        }
        todo: list[tuple[EventBase, CloudEventEnvelope]] = []
        top: dict[tuple[str, str], int] = {}
        for i in due:
            envelope, event, _ = items[i]
            key = (envelope.source, envelope.subject)
            top[key] = max(top.get(key, 0), event.stream_version)
            if event.event_id in claimed:
                todo.append((event, envelope))
            else:
                results[i] = Applied.DUPLICATE
        await self._project(conn, todo)
        await conn.execute(
            self._advance_many_sql, self.name, [k[0] for k in top], [k[1] for k in top], list(top.values())
        )
        return results

    async def apply_replayed(
        self, conn: asyncpg.Connection, items: list[tuple[CloudEventEnvelope, EventBase, int]]
    ) -> int:
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
        rows = await conn.fetch(self._positions_sql, self.name, [key[0]], [key[1]])
        last = rows[0]["version"] if rows else 0
        if event.stream_version > last + 1:
            return Applied.EARLY
        claimed = await conn.fetch(self._claim_many_sql, self.name, [event.event_id], [stream_seq])
        if not claimed:
            return Applied.DUPLICATE
        await self._project(conn, [(event, envelope)])
        await conn.execute(self._advance_many_sql, self.name, [key[0]], [key[1]], [event.stream_version])
        return Applied.APPLIED

    async def record_position(self, conn: asyncpg.Connection, stream_seq: int) -> None:
        """The highest stream sequence handled (for operators); once per batch."""
        await conn.execute(self._position_sql, self.name, stream_seq)

    async def submit(self, msg: Delivery) -> None:
        """Queue a delivery for the worker (the subscriber's callback): deliveries keep
        their order, and the worker applies whatever has queued up as one batch."""
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work(), name=f"consumer:{self.name}")
        await self._queue.put(msg)

    async def stop(self) -> None:
        """Stop the worker; deliveries not yet applied are redelivered after ack_wait."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker

    async def _work(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < BATCH_SIZE and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                every = heartbeat_interval(self._settings.ack_wait)
                async with heartbeats(functools.partial(self._held, batch), every=every):
                    await self.handle_batch(batch)
            except Exception:
                # Not acked: JetStream redelivers them after ack_wait. The worker lives on.
                log.exception("%s: a batch of %d could not be handled", self.name, len(batch))

    def _held(self, batch: list[Delivery]) -> list[Delivery]:
        """What this consumer holds unacknowledged: the batch and the deliveries queued
        behind it (their heartbeats keep JetStream from redelivering them)."""
        return [*batch, *self._queue.waiting()]

    async def handle_batch(self, msgs: list[Delivery]) -> None:
        """Apply a batch in one transaction, in order. If any event in it fails, fall back
        to one transaction per event, so the failure is isolated and retried alone."""
        parsed: list[tuple[Delivery, CloudEventEnvelope, EventBase]] = []
        envelopes: list[tuple[Delivery, CloudEventEnvelope]] = []
        for msg in msgs:
            try:
                envelopes.append((msg, read_envelope(msg.data)))
            except InvalidEvent as exc:
                await self._invalid(msg, exc)
        keys = await self._keys(envelopes)
        for msg, envelope in envelopes:
            try:
                event = decode_delivery(envelope, keys)
            except InvalidEvent as exc:
                await self._invalid(msg, exc)
                continue
            parsed.append((msg, envelope, event))
        if not parsed:
            return
        try:
            results = await self._apply_batch(parsed)
        except Exception:
            for msg, envelope, event in parsed:
                await self._handle_parsed(msg, envelope, event)
            return
        for (msg, envelope, event), result in zip(parsed, results, strict=True):
            await self._settle(msg, envelope, event, result)

    async def _apply_batch(
        self, parsed: list[tuple[Delivery, CloudEventEnvelope, EventBase]]
    ) -> list[Applied]:
        delay, cap = self.outage_backoff
        while True:
            try:
                async with self._pool.acquire() as conn, conn.transaction():
                    items = [
                        (envelope, event, int(msg.metadata.sequence.stream))
                        for msg, envelope, event in parsed
                    ]
                    results = await self.apply_many(conn, items)
                    await self.record_position(conn, max(seq for _, _, seq in items))
                    return results
            except OUTAGE_ERRORS as exc:
                delay = await self._pause(exc, [msg for msg, _, _ in parsed], delay, cap)

    async def handle(self, msg: Delivery) -> None:
        """One delivery in its own transaction."""
        try:
            envelope = read_envelope(msg.data)
            event = decode_delivery(envelope, await self._keys([(msg, envelope)]))
        except InvalidEvent as exc:
            await self._invalid(msg, exc)
            return
        await self._handle_parsed(msg, envelope, event)

    async def _invalid(self, msg: Delivery, exc: InvalidEvent) -> None:
        meta = msg.metadata
        reason = f"invalid event: {exc}"
        await self._dead_letter(msg, reason, int(meta.sequence.stream), int(meta.num_delivered), exc.envelope)

    async def _keys(self, envelopes: list[tuple[Delivery, CloudEventEnvelope]]) -> erasure.Keys:
        """The clients' keys for one batch, read through database outages like the rest;
        none for a projection that reads no personal data."""
        if not self.reads_personal_data or not any(erasure.envelope_sealed(e) for _, e in envelopes):
            return {}
        delay, cap = self.outage_backoff
        while True:
            try:
                return await keys_for(self._pool, [e for _, e in envelopes])
            except OUTAGE_ERRORS as exc:
                delay = await self._pause(exc, [msg for msg, _ in envelopes], delay, cap)

    async def _handle_parsed(self, msg: Delivery, envelope: CloudEventEnvelope, event: EventBase) -> None:
        meta = msg.metadata
        stream_seq = int(meta.sequence.stream)
        deliveries = int(meta.num_delivered)
        try:
            result = await self._apply_through_outages(envelope, event, stream_seq, msg)
        except Exception as exc:
            if deliveries >= self._settings.max_deliver:
                await self._dead_letter(
                    msg, f"failed {deliveries} times: {describe(exc)}", stream_seq, deliveries, envelope
                )
                return
            self.stats.retried += 1
            log.warning(
                "%s: event %s failed (delivery %d), will retry: %s",
                self.name,
                event.event_id,
                deliveries,
                type(exc).__name__,
            )
            await msg.nak(delay=min(0.2 * 2 ** (deliveries - 1), 10.0))
            return
        await self._settle(msg, envelope, event, result)

    async def _settle(
        self, msg: Delivery, envelope: CloudEventEnvelope, event: EventBase, result: Applied
    ) -> None:
        stream_seq = int(msg.metadata.sequence.stream)
        deliveries = int(msg.metadata.num_delivered)
        if result is Applied.EARLY:
            self.stats.early += 1
            if self.on_early is not None and self.on_early(msg.subject, envelope, deliveries):
                self.stats.repairs_requested += 1
            if deliveries >= EARLY_DELIVERIES:
                reason = (
                    f"version {event.stream_version} of {envelope.subject} came, its predecessor never did"
                )
                await self._dead_letter(msg, reason, stream_seq, deliveries, None)
                return
            await msg.nak(delay=early_delay(deliveries))
            return
        if result is Applied.APPLIED:
            self.stats.applied += 1
        else:
            self.stats.duplicates += 1
        await msg.ack()

    async def _apply_through_outages(
        self, envelope: CloudEventEnvelope, event: EventBase, stream_seq: int, msg: Delivery
    ) -> Applied:
        delay, cap = self.outage_backoff
        contention = 0
        while True:
            try:
                async with self._pool.acquire() as conn, conn.transaction():
                    result = await self.apply_in(conn, envelope, event, stream_seq)
                    await self.record_position(conn, stream_seq)
                    return result
            except CONTENTION_ERRORS:
                contention += 1
                if contention > CONTENTION_RETRIES:
                    raise
                await asyncio.sleep(0.01 * contention)
            except OUTAGE_ERRORS as exc:
                delay = await self._pause(exc, [msg], delay, cap)

    async def _pause(self, exc: BaseException, msgs: list[Delivery], delay: float, cap: float) -> float:
        """One wait of the retry in place through a database outage (``exc``; anything that
        is not an outage is raised again): keep the deliveries ours, sleep ``delay``, and
        return the next delay. The progress signal is best effort: with the broker away
        too it cannot be sent, and must not end the retry (a redelivery is a duplicate,
        applied once)."""
        outage(exc)
        self.stats.paused_on_outage += 1
        log.warning("%s: database unavailable (%s); retrying in %.1fs", self.name, type(exc).__name__, delay)
        for msg in msgs:
            try:
                await msg.in_progress()
            except Exception as signal_failed:
                log.warning("%s: could not signal progress: %s", self.name, type(signal_failed).__name__)
                break
        await asyncio.sleep(delay)
        return min(delay * 2, cap)

    async def _dead_letter(
        self,
        msg: Delivery,
        reason: str,
        stream_seq: int,
        deliveries: int,
        envelope: CloudEventEnvelope | None,
    ) -> None:
        headers = {
            # One dead letter per original message, however often this is retried.
            "Nats-Msg-Id": f"{self.name}:{stream_seq}",
            "Reitti-Dead-Letter-Reason": reason[:MAX_HEADER],
            "Reitti-Consumer": self.name,
            "Reitti-Original-Subject": msg.subject,
            "Reitti-Original-Stream-Seq": str(stream_seq),
            "Reitti-Deliveries": str(deliveries),
        }
        try:
            await self._js.publish(
                dead_letter_subject(self._settings.namespace, self.name),
                msg.data,
                stream=self._settings.dead_letter_stream,
                headers=headers,
            )
            if envelope is not None:
                await self._pass_over(envelope)
        except Exception as exc:
            # Not acked: JetStream redelivers (within DEAD_LETTER_MARGIN) and we try again.
            log.error(
                "%s: could not dead-letter stream seq %d: %s", self.name, stream_seq, type(exc).__name__
            )
            await msg.nak(delay=1.0)
            return
        self.stats.dead_lettered += 1
        log.error("%s: dead-lettered stream seq %d: %s", self.name, stream_seq, reason)
        await msg.ack()

    async def _pass_over(self, envelope: CloudEventEnvelope) -> None:
        """A dead-lettered event counts as passed for its stream's order (if it was next),
        so the stream's later events are not held back behind it."""
        async with self._pool.acquire() as conn, conn.transaction():
            last = (
                await conn.fetchval(self._stream_version_sql, self.name, envelope.source, envelope.subject)
                or 0
            )
            if envelope.streamversion == last + 1:
                await conn.execute(
                    self._advance_sql, self.name, envelope.source, envelope.subject, envelope.streamversion
                )


def outage(exc: BaseException) -> None:
    """Inside ``except OUTAGE_ERRORS``: re-raise ``exc`` unless it is an outage (an
    ``InterfaceError`` about the call itself is the event's failure, not an outage)."""
    if not outages.is_outage(exc):
        raise exc


def describe(exc: BaseException) -> str:
    """One line naming what is wrong, without the rejected values (they may be personal data)."""
    if isinstance(exc, ValidationError):
        parts = [
            f"{'.'.join(str(p) for p in e['loc']) or '-'}: {e['msg']}"
            for e in exc.errors(include_input=False, include_url=False)
        ]
        return f"{exc.title}: " + "; ".join(parts)
    text = f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())
