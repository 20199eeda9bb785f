"""The outbox relay: moves committed outbox rows to JetStream, never skipping one.

Why it cannot skip an event (architecture decision 3): it keeps no high-water mark.
A tailer that remembers "the last id I published" skips a row whose transaction took a
lower id but committed later. Here a row leaves the outbox only when its own JetStream
publish ack has arrived (``DELETE`` in the same transaction that locked it), so a
late-committing row is simply still there, and visible, on the next pass.

Why it is safe to be killed anywhere: rows are deleted in the transaction that read
them, after the acks. A crash before the commit rolls the delete back and the rows are
published again on restart; every message carries ``Nats-Msg-Id`` = event id, and
JetStream's duplicate window drops the second copy. Consumers de-duplicate by event id
as well, so a duplicate outside the window has no effect either.

Order: one relay per event store publishes at a time: each batch's transaction takes a
transaction-level advisory lock first, so a second relay (a replica, or a standby) waits
its turn and batches never interleave. Appends to one client stream are serialised by
the stream's version primary key, so a stream's events enter the outbox in version
order and leave in it. (A transaction-level lock cannot outlive a dropped connection,
as a session lock held on a long-lived connection could.)

A frozen or cut-off relay cannot keep the turn (docs/adr/0016). Each batch's transaction
sets, for itself only, ``statement_timeout`` to the relay's ack timeout *T* and
``idle_in_transaction_session_timeout`` to 2*T*. A live relay is never idle in its
transaction for longer than *T* (the publishing and its acks are bounded by *T*), so only
a relay that stopped (SIGSTOP, a stalled VM, a partition) trips it: PostgreSQL ends that
session, which releases the lock and the claimed rows. A holder that timeouts cannot reach
(its backend blocked writing to a frozen client) is ended by a waiting relay: one whose
turn has been taken for longer than 4*T* asks PostgreSQL which backend holds the lock and
terminates it if that backend's transaction is older than 4*T*, which no live batch is.
A holder that wakes up afterwards loses nothing and doubles nothing: its session is gone,
so its ``DELETE`` fails and its rows, still in the outbox, are published again by the
new holder; JetStream de-duplicates them by ``Nats-Msg-Id`` and consumers by event id.

Waking: an append in this process signals the relay (:class:`OutboxSignal`); appends by
other processes are found by a short idle poll. No NOTIFY: PostgreSQL serialises
committing transactions that sent one, which halved append throughput here.

A duplicate that is not there: JetStream remembers a message id for its duplicate window
even after the message itself was deleted (``delete_msg``, a purge), and drops a
re-publish of it as a duplicate. When a duplicate ack names a sequence that no longer
holds a message, the relay publishes the row again under an id derived from that
sequence (:func:`restored_msg_id`), so a row that reconciling put back into the outbox
(runtime/reconcile.py, docs/adr/0015) really comes back. The derived id is the same for
every attempt at the same lost copy, so a repeat is again absorbed by the window.

How a batch is published is the relay's :class:`StreamPublisher`. The event stores'
relays use :class:`JetStreamPublisher`, nats-py directly: ``publish_async`` pipelines a
whole batch and then awaits the acks (about 5x the sync publish rate measured here), which
FastStream's publisher does not expose. Reporting's partner feeds, a few copies per
applied event, go through FastStream publishers, one per partner, so that the AsyncAPI
document describes them from the objects that publish (services/reporting/feed_broker.py,
docs/adr/0043). Either way each message carries ``Nats-Msg-Id`` and a row leaves the
outbox only after its own ack, within the batch's bound *T*.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import asyncpg
from nats.js import JetStreamContext
from nats.js.api import PubAck
from nats.js.errors import NotFoundError

from runtime.outages import StoppedWaiting, is_outage, retry_through_outages
from runtime.sealing import reveal_payloads
from runtime.sql import SqlStatements

log = logging.getLogger(__name__)


class RelaySql(SqlStatements):
    """The relay's statements for one outbox schema."""

    # The turn, with this transaction's own timeouts (set_config(..., true) is SET LOCAL).
    leader = """
SELECT set_config('statement_timeout', $2, true),
       set_config('idle_in_transaction_session_timeout', $3, true),
       pg_try_advisory_xact_lock(hashtext('reitti.relay'), hashtext($1)) AS leader
"""
    # A two-key advisory lock shows in pg_locks as classid/objid (the keys as oid), objsubid 2.
    end_stuck_holder = """
SELECT a.pid, extract(epoch FROM clock_timestamp() - a.xact_start)::float8 AS held,
       pg_terminate_backend(a.pid) AS ended
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
  AND l.classid = hashtext('reitti.relay')::oid AND l.objid = hashtext($1)::oid
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND a.pid <> pg_backend_pid() AND clock_timestamp() - a.xact_start > make_interval(secs => $2)
"""
    # An event's envelope is stored once, in ``events`` (docs/adr/0012), and looked up by
    # its unique event id for each claimed row (a join could scan the whole store); a row
    # with a payload of its own (a partner feed's copy) carries it, sealed (docs/adr/0020).
    claim = """
SELECT o.outbox_id, o.event_id::text, o.subject, o.payload IS NOT NULL AS own_payload,
       coalesce(o.payload, (SELECT convert_to(e.envelope::text, 'UTF8') FROM {schema}.events e
                            WHERE e.event_id = o.event_id)) AS payload
FROM {schema}.outbox o
ORDER BY o.outbox_id LIMIT $1 FOR UPDATE SKIP LOCKED
"""
    release = "DELETE FROM {schema}.outbox WHERE outbox_id = ANY($1::bigint[])"
    # The first row by id is the oldest but for a late commit: close enough, one index probe.
    oldest = """
SELECT extract(epoch FROM clock_timestamp() - created_at)::float8
FROM {schema}.outbox ORDER BY outbox_id LIMIT 1
"""


