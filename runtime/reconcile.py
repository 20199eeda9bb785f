"""Self-healing from the system of record (architecture decision 11, docs/adr/0015).

Over 400 lines because the reconciler, its answer to requests and the consumers' repair
requests are the two sides of one protocol (its subject, the event ids in messages), kept
together so they change together.

JetStream can lose messages it has acknowledged: a single node fsyncs every two minutes
by default, and the Jepsen analysis of NATS 2.12.1 lost acknowledged writes on power
failure. PostgreSQL keeps every event (the event store is the truth), so a reconciler
compares one write service's event store with the events stream and puts whatever the
stream lacks back into that store's outbox. The relay then publishes it exactly as it
published it the first time, with ``Nats-Msg-Id`` = event id: one publishing path, and
JetStream's duplicate window and the consumers' exactly-once path absorb any repeat.

- **Cheap when nothing is missing.** One statement counts the store's published events
  by type (those still in the outbox are not published yet, so not counted), and one
  ``STREAM.INFO`` request counts the stream's messages by subject. Only an event type
  with fewer messages than stored events is scanned, by message id and headers only.
  The counts are read store first, then stream: anything counted as published was
  acknowledged before the stream is asked, so a shortfall is a loss, never a race.
  (A lost message hidden by a duplicate of another of its type, which a relay can leave
  after its window, is found by ``reitti reconcile --full`` or by a consumer's request.)
- **Stream by stream, on request.** A consumer holding a client's event whose
  predecessor never came asks the owning service, on ``<ns>.reconcile.<service>``, to
  check that one client stream after the version it has (:class:`RepairRequests`); the
  service checks just those versions against the stream.
- **One at a time.** Every pass holds a transaction-level advisory lock on the store,
  so two replicas (or a replica and ``reitti reconcile``) never queue the same event
  twice; the periodic check of a replica that cannot take it skips that round.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import asyncpg
from nats.aio.msg import Msg
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from contracts.envelope import CloudEventEnvelope
from contracts.registry import decode_event
from contracts.subjects import SubjectName, event_subject
from runtime import erasure
from runtime.config import Settings
from runtime.sql import SqlStatements

if TYPE_CHECKING:
    from runtime.service import BackgroundTask, ServiceHost

log = logging.getLogger(__name__)

#: JetStream stamps a message when it stores it, after the event was recorded; this
#: margin covers clocks that disagree when a stream is scanned from a recorded time
CLOCK_MARGIN = timedelta(minutes=5)
#: messages fetched per request when scanning the stream's headers
SCAN_BATCH = 1000
#: how long a request for one stream waits for another pass to finish
REQUEST_LOCK_TIMEOUT = 10.0
#: the first periodic check, this long after the service started (its relay first)
FIRST_CHECK_AFTER = 2.0

_NOT_QUEUED = "NOT EXISTS (SELECT 1 FROM {schema}.outbox o WHERE o.event_id = e.event_id)"


class ReconcileSql(SqlStatements):
    """The reconciler's statements for one write service's event store."""

    lock = "SELECT pg_advisory_xact_lock(hashtext('reitti.reconcile'), hashtext($1))"
    try_lock = "SELECT pg_try_advisory_xact_lock(hashtext('reitti.reconcile'), hashtext($1))"
    # This transaction's own lock timeout (set_config(..., true) is SET LOCAL).
    lock_timeout = "SELECT set_config('lock_timeout', $1, true)"
    counts = "SELECT e.event_type, count(*) AS n FROM {schema}.events e WHERE " + _NOT_QUEUED + " GROUP BY 1"
    of_type = (
        "SELECT e.stream_id, e.stream_version, e.event_id::text AS event_id, e.event_type, e.recorded_at "
        "FROM {schema}.events e WHERE e.event_type = $1 AND " + _NOT_QUEUED
    )
    of_stream = (
        "SELECT e.stream_id, e.stream_version, e.event_id::text AS event_id, e.event_type, e.recorded_at "
        "FROM {schema}.events e WHERE e.stream_id = $1 AND e.stream_version > $2 "
        "AND e.stream_version < $3 AND " + _NOT_QUEUED
    )
    envelopes = (
        "SELECT event_id::text AS event_id, envelope::text AS envelope FROM {schema}.events "
        "WHERE event_id = ANY($1::uuid[])"
    )
    # Queued in each stream's version order, which is the order the relay publishes them in;
    # one already queued (the relay has not got to it) stays as it is.
    queue = (
        "INSERT INTO {schema}.outbox (event_id, subject) "
        "SELECT e, s FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS u(e, s, ord) ORDER BY ord "
        "ON CONFLICT (event_id) DO NOTHING"
    )


class RepairSql(SqlStatements):
    """What a consumer's repair request reads of its own tracking tables."""

    position = (
        "SELECT version FROM {schema}.stream_positions WHERE consumer = $1 AND source = $2 AND stream_id = $3"
    )


