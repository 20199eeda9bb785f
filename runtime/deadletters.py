"""The dead-letter stream, for operators: reading it, and re-driving what is in it.

A consumer dead-letters a delivery that does not validate against its contract, or that
keeps failing (runtime/consumer.py). The letter holds the original message and says why.
Once the cause is fixed (a contract's upcaster, a projection's bug), ``redrive`` sends a
consumer's letters through that consumer again, oldest first:

- Each event is applied **exactly once by its id**. One that was applied meanwhile counts
  as a duplicate.
- It is applied **now, after the events of its stream that came since**. When it was
  dead-lettered, its stream went on without it. For a projection that can be rebuilt
  (reporting), ``reitti replay`` applies everything in the log's order instead.
- A letter that is applied, or found a duplicate, **leaves the stream**. One that still
  fails stays, with the new reason printed; nothing is lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy

from contracts.subjects import dead_letter_subject, dead_letter_wildcard
from runtime.config import Settings
from runtime.consumer import (
    Applied,
    ExactlyOnceConsumer,
    InvalidEvent,
    decode_delivery,
    describe,
    keys_for,
    read_envelope,
)


@dataclass(frozen=True)
class DeadLetter:
    """One message of the dead-letter stream."""

    dlq_seq: int
    consumer: str | None
    reason: str | None
    original_subject: str | None
    original_stream_seq: int | None
    deliveries: str | None
    data: bytes

    def as_json(self) -> dict[str, Any]:
        return {
            "dlq_seq": self.dlq_seq,
            "consumer": self.consumer,
            "reason": self.reason,
            "original_subject": self.original_subject,
            "original_stream_seq": self.original_stream_seq,
            "deliveries": self.deliveries,
            "data": self.data.decode("utf-8", errors="replace"),
        }


async def read_dead_letters(
    js: JetStreamContext, settings: Settings, *, consumer: str | None = None, limit: int | None = None
) -> list[DeadLetter]:
    """The dead letters, oldest first: all of them, or one consumer's; with ``limit``, the
    newest ``limit`` of those."""
    info = await js.stream_info(settings.dead_letter_stream)
    if info.state.messages == 0:
        return []
    if consumer is not None:
        subject, start = dead_letter_subject(settings.namespace, consumer), int(info.state.first_seq)
    else:
        subject = dead_letter_wildcard(settings.namespace)
        start = int(info.state.first_seq)
        if limit is not None:
            start = max(start, int(info.state.last_seq) - limit + 1)
    sub = await js.subscribe(
        subject,
        stream=settings.dead_letter_stream,
        ordered_consumer=True,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start),
    )
    letters: list[DeadLetter] = []
    try:
        while True:
            try:
                msg = await sub.next_msg(timeout=1)
            except NatsTimeout:
                break
            headers = msg.headers or {}
            original = headers.get("Reitti-Original-Stream-Seq")
            letters.append(
                DeadLetter(
                    dlq_seq=int(msg.metadata.sequence.stream),
                    consumer=headers.get("Reitti-Consumer"),
                    reason=headers.get("Reitti-Dead-Letter-Reason"),
                    original_subject=headers.get("Reitti-Original-Subject"),
                    original_stream_seq=int(original) if original and original.isdigit() else None,
                    deliveries=headers.get("Reitti-Deliveries"),
                    data=bytes(msg.data),
                )
            )
            if msg.metadata.num_pending == 0:
                break  # the last of them
    finally:
        await sub.unsubscribe()
    return letters[-limit:] if limit is not None else letters


async def list_dead_letters(
    js: JetStreamContext, settings: Settings, *, limit: int = 100
) -> list[dict[str, Any]]:
    """The newest ``limit`` dead letters: reason, consumer, original subject and data."""
    return [letter.as_json() for letter in await read_dead_letters(js, settings, limit=limit)]


@dataclass
class RedriveReport:
    applied: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    #: dead-letter sequence and why it still cannot be applied (the letter stays)
    still_failing: list[tuple[int, str]] = field(default_factory=list)


async def redrive(
    js: JetStreamContext,
    settings: Settings,
    pool: asyncpg.Pool,
    consumer: ExactlyOnceConsumer,
    *,
    only: set[int] | None = None,
) -> RedriveReport:
    """Send ``consumer``'s dead letters (those numbered in ``only``, else all) through it
    again, oldest first, each in its own transaction (see the module's docstring)."""
    report = RedriveReport()
    for letter in await read_dead_letters(js, settings, consumer=consumer.name):
        if only is not None and letter.dlq_seq not in only:
            continue
        try:
            envelope = read_envelope(letter.data)
            # The client's key is read for this letter only; none for a projection that
            # reads no personal data (runtime/consumer.py).
            keys = await keys_for(pool, [envelope]) if consumer.reads_personal_data else {}
            event = decode_delivery(envelope, keys)
        except InvalidEvent as exc:
            report.still_failing.append((letter.dlq_seq, f"invalid event: {exc}"))
            continue
        try:
            async with pool.acquire() as conn, conn.transaction():
                result = await consumer.redrive(conn, envelope, event, letter.original_stream_seq or 0)
        except Exception as exc:
            report.still_failing.append((letter.dlq_seq, describe(exc)))
            continue
        (report.applied if result is Applied.APPLIED else report.duplicates).append(letter.dlq_seq)
        await js.delete_msg(settings.dead_letter_stream, letter.dlq_seq)
    return report