#: lost copies of one message followed before the relay gives up (and retries the batch)
_RESTORE_ATTEMPTS = 8


def restored_msg_id(event_id: str, lost_seq: int) -> str:
    """The ``Nats-Msg-Id`` of an event published again after its copy at ``lost_seq`` was
    lost while JetStream still remembered its id; the event id is what precedes the colon."""
    return f"{event_id}:{lost_seq}"


class OutboxSignal:
    """Appends in this process wake the relay without a round trip to the database."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()

    async def wait(self, within: float) -> bool:
        try:
            await asyncio.wait_for(self._event.wait(), timeout=within)
        except TimeoutError:
            return False
        self._event.clear()
        return True


@dataclass(frozen=True)
class Outgoing:
    """One outbox row as it is published: ``msg_id`` is JetStream's ``Nats-Msg-Id``."""

    subject: str
    payload: bytes
    msg_id: str


class StreamPublisher(Protocol):
    """How a relay publishes to a JetStream stream. Each ack is JetStream's (a
    :class:`PubAck` for a stored or duplicate message); a failed publish raises."""

    async def publish_batch(self, messages: Sequence[Outgoing], *, stream: str) -> list[PubAck]:
        """Publish ``messages`` in their order; one ack each, in that order. The relay
        bounds the whole call by its ack timeout."""
        ...

    async def publish(self, message: Outgoing, *, stream: str, within: float) -> PubAck:
        """Publish one message and wait at most ``within`` seconds for its ack."""
        ...


class JetStreamPublisher:
    """nats-py's JetStream: a batch pipelined with ``publish_async``, then its acks."""

    def __init__(self, js: JetStreamContext) -> None:
        self._js = js

    async def publish_batch(self, messages: Sequence[Outgoing], *, stream: str) -> list[PubAck]:
        futures = [
            await self._js.publish_async(
                m.subject, m.payload, stream=stream, headers={"Nats-Msg-Id": m.msg_id}
            )
            for m in messages
        ]
        return list(await asyncio.gather(*futures))

    async def publish(self, message: Outgoing, *, stream: str, within: float) -> PubAck:
        ack: PubAck = await self._js.publish(
            message.subject,
            message.payload,
            stream=stream,
            timeout=within,
            headers={"Nats-Msg-Id": message.msg_id},
        )
        return ack


