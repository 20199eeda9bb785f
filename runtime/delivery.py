"""The delivery policy of every durable JetStream consumer (toimitus): how a delivery is
fetched from the worker's queue, applied, acknowledged or NAKed, and dead-lettered
(architecture decision 4). What "applied" means (exactly once, in stream order) is the
subclass's: :class:`runtime.consumer.ExactlyOnceConsumer`.

- **Explicit acknowledgement** (FastStream ``AckPolicy.MANUAL``): FastStream's NATS
  default, ``REJECT_ON_ERROR``, would drop a failing event.
- **Bad input never stops the consumer.** An event that does not validate against its
  contract cannot get better by retrying: it goes straight to the dead-letter stream. An
  event whose application fails is NAKed with a growing delay, and dead-lettered on its
  ``max_deliver``-th delivery. A dead-lettered event counts as passed for its stream's
  order, so the stream's later events go on.
- **Early events wait.** An event that came before its predecessor is NAKed and comes
  back (:func:`early_delay`); the owner may be asked to re-publish the predecessor
  (``on_early``, runtime/reconcile.py). It is dead-lettered after EARLY_DELIVERIES.
- **Outages pause, they do not condemn.** When the database cannot be reached the
  consumer retries in place (runtime/outages.py, ``retry_through_outages``), telling
  JetStream it is still working, until the database is back. Serialization failures and
  deadlocks are retried in place a few times, then treated as failures.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol, TypeVar

import asyncpg

from contracts.base import EventBase
from contracts.envelope import CloudEventEnvelope
from contracts.subjects import dead_letter_subject
from runtime import erasure
from runtime.config import Settings
from runtime.decoding import InvalidEvent, decode_delivery, describe, keys_for, read_envelope
from runtime.heartbeat import WaitingQueue, heartbeat_interval, heartbeats
from runtime.outages import retry_through_outages

log = logging.getLogger("runtime.consumer")

T = TypeVar("T")

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
CONTENTION_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
)


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


class DeadLetterPublisher(Protocol):
    """What the consumer needs of JetStream: publishing a dead letter (``JetStreamContext`` fits)."""

    async def publish(
        self, subject: str, payload: bytes, /, *, stream: str, headers: dict[str, str]
    ) -> object: ...


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


Item = tuple[CloudEventEnvelope, EventBase, int]


class DeliveryPolicy:
    """Fetch, apply, ack/nak and dead-letter. A subclass says how a batch is applied
    inside a transaction (:meth:`apply_many`, :meth:`record_position`) and how a
    dead-lettered event is passed over (:meth:`pass_over`)."""

    def __init__(self, *, pool: asyncpg.Pool, js: DeadLetterPublisher, settings: Settings) -> None:
        self._pool = pool
        self._js = js
        self._settings = settings
        self.stats = ConsumerStats()
        self._queue: WaitingQueue[Delivery] = WaitingQueue()
        self._busy = False  # a batch is in hand (:attr:`idle`)
        self._worker: asyncio.Task[None] | None = None
        #: seconds between attempts while the database is unreachable (doubles, capped)
        self.outage_backoff = (0.1, 5.0)
        #: told of each early delivery (subject, envelope, deliveries); True if it asked
        #: the stream's owner for a repair (runtime/reconcile.py, RepairRequests)
        self.on_early: Callable[[str, CloudEventEnvelope, int], bool] | None = None

    @property
    def name(self) -> str:
        """The consumer (durable) name."""
        raise NotImplementedError

    @property
    def reads_personal_data(self) -> bool:
        return True

    async def apply_many(
        self, conn: asyncpg.Connection, items: list[Item], *, strict_order: bool = True
    ) -> list[Applied]:
        raise NotImplementedError

    async def record_position(self, conn: asyncpg.Connection, stream_seq: int) -> None:
        raise NotImplementedError

    async def pass_over(self, conn: asyncpg.Connection, envelope: CloudEventEnvelope) -> None:
        raise NotImplementedError

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

    @property
    def idle(self) -> bool:
        """No batch in hand and nothing queued (one waiting on its database is not idle)."""
        return not self._busy and self._queue.empty()

    async def _work(self) -> None:
        while True:
            self._busy = False
            batch = [await self._queue.get()]
            while len(batch) < BATCH_SIZE and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            self._busy = True
            try:
                every = heartbeat_interval(self._settings.ack_wait)
                async with heartbeats(functools.partial(self._held, batch), every=every):
                    await self.handle_batch(batch)
            except Exception:  # not acked: redelivered after ack_wait; the worker lives on
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

    async def _through_outages(self, attempt: Callable[[], Awaitable[T]], msgs: list[Delivery]) -> T:
        """``attempt()``, retried in place while the database is unreachable, the
        deliveries ``msgs`` kept ours meanwhile."""
        return await retry_through_outages(
            attempt, backoff=self.outage_backoff, on_pause=functools.partial(self._pause, msgs)
        )

    async def _apply_batch(
        self, parsed: list[tuple[Delivery, CloudEventEnvelope, EventBase]]
    ) -> list[Applied]:
        items = [(envelope, event, int(msg.metadata.sequence.stream)) for msg, envelope, event in parsed]

        async def attempt() -> list[Applied]:
            async with self._pool.acquire() as conn, conn.transaction():
                results = await self.apply_many(conn, items)
                await self.record_position(conn, max(seq for _, _, seq in items))
                return results

        return await self._through_outages(attempt, [msg for msg, _, _ in parsed])

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
        return await self._through_outages(
            functools.partial(keys_for, self._pool, [e for _, e in envelopes]), [msg for msg, _ in envelopes]
        )

    async def _handle_parsed(self, msg: Delivery, envelope: CloudEventEnvelope, event: EventBase) -> None:
        meta = msg.metadata
        stream_seq = int(meta.sequence.stream)
        deliveries = int(meta.num_delivered)
        try:
            result = await self._apply_one(envelope, event, stream_seq, msg)
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

    async def _apply_one(
        self, envelope: CloudEventEnvelope, event: EventBase, stream_seq: int, msg: Delivery
    ) -> Applied:
        """One delivery in its own transaction, through outages; a serialization failure
        or deadlock is retried in place CONTENTION_RETRIES times."""
        contention = 0

        async def attempt() -> Applied:
            nonlocal contention
            while True:
                try:
                    async with self._pool.acquire() as conn, conn.transaction():
                        [result] = await self.apply_many(conn, [(envelope, event, stream_seq)])
                        await self.record_position(conn, stream_seq)
                        return result
                except CONTENTION_ERRORS:
                    contention += 1
                    if contention > CONTENTION_RETRIES:
                        raise
                    await asyncio.sleep(0.01 * contention)

        return await self._through_outages(attempt, [msg])

    async def _pause(self, msgs: list[Delivery], exc: BaseException, delay: float) -> None:
        """Before one wait of the retry in place through a database outage (``exc``): keep
        the deliveries ours. The progress signal is best effort: with the broker away too
        it cannot be sent, and must not end the retry (a redelivery is a duplicate,
        applied once)."""
        self.stats.paused_on_outage += 1
        log.warning("%s: database unavailable (%s); retrying in %.1fs", self.name, type(exc).__name__, delay)
        for msg in msgs:
            try:
                await msg.in_progress()
            except Exception as signal_failed:
                log.warning("%s: could not signal progress: %s", self.name, type(signal_failed).__name__)
                break

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
                async with self._pool.acquire() as conn, conn.transaction():
                    await self.pass_over(conn, envelope)
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
