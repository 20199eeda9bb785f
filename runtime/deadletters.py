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
- One whose predecessor was never applied (dead-lettered as early) **waits**: it stays
  until its predecessor is applied, so a stream never skips a version.
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
from nats.js.errors import APIError

from contracts.subjects import dead_letter_subject, dead_letter_wildcard
from runtime import erasure
from runtime.config import Settings
from runtime.consumer import (
    Applied,
    ExactlyOnceConsumer,
    InvalidEvent,
    decode_delivery,
    describe,
    read_envelope,
)

#: seconds to wait for the next letter before the read gives up on it
READ_TIMEOUT = 5.0
#: JetStream's error code for deleting a message that is not (or no longer) there
NO_MESSAGE_FOUND = 10057


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
        original = str(self.original_stream_seq) if self.original_stream_seq is not None else None
        return {
            "dlq_seq": self.dlq_seq,
            "consumer": self.consumer,
            "reason": self.reason,
            "original_subject": self.original_subject,
            "original_stream_seq": original,
            "deliveries": self.deliveries,
            "data": self.data.decode("utf-8", errors="replace"),
        }


async def read_dead_letters(
    js: JetStreamContext, settings: Settings, *, consumer: str | None = None, limit: int | None = None
) -> list[DeadLetter]:
    """The dead letters, oldest first: all of them, or one consumer's; with ``limit``, the
    newest ``limit`` of those."""
    if limit is not None and limit <= 0:
        return []
    if consumer is not None:
        subject = dead_letter_subject(settings.namespace, consumer)
    else:
        subject = dead_letter_wildcard(settings.namespace)
    # How many there are, counted by subject before reading: a slow server makes the read
    # wait, never end early.
    info = await js.stream_info(settings.dead_letter_stream, subjects_filter=subject)
    expected = sum((info.state.subjects or {}).values())
    if expected == 0 or not info.state.messages:
        return []
    start = max(int(info.state.first_seq), 1)
    if consumer is None and limit is not None:
        start = max(start, int(info.state.last_seq) - limit + 1)
        expected = min(expected, limit)
    sub = await js.subscribe(
        subject,
        stream=settings.dead_letter_stream,
        ordered_consumer=True,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start),
    )
    letters: list[DeadLetter] = []
    try:
        while len(letters) < expected:
            try:
                msg = await sub.next_msg(timeout=READ_TIMEOUT)
            except NatsTimeout:
                break  # deleted meanwhile (a re-drive running at the same time)
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
    #: applied (or a duplicate), but the letter could not be removed: a re-run is harmless
    not_removed: list[tuple[int, str]] = field(default_factory=list)
    #: asked for by number, but not a letter of this consumer
    unknown: list[int] = field(default_factory=list)


class _Kept(Exception):
    """The letter stays: why."""


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
    letters = await read_dead_letters(js, settings, consumer=consumer.name)
    if only is not None:
        report.unknown = sorted(only - {letter.dlq_seq for letter in letters})
        letters = [letter for letter in letters if letter.dlq_seq in only]
    for letter in letters:
        try:
            result = await _apply(pool, consumer, letter)
        except _Kept as kept:
            report.still_failing.append((letter.dlq_seq, str(kept)))
            continue
        except Exception as exc:
            report.still_failing.append((letter.dlq_seq, describe(exc)))
            continue
        (report.applied if result is Applied.APPLIED else report.duplicates).append(letter.dlq_seq)
        try:
            await js.delete_msg(settings.dead_letter_stream, letter.dlq_seq)
        except APIError as exc:
            if exc.err_code != NO_MESSAGE_FOUND:  # else: removed by a re-drive at the same time
                report.not_removed.append((letter.dlq_seq, describe(exc)))
        except Exception as exc:
            report.not_removed.append((letter.dlq_seq, describe(exc)))
    return report


async def _apply(pool: asyncpg.Pool, consumer: ExactlyOnceConsumer, letter: DeadLetter) -> Applied:
    try:
        envelope = read_envelope(letter.data)
    except InvalidEvent as exc:
        raise _Kept(f"invalid event: {exc}") from exc
    async with pool.acquire() as conn, conn.transaction():
        # The client's key is read, and held, inside the transaction: an erasure waits for
        # this letter's effect and then erases it too. A projection that reads no personal
        # data is given no key (runtime/consumer.py).
        keys: erasure.Keys = {}
        if consumer.reads_personal_data and erasure.envelope_sealed(envelope):
            keys = await erasure.fetch_keys(conn, [envelope.subject], hold=True)
        try:
            event = decode_delivery(envelope, keys)
        except InvalidEvent as exc:
            raise _Kept(f"invalid event: {exc}") from exc
        result = await consumer.redrive(conn, envelope, event, letter.original_stream_seq or 0)
    if result is Applied.EARLY:
        raise _Kept(
            f"version {event.stream_version} of {envelope.subject} waits for version "
            f"{event.stream_version - 1}, which this consumer has not applied"
        )
    return result