@dataclass
class RelayStats:
    published: int = 0
    batches: int = 0
    #: duplicates acked for a message no longer in the stream, published again
    restored: int = 0


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        js: JetStreamContext,
        *,
        schema: str,
        stream: str,
        batch_size: int = 500,
        idle_poll: float = 0.2,
        ack_timeout: float = 5.0,
        signal: OutboxSignal | None = None,
        publisher: StreamPublisher | None = None,
    ) -> None:
        self._pool = pool
        self._js = js
        #: how batches are published (nats-py's pipelined publish unless given)
        self._publisher: StreamPublisher = publisher or JetStreamPublisher(js)
        self._schema = schema
        self._stream = stream
        self._batch_size = batch_size
        self._idle_poll = idle_poll
        self._ack_timeout = ack_timeout
        self.sql = RelaySql(schema)
        self._signal = signal or OutboxSignal()
        self.stats = RelayStats()
        ms = round(ack_timeout * 1000)
        self._statement_timeout, self._idle_timeout = str(ms), str(2 * ms)
        #: a holder's transaction older than this is stuck: no live batch lasts so long
        self.stuck_after = 4 * ack_timeout
        self._waiting_since: float | None = None

    @property
    def schema(self) -> str:
        return self._schema

    async def publish_batch(self) -> int:
        """Publish up to one batch of outbox rows; return how many left the outbox."""
        async with self._pool.acquire() as conn, conn.transaction():
            turn = await conn.fetchrow(
                self.sql.leader, self._schema, self._statement_timeout, self._idle_timeout
            )
            if not turn["leader"]:
                await self._end_stuck_holder(conn)
                return 0  # another relay is publishing this store's outbox right now
            self._waiting_since = None
            rows = await conn.fetch(self.sql.claim, self._batch_size)
            if not rows:
                return 0
            payloads = [row["payload"] for row in rows]
            own = [i for i, row in enumerate(rows) if row["own_payload"]]
            if own:
                # A partner's copy waits sealed; it is revealed only for its publish. (An
                # event store's own envelopes are published as stored: sealed.)
                for i, revealed in zip(
                    own, await reveal_payloads(conn, [payloads[i] for i in own]), strict=True
                ):
                    payloads[i] = revealed
            # Any failed or missing ack raises here: the transaction rolls back and the
            # rows stay in the outbox for the next pass.
            acks = await asyncio.wait_for(self._publish(rows, payloads), timeout=self._ack_timeout)
            for row, payload, ack in zip(rows, payloads, acks, strict=True):
                if ack.duplicate:
                    await self._restore_if_lost(row, payload, ack)
            await conn.execute(self.sql.release, [row["outbox_id"] for row in rows])
        self.stats.published += len(rows)
        self.stats.batches += 1
        return len(rows)

    async def _restore_if_lost(self, row: asyncpg.Record, payload: bytes, ack: PubAck) -> None:
        """A duplicate ack: the message is normally in the stream already (a relay that
        stopped between its publish and its delete). If the sequence it names holds no
        message, the copy was lost: publish it again under a derived id, following each
        lost copy the window still remembers."""
        seq = ack.seq
        for _ in range(_RESTORE_ATTEMPTS):
            try:
                await self._js.get_msg(self._stream, seq=seq)
                return  # there it is
            except NotFoundError:
                pass
            again = await self._publisher.publish(
                Outgoing(row["subject"], payload, restored_msg_id(row["event_id"], seq)),
                stream=self._stream,
                within=self._ack_timeout,
            )
            if not again.duplicate:
                self.stats.restored += 1
                log.warning(
                    "relay %s: event %s was lost from JetStream; published again",
                    self._schema,
                    row["event_id"],
                )
                return
            seq = again.seq
        raise RuntimeError(f"event {row['event_id']}: every copy JetStream remembers is lost")

    async def _publish(self, rows: list[asyncpg.Record], payloads: list[bytes]) -> list[PubAck]:
        messages = [
            Outgoing(row["subject"], payload, row["event_id"])
            for row, payload in zip(rows, payloads, strict=True)
        ]
        return await self._publisher.publish_batch(messages, stream=self._stream)

    async def _end_stuck_holder(self, conn: asyncpg.Connection) -> None:
        """The turn is taken. Once it has been taken for ``stuck_after`` as seen from here,
        end a holder whose transaction is older than that (and look again only after
        another ``stuck_after``): see the module's docstring."""
        now = asyncio.get_running_loop().time()
        if self._waiting_since is None:
            self._waiting_since = now
            return
        if now - self._waiting_since < self.stuck_after:
            return
        self._waiting_since = now
        for row in await conn.fetch(self.sql.end_stuck_holder, self._schema, self.stuck_after):
            log.warning(
                "relay %s: the relay holding the turn (backend %d) has been in one batch for %.0fs; "
                "ended it: %s",
                self._schema,
                row["pid"],
                row["held"],
                row["ended"],
            )

    async def oldest_waiting(self) -> float:
        """Seconds the oldest row has waited in the outbox (0 when it is empty)."""
        age = await self._pool.fetchval(self.sql.oldest)
        return float(age or 0.0)

    async def drain(self) -> int:
        """Publish until the outbox is empty; return how many were published."""
        total = 0
        while n := await self.publish_batch():
            total += n
        return total

    async def _retrying(self, exc: BaseException, delay: float) -> None:
        what = "database or broker unavailable" if is_outage(exc) else "publish failed"
        log.warning("relay %s: %s, will retry: %s", self._schema, what, type(exc).__name__)

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until ``stop`` is set: publish while there is work; when idle, wait for a
        signal from an append in this process or the idle poll, whichever comes first.
        A command's appends (in :meth:`runtime.eventstore.EventStore.transaction`) signal once committed;
        an append inside another transaction (a consumer's) signals before its commit, so
        a wake that finds nothing looks again a few times over the next ~40 ms.

        A batch smaller than the batch size drained the outbox as of its claim: the relay
        waits then, without a pass that would find nothing (four round trips). Rows
        appended meanwhile in this process have signalled, so the wait returns at once;
        rows of other processes are found by the idle poll, as when idle."""
        retries = 0
        while not stop.is_set():
            try:
                # Nothing is lost on a failure: the rows stay in the outbox. Wait, retry.
                published = await retry_through_outages(
                    self.publish_batch,
                    backoff=(1.0, 1.0),
                    on_pause=self._retrying,
                    retry_if=lambda exc: True,
                    stop=stop,
                )
            except StoppedWaiting:
                return
            if published >= self._batch_size:
                retries = 0  # a full batch: more may be waiting
            elif published:
                retries = 0
                if await self._signal.wait(self._idle_poll):
                    retries = 4
            elif retries:
                retries -= 1
                await asyncio.sleep(0.01)
            elif await self._signal.wait(self._idle_poll):
                retries = 4