def request_subject(namespace: str, service: str) -> str:
    """Where a service takes requests to reconcile one client stream (internal account only)."""
    return f"{namespace}.reconcile.{service}"


def event_id_of(msg_id: str) -> str:
    """The event id in a ``Nats-Msg-Id``: the id itself, or a relay's restored id
    ``<event id>:<sequence>`` (runtime/relay.py)."""
    return msg_id.partition(":")[0]


@dataclass(frozen=True)
class Missing:
    """An event in the store that the stream lacks."""

    stream_id: str
    stream_version: int
    event_id: str
    event_type: str


@dataclass
class ReconcileReport:
    """What one pass over a store found."""

    service: str
    #: event types whose stored and streamed counts were compared
    compared: int = 0
    #: event types scanned message by message
    scanned: list[str] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    #: outbox rows added (a missing event already queued again is not counted twice)
    queued: int = 0
    #: another pass held the lock, so this one did nothing
    skipped: bool = False

    def summary(self) -> str:
        if self.skipped:
            return f"{self.service}: skipped, another reconcile of this store is running"
        if not self.missing:
            return f"{self.service}: nothing missing ({self.compared} event types compared)"
        streams = len({m.stream_id for m in self.missing})
        return (
            f"{self.service}: {len(self.missing)} events of {streams} client streams missing from "
            f"JetStream; {self.queued} queued for the relay"
        )


