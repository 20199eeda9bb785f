"""Reading a range of a JetStream stream completely, in order, or failing loudly
(architecture decision 12, ADR 0014).

The read is a pull consumer of its own (ephemeral, in memory, no acks), fetched in
bounded batches: the server sends a batch only when the reader asks for one, and the
reader asks only when the caller has taken the previous one (:meth:`LogReader.read_ahead`
keeps one more fetched). A slow caller therefore slows the read down; nothing piles up in
the client, so nothing is dropped for want of room (nats-py's push subscriptions drop
messages past their pending limit, and the ordered consumer did not notice). Were a
message lost anyway, the check below would notice.

Completeness is checked at every sequence, not assumed. The reader expects stream
sequence ``after_seq + 1``, then each next one. When a message comes with a higher
sequence than expected, the sequences skipped are asked about: JetStream's "next message
at or after sequence *n*" (``STREAM.MSG.GET`` with ``next_by_subj``) must answer with the
message just received, which proves that nothing in between is in the stream any more
(deleted, or purged). If it answers with an earlier one, a message was lost on the way
(a reconnect): the reader resumes from the first sequence it has not handed on. The same
question ends the read when the consumer has nothing more to give before ``until_seq``.

A broker that is paused, restarted or unreachable makes the fetches time out; the reader
makes a new consumer from the first sequence it has not handed on and tries again, with a
growing pause, for ``patience`` seconds without progress. Then it raises
:class:`IncompleteRead`. It never reports a range as read that it has not read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

log = logging.getLogger(__name__)

#: Seconds without progress (the broker away, paused or not answering) before a read fails.
PATIENCE = 180.0
#: Seconds one fetch waits for its first message.
FETCH_TIMEOUT = 5.0
#: The pause between attempts while the broker does not answer (doubles, capped).
RETRY_BACKOFF = (0.2, 5.0)
#: Seconds an abandoned consumer (the reader's process died) outlives its last fetch.
INACTIVE_THRESHOLD = 300.0

#: A message read: its stream sequence and its payload.
Record = tuple[int, bytes]


class IncompleteRead(RuntimeError):
    """The range could not be read completely: nothing that depends on it may go on."""


@dataclass
class ReadCounts:
    """What a read handed on (``read``), what the stream no longer holds (``deleted``),
    and how often it had to start a new consumer (``resumed``)."""

    read: int = 0
    deleted: int = 0
    resumed: int = 0


class LogReader:
    """Every message of ``stream`` (on ``subject``) with ``after_seq < seq <= until_seq``,
    in order, in batches of at most ``batch``, through :meth:`batches`. When the
    iteration ends normally, ``counts.read + counts.deleted == until_seq - after_seq``."""

    def __init__(
        self,
        js: JetStreamContext,
        *,
        stream: str,
        subject: str,
        after_seq: int,
        until_seq: int,
        batch: int = 500,
        patience: float = PATIENCE,
        fetch_timeout: float = FETCH_TIMEOUT,
        pending_msgs_limit: int | None = None,
    ) -> None:
        if batch < 1:
            raise ValueError("batch must be at least 1")
        self._js = js
        self.stream = stream
        self.subject = subject
        self.after_seq = after_seq
        self.until_seq = until_seq
        self._batch = batch
        self._patience = patience
        self._fetch_timeout = fetch_timeout
        #: the client's buffer: far above one fetch, so nothing is dropped for want of room
        self._pending_msgs_limit = pending_msgs_limit or max(4 * batch, 10_000)
        #: the first sequence not yet handed on (or known deleted)
        self.next_seq = after_seq + 1
        self.counts = ReadCounts()

    async def batches(self) -> AsyncGenerator[list[Record], None]:
        """The range in order; each batch is handed on once, and the next is fetched only
        when the caller asks for it."""
        name: str | None = None
        sub: JetStreamContext.PullSubscription | None = None
        progressed = time.monotonic()
        delay = RETRY_BACKOFF[0]
        try:
            while self.next_seq <= self.until_seq:
                failure: BaseException | None = None
                try:
                    if sub is None:
                        name, sub = await self._subscribe()
                    records, expected, complete = await self._fetch(sub)
                except (NatsError, TimeoutError, OSError) as exc:
                    records, expected, complete, failure = [], self.next_seq, False, exc
                    if await self._rest_is_gone():
                        self._skip_to(self.until_seq + 1)
                        break
                advanced = expected > self.next_seq
                if advanced:
                    self.counts.read += len(records)
                    self.counts.deleted += expected - self.next_seq - len(records)
                    self.next_seq = expected
                    progressed = time.monotonic()
                    delay = RETRY_BACKOFF[0]
                if records:
                    yield records
                if complete and advanced:
                    # A short batch: if the rest of the range was deleted, say so now
                    # rather than after a fetch that waits for nothing.
                    short = len(records) < self._batch and self.next_seq <= self.until_seq
                    if short and await self._rest_is_gone():
                        self._skip_to(self.until_seq + 1)
                    continue
                # Nothing came, or a message in the range was not delivered: start again
                # from the first sequence not handed on, with a new consumer.
                waited = time.monotonic() - progressed
                if waited > self._patience:
                    why = f" ({type(failure).__name__}: {failure})" if failure is not None else ""
                    raise IncompleteRead(
                        f"{self.stream}: no progress at stream sequence {self.next_seq} of "
                        f"{self.until_seq} for {waited:.0f}s{why}; "
                        f"{self.counts.read} read, {self.counts.deleted} deleted"
                    ) from failure
                log.warning(
                    "%s: the read stalled at sequence %d (%s); resuming with a new consumer",
                    self.stream,
                    self.next_seq,
                    type(failure).__name__ if failure is not None else "a message was not delivered",
                )
                await self._close(name, sub)
                name = sub = None
                self.counts.resumed += 1
                if failure is not None:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RETRY_BACKOFF[1])
        finally:
            await self._close(name, sub)

    async def read_ahead(self) -> AsyncGenerator[list[Record], None]:
        """As :meth:`batches`, with the next batch fetched while the caller works on this
        one. At most one batch waits, so the read stays bounded."""
        batches = self.batches()
        ahead: asyncio.Future[list[Record]] | None = None
        try:
            ahead = asyncio.ensure_future(anext(batches))
            while True:
                try:
                    records = await ahead
                except StopAsyncIteration:
                    ahead = None
                    return
                ahead = asyncio.ensure_future(anext(batches))
                yield records
        finally:
            if ahead is not None and not ahead.done():
                ahead.cancel()
                await asyncio.wait({ahead})  # its end, without raising its cancellation
            await batches.aclose()

    async def _fetch(self, sub: JetStreamContext.PullSubscription) -> tuple[list[Record], int, bool]:
        """One bounded fetch, checked sequence by sequence: the records in order from
        ``next_seq``; the first sequence after them that is not known absent from the
        stream (the sequences before it that are not records are deleted); and whether
        the delivery was complete, with no gap but deleted messages. Nothing is counted
        here: the caller takes the result as a whole."""
        wanted = min(self._batch, self.until_seq - self.next_seq + 1)
        msgs = await sub.fetch(wanted, timeout=self._fetch_timeout)
        records: list[Record] = []
        expected = self.next_seq
        for msg in msgs:
            seq = int(msg.metadata.sequence.stream)
            if seq < expected:
                continue  # a late delivery of an earlier fetch, already handed on
            if seq > self.until_seq:
                if not await self._nothing_between(expected, self.until_seq + 1):
                    return records, expected, False
                return records, self.until_seq + 1, True
            if seq > expected and not await self._nothing_between(expected, seq):
                return records, expected, False
            records.append((seq, msg.data))
            expected = seq + 1
        return records, expected, True

    def _skip_to(self, seq: int) -> None:
        """Sequences ``next_seq .. seq - 1`` are known not to be in the stream."""
        if seq > self.next_seq:
            self.counts.deleted += seq - self.next_seq
            self.next_seq = seq

    async def _first_at_or_after(self, seq: int) -> int | None:
        """The sequence of the stream's first message at or after ``seq``; None if none."""
        try:
            found = await self._js.get_msg(self.stream, seq=seq, subject=self.subject, next=True)
        except NotFoundError:
            return None
        return int(found.seq or 0)

    async def _nothing_between(self, first: int, stop: int) -> bool:
        """Whether the stream holds nothing from ``first`` up to ``stop - 1``."""
        found = await self._first_at_or_after(first)
        return found is None or found >= stop

    async def _rest_is_gone(self) -> bool:
        """Whether nothing from ``next_seq`` up to ``until_seq`` is in the stream (False
        when the broker cannot say)."""
        try:
            return await self._nothing_between(self.next_seq, self.until_seq + 1)
        except (NatsError, TimeoutError, OSError):
            return False

    async def _subscribe(self) -> tuple[str, JetStreamContext.PullSubscription]:
        """A new ephemeral consumer from ``next_seq``, and a pull subscription to it."""
        name = f"replay-{uuid.uuid4().hex}"
        config = ConsumerConfig(
            name=name,
            description="reitti replay: an ephemeral read of a range of the log",
            filter_subject=self.subject,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=self.next_seq,
            ack_policy=AckPolicy.NONE,
            inactive_threshold=INACTIVE_THRESHOLD,
            mem_storage=True,
            num_replicas=1,
        )
        await self._js.add_consumer(self.stream, config)
        sub = await self._js.pull_subscribe_bind(
            name, stream=self.stream, pending_msgs_limit=self._pending_msgs_limit
        )
        return name, sub

    async def _close(self, name: str | None, sub: JetStreamContext.PullSubscription | None) -> None:
        """Unsubscribe and delete the consumer. The broker may be away: best effort, and
        an abandoned consumer goes by itself after ``INACTIVE_THRESHOLD``."""
        if sub is not None:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        if name is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._js.delete_consumer(self.stream, name), timeout=2)
