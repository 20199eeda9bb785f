"""The base of every durable JetStream consumer: exactly-once effect, bounded retries,
dead letters with a reason, and no stop on bad input (architecture decision 4).

A delivery is applied and its event id recorded in one Postgres transaction. The event
id's primary key makes a redelivered or replayed event a no-op. Acknowledgement is
explicit (``AckPolicy.MANUAL`` in FastStream): FastStream's NATS default,
``REJECT_ON_ERROR``, would drop a failing event.

- An event that does not validate against its contract (bad JSON, unknown type, wrong
  fields) cannot get better by retrying: it goes straight to the dead-letter stream.
- An event whose application fails is NAKed with a growing delay; on its
  ``max_deliver``-th delivery it goes to the dead-letter stream with the error.
- An outage of the database (connection refused, dropped, too many connections, a
  serialization failure or deadlock) is not the event's fault: the consumer retries in
  place, telling JetStream it is still working on the message, until the database is
  back. It pauses instead of burning deliveries and dead-lettering good events.
- A message is acked only after its effect, or its dead letter, is safely stored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
from nats.js import JetStreamContext
from pydantic import ValidationError

from contracts.base import EventBase
from contracts.envelope import CloudEventEnvelope
from contracts.registry import UnknownEventType, decode_event
from contracts.subjects import dead_letter_subject
from contracts.upcasters import MissingUpcaster
from runtime.config import Settings
from runtime.db import quote_ident

log = logging.getLogger(__name__)

#: JetStream's own redelivery bound is ours plus this margin, so the deliveries that
#: dead-letter a message can themselves be retried if the dead-letter publish fails.
DEAD_LETTER_MARGIN = 3
MAX_HEADER = 900

#: Errors of the infrastructure, not of the event: retried in place, never dead-lettered.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    asyncpg.AdminShutdownError,
)


class Projection(Protocol):
    """A read model fed by events. ``apply`` runs inside the consumer's transaction."""

    #: the consumer (durable) name, also the row key in consumer tracking
    name: str
    schema: str

    async def create(self, conn: asyncpg.Connection) -> None: ...

    async def apply(
        self, conn: asyncpg.Connection, event: EventBase, envelope: CloudEventEnvelope
    ) -> None: ...


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


def parse_delivery(data: bytes) -> tuple[CloudEventEnvelope, EventBase]:
    try:
        envelope = CloudEventEnvelope.from_bytes(data)
        event = decode_event(envelope)
    except (ValidationError, UnknownEventType, MissingUpcaster, ValueError, KeyError) as exc:
        raise InvalidEvent(_one_line(exc)) from exc
    return envelope, event


@dataclass
class ConsumerStats:
    applied: int = 0
    duplicates: int = 0
    retried: int = 0
    dead_lettered: int = 0
    paused_on_outage: int = 0


class ExactlyOnceConsumer:
    """Applies deliveries to a projection exactly once; see the module docstring."""

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        js: JetStreamContext,
        settings: Settings,
        projection: Projection,
    ) -> None:
        self._pool = pool
        self._js = js
        self._settings = settings
        self.projection = projection
        s = quote_ident(projection.schema)
        self._claim_sql = (
            f"INSERT INTO {s}.consumed_events (consumer, event_id, stream_seq) "
            "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1"
        )
        self._position_sql = (
            f"INSERT INTO {s}.consumer_positions (consumer, stream_seq) VALUES ($1, $2) "
            "ON CONFLICT (consumer) DO UPDATE SET stream_seq = "
            f"greatest({s}.consumer_positions.stream_seq, excluded.stream_seq)"
        )
        self.stats = ConsumerStats()
        #: seconds between attempts while the database is unreachable (doubles, capped)
        self.outage_backoff = (0.1, 5.0)

    @property
    def name(self) -> str:
        return self.projection.name

    async def apply_in(
        self,
        conn: asyncpg.Connection,
        envelope: CloudEventEnvelope,
        event: EventBase,
        stream_seq: int,
    ) -> bool:
        """Inside a transaction: apply unless already applied. True if applied now."""
        claimed = await conn.fetchval(self._claim_sql, self.name, event.event_id, stream_seq)
        if claimed:
            await self.projection.apply(conn, event, envelope)
        await conn.execute(self._position_sql, self.name, stream_seq)
        return bool(claimed)

    async def handle(self, msg: Delivery) -> None:
        meta = msg.metadata
        stream_seq = int(meta.sequence.stream)
        deliveries = int(meta.num_delivered)
        try:
            envelope, event = parse_delivery(msg.data)
        except InvalidEvent as exc:
            await self._dead_letter(msg, f"invalid event: {exc}", stream_seq, deliveries)
            return
        try:
            applied = await self._apply_through_outages(envelope, event, stream_seq, msg)
        except Exception as exc:
            if deliveries >= self._settings.max_deliver:
                await self._dead_letter(
                    msg, f"failed {deliveries} times: {_one_line(exc)}", stream_seq, deliveries
                )
                return
            self.stats.retried += 1
            log.warning(
                "%s: event %s failed (delivery %d), will retry: %r",
                self.name,
                event.event_id,
                deliveries,
                exc,
            )
            await msg.nak(delay=min(0.2 * 2 ** (deliveries - 1), 10.0))
            return
        if applied:
            self.stats.applied += 1
        else:
            self.stats.duplicates += 1
        await msg.ack()

    async def _apply_through_outages(
        self, envelope: CloudEventEnvelope, event: EventBase, stream_seq: int, msg: Delivery
    ) -> bool:
        delay, cap = self.outage_backoff
        while True:
            try:
                async with self._pool.acquire() as conn, conn.transaction():
                    return await self.apply_in(conn, envelope, event, stream_seq)
            except TRANSIENT_ERRORS as exc:
                self.stats.paused_on_outage += 1
                log.warning("%s: database unavailable (%r); retrying in %.1fs", self.name, exc, delay)
                await msg.in_progress()  # keep the delivery ours while we wait
                await asyncio.sleep(delay)
                delay = min(delay * 2, cap)

    async def _dead_letter(self, msg: Delivery, reason: str, stream_seq: int, deliveries: int) -> None:
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
        except Exception as exc:
            # Not acked: JetStream redelivers (within DEAD_LETTER_MARGIN) and we try again.
            log.error("%s: could not dead-letter stream seq %d: %r", self.name, stream_seq, exc)
            await msg.nak(delay=1.0)
            return
        self.stats.dead_lettered += 1
        log.error("%s: dead-lettered stream seq %d: %s", self.name, stream_seq, reason)
        await msg.ack()


def _one_line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())