class Reconciler:
    """Compares one write service's event store with the events stream, and queues what
    the stream lacks in the store's outbox (``on_queued``: the relay's wake-up)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        js: JetStreamContext,
        settings: Settings,
        *,
        schema: str,
        service: str,
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        self._pool = pool
        self._js = js
        self._settings = settings
        self.schema = schema
        self.service = service
        self._on_queued = on_queued
        self.sql = ReconcileSql(schema)

    def _subjects(self, event_type: str = "*") -> str:
        return f"{self._settings.namespace}.events.{self.service}.*.*.{event_type}"

    async def check(self, *, full: bool = False, wait: bool = True) -> ReconcileReport:
        """One pass over the store. ``full``: scan every event type, whatever the counts
        say. ``wait``: wait for a pass already running (else skip this one)."""
        report = ReconcileReport(self.service)
        async with self._pool.acquire() as conn, conn.transaction():
            if not await self._lock(conn, wait=wait, within=None):
                report.skipped = True
                return report
            stored = {r["event_type"]: r["n"] for r in await conn.fetch(self.sql.counts)}
            streamed = await self._streamed_counts()
            report.compared = len(stored)
            suspects = sorted(t for t, n in stored.items() if full or streamed.get(t, 0) < n)
            for event_type in suspects:
                report.scanned.append(event_type)
                candidates = await conn.fetch(self.sql.of_type, event_type)
                present = await self._present(self._subjects(event_type), None)
                report.missing.extend(_missing(candidates, present))
            await self._queue(conn, report)
        self._after(report)
        return report

    async def repair_stream(
        self, stream_id: str, *, after_version: int = 0, before_version: int | None = None
    ) -> ReconcileReport:
        """Check one client stream's versions after ``after_version`` (and before
        ``before_version``) against the stream; queue the missing ones."""
        report = ReconcileReport(self.service)
        upper = before_version if before_version is not None else 2**31 - 1
        async with self._pool.acquire() as conn, conn.transaction():
            if not await self._lock(conn, wait=True, within=REQUEST_LOCK_TIMEOUT):
                report.skipped = True
                return report
            candidates = await conn.fetch(self.sql.of_stream, stream_id, after_version, upper)
            by_type: dict[str, list[asyncpg.Record]] = {}
            for row in candidates:
                by_type.setdefault(row["event_type"], []).append(row)
            report.compared = len(by_type)
            for event_type, rows in sorted(by_type.items()):
                report.scanned.append(event_type)
                since = min(r["recorded_at"] for r in rows) - CLOCK_MARGIN
                present = await self._present(self._subjects(event_type), since)
                report.missing.extend(_missing(rows, present))
            await self._queue(conn, report)
        self._after(report)
        return report

    async def _lock(self, conn: asyncpg.Connection, *, wait: bool, within: float | None) -> bool:
        if not wait:
            return bool(await conn.fetchval(self.sql.try_lock, self.schema))
        if within is None:
            await conn.execute(self.sql.lock, self.schema)
            return True
        await conn.execute(self.sql.lock_timeout, f"{int(within * 1000)}ms")
        try:
            async with conn.transaction():  # a savepoint: a timeout leaves the outer one usable
                await conn.execute(self.sql.lock, self.schema)
        except asyncpg.LockNotAvailableError:
            return False
        return True

    async def _streamed_counts(self) -> Counter[str]:
        """The stream's messages of this service, by event type (the subject's last token)."""
        prefix = f"{self._settings.namespace}.events.{self.service}.>"
        info = await self._js.stream_info(self._settings.events_stream, subjects_filter=prefix)
        counts: Counter[str] = Counter()
        for subject, n in (info.state.subjects or {}).items():
            counts[subject.rsplit(".", 1)[-1]] += n
        return counts

    async def _present(self, subjects: str, since: datetime | None) -> set[str]:
        """The event ids of the stream's messages on ``subjects`` (stored at or after
        ``since``), read from their headers only."""
        return await message_event_ids(self._js, self._settings.events_stream, subjects, since=since)

    async def _queue(self, conn: asyncpg.Connection, report: ReconcileReport) -> None:
        if not report.missing:
            return
        report.missing.sort(key=lambda m: (m.stream_id, m.stream_version))
        ids = [m.event_id for m in report.missing]
        envelopes = {r["event_id"]: r["envelope"] for r in await conn.fetch(self.sql.envelopes, ids)}
        subjects = [self._subject_of(envelopes[i]) for i in ids]
        status = await conn.execute(self.sql.queue, ids, subjects)
        report.queued = int(status.rsplit(" ", 1)[-1])

    def _subject_of(self, envelope_text: str) -> str:
        """The subject the event travels on, as the event store named it when appending.
        Personal fields are not needed for it and stay sealed."""
        envelope = CloudEventEnvelope.model_validate_json(envelope_text)
        event = decode_event(erasure.reveal(envelope, {}))
        return event_subject(
            self._settings.namespace,
            self.service,
            event.subject_side(),
            event.subject_organisation(),
            event.event_type,
        )

    def _after(self, report: ReconcileReport) -> None:
        if report.missing:
            log.warning("reconcile %s", report.summary())
            for m in report.missing:
                log.warning(
                    "reconcile %s: version %d of %s (%s %s) was missing from JetStream",
                    self.service,
                    m.stream_version,
                    m.stream_id,
                    m.event_type,
                    m.event_id,
                )
        if report.queued and self._on_queued is not None:
            self._on_queued()


def _missing(candidates: Iterable[asyncpg.Record], present: set[str]) -> list[Missing]:
    return [
        Missing(r["stream_id"], r["stream_version"], r["event_id"], r["event_type"])
        for r in candidates
        if r["event_id"] not in present
    ]


async def message_event_ids(
    js: JetStreamContext, stream: str, subjects: str, *, since: datetime | None = None
) -> set[str]:
    """The event ids (from ``Nats-Msg-Id``) of ``stream``'s messages on ``subjects``, read
    through an ephemeral consumer that delivers headers only."""
    config = ConsumerConfig(
        deliver_policy=DeliverPolicy.BY_START_TIME if since is not None else DeliverPolicy.ALL,
        opt_start_time=since,
        ack_policy=AckPolicy.NONE,
        headers_only=True,
        mem_storage=True,
        inactive_threshold=60.0,
    )
    sub = await js.pull_subscribe(subjects, stream=stream, config=config)
    ids: set[str] = set()
    name: str | None = None
    try:
        info = await sub.consumer_info()
        name = info.name
        pending = info.num_pending or 0
        while pending > 0:
            for msg in await sub.fetch(min(pending, SCAN_BATCH), timeout=10):
                msg_id = (msg.headers or {}).get("Nats-Msg-Id")
                if msg_id:
                    ids.add(event_id_of(msg_id))
                pending = msg.metadata.num_pending or 0
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
        if name is not None:
            with contextlib.suppress(Exception):
                await js.delete_consumer(stream, name)
    return ids


# --- the write service's side: the periodic check and the requests ---------------------


def reconcile_task(
    schema: str, service: str, *, on_queued: Callable[[], None] | None = None, every: float | None = None
) -> BackgroundTask:
    """The background task of a write service: it answers requests to reconcile one client
    stream, and checks the whole store shortly after start and then every ``every``
    seconds (default ``REITTI_RECONCILE_SECONDS``; 0: requests only)."""

    async def run(host: ServiceHost, stop: asyncio.Event) -> None:
        settings = host.settings
        interval = settings.reconcile_seconds if every is None else every
        reconciler = Reconciler(
            host.pool, host.js, settings, schema=schema, service=service, on_queued=on_queued
        )

        async def on_request(msg: Msg) -> None:
            await answer(reconciler, msg)

        sub = await host.nats.subscribe(
            request_subject(settings.namespace, service), queue=f"reconcile-{service}", cb=on_request
        )
        try:
            if interval <= 0:
                await stop.wait()
                return
            wait = min(FIRST_CHECK_AFTER, interval)
            while not await _stopped_within(stop, wait):
                wait = interval
                try:
                    await reconciler.check(wait=False)
                except Exception as exc:
                    log.warning("reconcile %s: check failed, the next one tries again: %s", service, exc)
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    return run


async def answer(reconciler: Reconciler, msg: Msg) -> None:
    """Reconcile the client stream a consumer asks about, and tell it what was found."""
    try:
        request = json.loads(msg.data)
        if not isinstance(request, dict):
            raise ValueError("the request must be a JSON object")
        stream_id = request["stream_id"]
        after = int(request.get("after_version", 0))
        before = request.get("before_version")
        if not isinstance(stream_id, str) or not stream_id or after < 0:
            raise ValueError("stream_id must be a non-empty string and after_version at least 0")
        report = await reconciler.repair_stream(
            stream_id, after_version=after, before_version=int(before) if before is not None else None
        )
        reply: dict[str, Any] = {
            "stream_id": stream_id,
            "missing": [m.stream_version for m in report.missing],
            "queued": report.queued,
            "busy": report.skipped,
        }
    except (ValueError, KeyError, TypeError) as exc:
        reply = {"error": f"bad request: {type(exc).__name__}: {exc}"}
    except Exception as exc:
        log.warning("reconcile %s: a request failed: %s", reconciler.service, type(exc).__name__)
        reply = {"error": f"failed: {type(exc).__name__}"}
    if msg.reply:
        with contextlib.suppress(Exception):
            await msg.respond(json.dumps(reply).encode())


async def _stopped_within(stop: asyncio.Event, seconds: float) -> bool:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    return stop.is_set()


# --- the consumer's side: asking the owner to repair a stream --------------------------


#: deliveries of an early event before its consumer asks for a repair (a predecessor
#: overtaken by a redelivery usually arrives within a few)
ASK_AFTER_DELIVERIES = 5
#: at most one request per client stream this often
ASK_EVERY = 10.0
#: how long a request waits for the owning service's answer
ASK_TIMEOUT = 30.0


@dataclass
class RepairStats:
    requested: int = 0
    answered: int = 0
    #: versions the owners found missing and queued again
    repaired: int = 0
    unanswered: int = 0


class Requester(Protocol):
    """What repair requests need of NATS: a request and its reply (nats-py's ``Client`` fits)."""

    async def request(self, subject: str, payload: bytes, /, *, timeout: float) -> Msg: ...  # noqa: ASYNC109  # nats-py's signature


class RepairRequests:
    """A consumer's requests to a stream's owner (the service in the subject) to reconcile
    a client stream whose event came before its predecessor. It only asks; the consumer
    keeps waiting for the predecessor, which the owner's relay publishes again."""

    def __init__(
        self, nc: Requester, pool: asyncpg.Pool, settings: Settings, *, consumer: str, schema: str
    ) -> None:
        self._nc = nc
        self._pool = pool
        self._settings = settings
        self._consumer = consumer
        self.sql = RepairSql(schema)
        self._asked: dict[tuple[str, str], float] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.stats = RepairStats()

    def __call__(self, subject: str, envelope: CloudEventEnvelope, deliveries: int) -> bool:
        """An early delivery of ``envelope`` on ``subject``: ask its owner to reconcile the
        stream (in the background) unless asked recently; True if asked now."""
        if deliveries < ASK_AFTER_DELIVERIES:
            return False
        try:
            owner = SubjectName.parse(subject).service
        except ValueError:
            return False
        key = (owner, envelope.subject)
        now = time.monotonic()
        if now - self._asked.get(key, -ASK_EVERY) < ASK_EVERY:
            return False
        self._asked[key] = now
        if len(self._asked) > 10_000:  # forget the oldest
            for old in sorted(self._asked, key=self._asked.__getitem__)[:5_000]:
                del self._asked[old]
        self.stats.requested += 1
        task = asyncio.create_task(self._ask(owner, envelope))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _ask(self, owner: str, envelope: CloudEventEnvelope) -> None:
        try:
            have = await self._pool.fetchval(
                self.sql.position, self._consumer, envelope.source, envelope.subject
            )
            request = {
                "stream_id": envelope.subject,
                "after_version": int(have or 0),
                "before_version": envelope.streamversion,
            }
            log.warning(
                "%s: version %d of %s came before version %d; asking %s to re-publish what JetStream lacks",
                self._consumer,
                envelope.streamversion,
                envelope.subject,
                int(have or 0) + 1,
                owner,
            )
            msg = await self._nc.request(
                request_subject(self._settings.namespace, owner),
                json.dumps(request).encode(),
                timeout=ASK_TIMEOUT,
            )
            reply = json.loads(msg.data)
        except (NoRespondersError, NatsTimeout, TimeoutError) as exc:
            self.stats.unanswered += 1
            log.warning(
                "%s: %s did not answer the repair request for %s (%s); still waiting, and its periodic "
                "check re-publishes what is missing",
                self._consumer,
                owner,
                envelope.subject,
                type(exc).__name__,
            )
            return
        except Exception as exc:
            self.stats.unanswered += 1
            log.warning("%s: repair request for %s failed: %s", self._consumer, envelope.subject, exc)
            return
        self.stats.answered += 1
        self.stats.repaired += len(reply.get("missing", []))
        log.warning(
            "%s: %s answered the repair request for %s: %s", self._consumer, owner, envelope.subject, reply
        )

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
