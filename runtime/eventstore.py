"""The event store of a write service: PostgreSQL, one schema per service.

Over 400 lines because :class:`EventStore` is one write path: grouped appends, sealing
with the client keys and the retries around a key rotation share its statements and its
writer task.

Postgres is the system of record (architecture decision 1). An append writes the events
and their outbox rows in one statement, so either both are committed or neither is; the
relay (:mod:`runtime.relay`) later moves outbox rows to JetStream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from contracts.base import EventBase
from contracts.envelope import CloudEventEnvelope
from contracts.subjects import event_subject
from runtime import erasure, keyvault
from runtime.sql import SqlStatements


class ConcurrencyConflict(Exception):
    """Another writer appended to the stream first. Re-read the stream and retry."""

    def __init__(self, stream_id: str, expected_version: int, actual_version: int | None) -> None:
        self.stream_id = stream_id
        self.expected_version = expected_version
        self.actual_version = actual_version
        super().__init__(
            f"stream {stream_id!r} changed concurrently: expected version {expected_version}, "
            f"found {actual_version if actual_version is not None else 'a newer one'}; retry"
        )


@dataclass(frozen=True)
class _Sealed:
    """An append ready for the statement: its events' rows, their envelopes sealed under
    ``key`` (made by the statement when ``new``)."""

    request: _Append
    rows: list[tuple[Any, ...]]
    #: the client key as stored: wrapped under a KEK (docs/adr/0021), never raw
    key: bytes | None
    new: bool

    @property
    def parameters(self) -> tuple[Any, ...]:
        return (self.request.stream_id, self.request.expected_version, self.key, self.new)


@dataclass(frozen=True)
class StoredEvent:
    global_position: int
    stream_id: str
    stream_version: int
    event_id: str
    event_type: str
    envelope: CloudEventEnvelope


class EventStoreSql(SqlStatements):
    """The event store's statements for one service's schema; the client keys are in
    ``keys`` (runtime/erasure.py)."""

    # One statement, so one round trip and one commit, appends to one or more streams: it
    # checks each stream's expected version, makes or checks each client's key (below),
    # inserts the events of the streams that passed, and their outbox rows. An outbox row
    # names its event; the relay reads the envelope from ``events``, so it is written once.
    #
    # The expected-version check stops gaps; the (stream_id, stream_version) primary key
    # stops two concurrent writers that both passed the check: the later insert fails and
    # nothing is overwritten.
    #
    # Keys (runtime/erasure.py, docs/adr/0011): a stream whose events were sealed with a key
    # proposed for a new client (``new``) makes that key here; one sealed with the client's
    # existing key checks that it is still the key, holding the key's row until commit so an
    # erasure cannot slip in between. Either way, if the key is not the one the events were
    # sealed with (another writer made the client's key first, or the client was just
    # erased), the stream's events are not inserted and ``key_current`` is false: the writer
    # seals them again with the current key and retries.
    #
    # A key reaches the database only wrapped (runtime/keyvault.py, docs/adr/0021): a new one
    # under the KEK ``$14``, and only while that KEK is current, held shared until commit so
    # that a rotation switching KEKs waits for this insert (and then re-wraps it). If a
    # rotation switched first, nothing is made and the writer wraps again under the new KEK.
    # ``kept`` only checks that the key is still there: a client's key is made once and never
    # replaced, only erased (NULL) or re-wrapped (other bytes, the same key), so an append
    # sealed with the key it read is not retried because a rotation re-wrapped it meanwhile.
    append = """
WITH req AS (
    SELECT * FROM unnest($1::text[], $2::int[], $3::bytea[], $4::bool[])
        AS r(stream_id, expected, key, new)
), kek AS (
    SELECT kek_id FROM keys.kek_current WHERE $14::uuid IS NOT NULL AND kek_id = $14 FOR SHARE
), made AS (
    INSERT INTO keys.client_keys (client_id, key, kek_id)
    SELECT r.stream_id, r.key, kek.kek_id FROM req r, kek WHERE r.new
    ON CONFLICT (client_id) DO NOTHING RETURNING client_id
), kept AS (
    SELECT k.client_id FROM keys.client_keys k JOIN req r ON k.client_id = r.stream_id
    WHERE NOT r.new AND r.key IS NOT NULL AND k.key IS NOT NULL FOR SHARE OF k
), checked AS (
    SELECT r.stream_id, r.expected,
           coalesce((SELECT max(e.stream_version) FROM {schema}.events e WHERE e.stream_id = r.stream_id), 0)
               AS current_version,
           (r.key IS NULL OR r.stream_id IN (SELECT client_id FROM made)
                          OR r.stream_id IN (SELECT client_id FROM kept)) AS key_current
    FROM req r
), new AS (
    SELECT * FROM unnest($5::text[], $6::int[], $7::uuid[], $8::text[], $9::int[],
                         $10::timestamptz[], $11::timestamptz[], $12::text[], $13::text[])
        WITH ORDINALITY AS u(stream_id, stream_version, event_id, event_type, schema_version,
                             occurred_at, recorded_at, envelope, subject, ord)
), inserted AS (
    INSERT INTO {schema}.events (stream_id, stream_version, event_id, event_type, schema_version,
                                 occurred_at, recorded_at, envelope)
    SELECT n.stream_id, n.stream_version, n.event_id, n.event_type, n.schema_version,
           n.occurred_at, n.recorded_at, n.envelope::json
    FROM new n JOIN checked c USING (stream_id)
    WHERE c.current_version = c.expected AND c.key_current
    ORDER BY n.ord
    RETURNING stream_id, event_id
), queued AS (
    INSERT INTO {schema}.outbox (event_id, subject)
    SELECT n.event_id, n.subject FROM new n JOIN inserted i USING (event_id) ORDER BY n.ord
)
SELECT c.stream_id, c.current_version, c.key_current,
       (SELECT count(*) FROM inserted i WHERE i.stream_id = c.stream_id) AS inserted
FROM checked c
"""
    keys = "SELECT client_id, key, kek_id FROM keys.client_keys WHERE client_id = ANY($1::text[])"
    #: the current KEK, held until commit (a retry's, docs/adr/0021)
    hold_kek = "SELECT kek_id FROM keys.kek_current FOR SHARE"
    read_stream = """
SELECT global_position, stream_id, stream_version, event_id::text, event_type, envelope::text
FROM {schema}.events WHERE stream_id = $1 AND stream_version > $2 ORDER BY stream_version
"""
    read_all = """
SELECT global_position, stream_id, stream_version, event_id::text, event_type, envelope::text
FROM {schema}.events WHERE global_position > $1 ORDER BY global_position LIMIT $2
"""


#: attempts at sealing with the client's current key before giving up
_SEAL_ATTEMPTS = 3
#: appends to different streams that one statement may carry
MAX_GROUP = 64


#: a statement of several appends that two transactions can stop: each append again alone
_GROUP_STOPPERS: tuple[type[Exception], ...] = (
    asyncpg.UniqueViolationError,
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
)


@dataclass
class _Append:
    """One caller's append, waiting for a statement."""

    stream_id: str
    expected_version: int
    events: Sequence[EventBase]
    done: asyncio.Future[int] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    #: its outcome is decided (committed, or refused): a retry of the group skips it
    finished: bool = False

    def succeed(self) -> None:
        self.finished = True
        if not self.done.done():  # (done: its caller was cancelled meanwhile)
            self.done.set_result(self.expected_version + len(self.events))

    def fail(self, exc: BaseException) -> None:
        self.finished = True
        if not self.done.done():
            self.done.set_exception(exc)


class EventStore:
    """Append and read the client streams of one service."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        schema: str,
        namespace: str,
        source: str,
        service: str | None = None,
        on_append: Callable[[], None] | None = None,
        max_writers: int = 4,
    ) -> None:
        self._pool = pool
        self.schema = schema
        #: the producing service, named in every subject (the schema's name by default)
        self.service = service or schema
        self._namespace = namespace
        self._source = source
        self.sql = EventStoreSql(schema)
        #: called after each append (the relay's wake-up in this process)
        self._on_append = on_append
        #: appends without a caller's transaction, waiting for a statement
        self._waiting: list[_Append] = []
        #: writer tasks, and so statements of waiting appends, in flight at once
        self._max_writers = max_writers
        self._active_writers = 0
        self._writer_tasks: set[asyncio.Task[None]] = set()
        #: streams with an append in a statement right now
        self._in_flight: set[str] = set()
        #: the KEK new keys are wrapped under (read again when a statement finds it retired)
        self._kek: uuid.UUID | None = None
        #: connections inside :meth:`transaction`, by id: whether an append was made in it
        self._deferred_wakes: dict[int, bool] = {}

    def subject_for(self, event: EventBase) -> str:
        return event_subject(
            self._namespace,
            self.service,
            event.subject_side(),
            event.subject_organisation(),
            event.event_type,
        )

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """A transaction of the caller's on a pooled connection, for appends with
        ``conn=``. Their wake-up of the relay waits until the transaction has committed:
        a relay woken before the commit finds nothing and has to look again. Rolled back,
        it wakes nothing."""
        async with self._pool.acquire() as conn:
            key = id(conn)
            self._deferred_wakes[key] = False
            try:
                async with conn.transaction():
                    yield conn
            finally:
                appended = self._deferred_wakes.pop(key, False)
        if appended and self._on_append is not None:
            self._on_append()

    def _appended(self, conn: asyncpg.Connection) -> None:
        """An append has been made on ``conn``: wake the relay now, or, inside
        :meth:`transaction`, once it commits."""
        key = id(conn)
        if key in self._deferred_wakes:
            self._deferred_wakes[key] = True
        elif self._on_append is not None:
            self._on_append()

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[EventBase],
        *,
        conn: asyncpg.Connection | None = None,
    ) -> int:
        """Append ``events`` after ``expected_version``; return the new stream version.

        Raises :class:`ConcurrencyConflict` if the stream is not at ``expected_version``.
        Pass ``conn`` to append inside a transaction of your own. Without one, the append
        is committed on its own, and may share its statement and commit with appends to
        other streams made at the same moment (group commit, docs/adr/0012).
        """
        if not events:
            return expected_version
        request = _request(stream_id, expected_version, events)
        if conn is not None:
            await self._write_alone(conn, request)
        else:
            self._enqueue(request)
        return await request.done

    async def append_all(
        self, appends: Sequence[tuple[str, int, Sequence[EventBase]]], *, conn: asyncpg.Connection
    ) -> list[int]:
        """Several appends (stream, expected version, events) inside the caller's
        transaction, in one statement: one round trip for a command's events and its
        access-log entry. Each stream's new version, in the order given; the first
        conflict is raised as :meth:`append` raises it (the transaction is then the
        caller's to roll back)."""
        requests = [_request(stream, version, events) for stream, version, events in appends if events]
        if requests:
            try:
                await self._write(conn, sorted(requests, key=lambda r: r.stream_id))
            except asyncpg.UniqueViolationError as exc:
                raise _typed(exc, requests[0]) from exc
        versions = {r.stream_id: await r.done for r in requests}
        return [versions.get(stream, version) for stream, version, _ in appends]

    def _enqueue(self, request: _Append) -> None:
        """Group commit: the append waits in a queue that at most ``max_writers`` writer
        tasks empty, each writing every waiting append (one per stream, up to
        :data:`MAX_GROUP`) in one statement. Alone, an append goes straight through;
        under load, appends share a commit instead of queueing for one each. The writers
        are tasks of their own, so a caller cancelled meanwhile cannot cut short a
        statement that carries other callers' appends."""
        self._waiting.append(request)
        if self._active_writers < self._max_writers:
            self._active_writers += 1
            writer = asyncio.create_task(self._writer())
            self._writer_tasks.add(writer)
            writer.add_done_callback(self._writer_tasks.discard)

    async def _writer(self) -> None:
        """Write groups while any append can go. One whose stream is in another writer's
        statement is left to that writer, which takes it next."""
        try:
            while group := self._take_group():
                try:
                    await self._write_group(group)
                except BaseException as exc:  # stopped (the loop is closing): tell the callers
                    for request in group:
                        request.fail(RuntimeError(f"the append was stopped: {type(exc).__name__}"))
                    raise
                finally:
                    self._in_flight.difference_update(r.stream_id for r in group)
        finally:
            self._active_writers -= 1

    def _take_group(self) -> list[_Append]:
        """The waiting appends that can go now: one per stream, none of a stream already
        in a statement (so a stream's appends go in the order made), in stream order (so
        two statements lock shared streams in one order)."""
        group: list[_Append] = []
        rest: list[_Append] = []
        for r in self._waiting:
            if r.stream_id in self._in_flight or len(group) >= MAX_GROUP:
                rest.append(r)
            else:
                self._in_flight.add(r.stream_id)
                group.append(r)
        self._waiting = rest
        return sorted(group, key=lambda r: r.stream_id)

    async def _write_group(self, group: list[_Append]) -> None:
        """One statement for the group. If two transactions stop it (a concurrent writer
        of one of its streams), each append again on its own, to find whose it was. Every
        append is settled, with its own error if it failed."""
        try:
            async with self._pool.acquire() as conn:
                try:
                    await self._write(conn, group)
                except _GROUP_STOPPERS:
                    if len(group) == 1:
                        raise
                    for request in group:
                        if not request.finished:
                            try:
                                await self._write_alone(conn, request)
                            except Exception as exc:
                                request.fail(exc)
        except Exception as exc:
            for request in group:
                if not request.finished:
                    request.fail(_typed(exc, request))

    async def _write_alone(self, conn: asyncpg.Connection, request: _Append) -> None:
        try:
            await self._write(conn, [request])
        except asyncpg.UniqueViolationError as exc:
            raise _typed(exc, request) from exc

    async def _write(self, conn: asyncpg.Connection, group: list[_Append]) -> None:
        """Seal, run the append statement, and settle each append; appends whose key was
        not current are sealed again with the current key and retried. An append that
        cannot even be prepared fails alone."""
        todo = group
        for attempt in range(_SEAL_ATTEMPTS):
            if attempt == 0:
                todo, settle = await self._attempt(conn, todo, again=False)
            else:
                # Again, holding the current KEK so that no rotation retires it before
                # this commits: back-to-back rotations cannot keep an append retrying.
                async with conn.transaction():
                    self._kek = await conn.fetchval(self.sql.hold_kek)
                    todo, settle = await self._attempt(conn, todo, again=True)
            settle()  # only once committed: a caller must never see an append not yet there
            if not todo:
                return
        for request in todo:
            request.fail(
                RuntimeError(f"the key of {request.stream_id!r} kept changing while appending; retry")
            )

    async def _attempt(
        self, conn: asyncpg.Connection, todo: list[_Append], *, again: bool
    ) -> tuple[list[_Append], Callable[[], None]]:
        """One statement for ``todo``: the appends to try again (their key was not
        current), and what settles the others, to call once the statement is committed."""
        sealed = await self._seal(conn, todo, read_every_key=again)
        if not sealed:
            return [], lambda: None
        kek = self._kek if any(item.new for item in sealed) else None
        rows = await conn.fetch(self.sql.append, *_columns(sealed), kek)
        by_stream = {row["stream_id"]: row for row in rows}
        retry: list[_Append] = []
        conflicts: list[tuple[_Append, ConcurrencyConflict]] = []
        done: list[_Append] = []
        for item in sealed:
            request = item.request
            row = by_stream[request.stream_id]
            expected, current = request.expected_version, row["current_version"]
            if current != expected or (row["key_current"] and row["inserted"] != len(request.events)):
                conflicts.append((request, ConcurrencyConflict(request.stream_id, expected, current)))
            elif not row["key_current"]:
                retry.append(request)
                if item.new:
                    self._kek = None  # maybe retired by a rotation: read it again
            else:
                done.append(request)

        def settle() -> None:
            for request, conflict in conflicts:
                request.fail(conflict)
            for request in done:
                request.succeed()
            if done:
                self._appended(conn)

        return retry, settle

    async def _seal(
        self, conn: asyncpg.Connection, group: list[_Append], *, read_every_key: bool = False
    ) -> list[_Sealed]:
        """Each append ready for the statement: its envelopes as text, with personal fields
        sealed under the client's key. That is a new key for a new stream (made by the
        append statement), else the current one (read here; a client without one gets a
        new one). ``read_every_key``: read new streams' keys too (a retry, after another
        writer made one first). An append with nothing personal in it involves no key;
        one that cannot be prepared fails alone and is left out."""
        personal = {r.stream_id for r in group if any(erasure.may_hold_personal_data(e) for e in r.events)}
        existing = [
            r.stream_id
            for r in group
            if r.stream_id in personal and (r.expected_version > 0 or read_every_key)
        ]
        stored: dict[str, tuple[bytes | None, bytes | None]] = {}
        ring = keyvault.default_ring()
        if existing:
            for attempt in (1, 2):
                rows = await conn.fetch(self.sql.keys, existing)
                try:
                    raw = ring.unwrap_rows((r["client_id"], r["key"], r["kek_id"]) for r in rows)
                    stored = {r["client_id"]: (raw[r["client_id"]], r["key"]) for r in rows}
                    break
                except keyvault.KekError:
                    if attempt == 2:
                        raise
                    # read just before a rotation re-wrapped it and destroyed the old KEK
        if any(r.stream_id in personal and r.stream_id not in stored for r in group) and (
            self._kek is None or not ring.has(self._kek)  # destroyed by a rotation elsewhere
        ):
            self._kek = await self._current_kek(ring)
        out: list[_Sealed] = []
        for request in group:
            try:
                try:
                    out.append(self._prepare(request, request.stream_id in personal, stored, ring))
                except keyvault.KekError:  # destroyed just now: wrap under the current one
                    self._kek = await self._current_kek(ring)
                    out.append(self._prepare(request, request.stream_id in personal, stored, ring))
            except Exception as exc:
                request.fail(exc)
        return out

    async def _current_kek(self, ring: keyvault.KekRing) -> uuid.UUID:
        """The current KEK, read (or, in a new database, made and committed) on a
        connection of its own: never inside the caller's transaction, whose advisory
        lock would make every other first writer wait for it to end."""
        async with self._pool.acquire() as own:
            return await keyvault.current_kek(own, ring)

    def _prepare(
        self,
        request: _Append,
        may_be_personal: bool,
        stored: Mapping[str, tuple[bytes | None, bytes | None]],
        ring: keyvault.KekRing,
    ) -> _Sealed:
        data = [event.data() for event in request.events]
        key: bytes | None = None
        as_stored: bytes | None = None
        new = False
        if may_be_personal:
            if request.stream_id in stored:
                key, as_stored = stored[request.stream_id]  # None: erased, and sealed as ERASED
            else:
                key, new = erasure.new_key(), True
            pairs = zip(request.events, data, strict=True)
            if not sum(erasure.seal_in_place(event, d, key) for event, d in pairs):
                key, new = None, False  # every personal field empty: no key needed
            elif new:
                assert self._kek is not None
                as_stored = ring.wrap(self._kek, request.stream_id, key)  # type: ignore[arg-type]
        rows = [
            (
                request.stream_id,
                event.stream_version,
                event.event_id,
                event.event_type,
                event.schema_version,
                event.occurred_at,
                event.recorded_at,
                CloudEventEnvelope.wrap(event, source=self._source, data=d).to_text(),
                self.subject_for(event),
            )
            for event, d in zip(request.events, data, strict=True)
        ]
        return _Sealed(request, rows, as_stored if key is not None else None, new)

    async def read_stream(
        self, stream_id: str, *, after_version: int = 0, conn: asyncpg.Connection | None = None
    ) -> list[StoredEvent]:
        if conn is not None:
            rows = await conn.fetch(self.sql.read_stream, stream_id, after_version)
        else:
            async with self._pool.acquire() as own:
                rows = await own.fetch(self.sql.read_stream, stream_id, after_version)
        return [_stored(r) for r in rows]

    async def load_events(self, stream_id: str, *, conn: asyncpg.Connection | None = None) -> list[EventBase]:
        """The stream's events as current-version contracts (old versions upcast)."""
        from contracts.registry import decode_event

        stored = await self.read_stream(stream_id, conn=conn)
        keys: erasure.Keys = {}
        if any(erasure.envelope_sealed(e.envelope) for e in stored):
            # Read now, for this call only: an erased key stops working at once.
            keys = await erasure.fetch_keys(conn if conn is not None else self._pool, [stream_id])
        return [decode_event(erasure.reveal(e.envelope, keys)) for e in stored]

    async def read_all(self, *, after_position: int = 0, limit: int = 1000) -> list[StoredEvent]:
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(self.sql.read_all, after_position, limit)
        return [_stored(r) for r in rows]


def _request(stream_id: str, expected_version: int, events: Sequence[EventBase]) -> _Append:
    """An append, once its events are checked to be the stream's next ones, in order."""
    for offset, event in enumerate(events, start=1):
        if event.stream_id != stream_id:
            raise ValueError(f"event {event.event_id} belongs to {event.stream_id!r}")
        if event.stream_version != expected_version + offset:
            raise ValueError(
                f"event {event.event_id} has version {event.stream_version}, "
                f"expected {expected_version + offset}"
            )
    return _Append(stream_id, expected_version, events)


def _columns(sealed: list[_Sealed]) -> list[list[Any]]:
    """The append statement's parameters: four per append, nine per event."""
    columns: list[list[Any]] = [[] for _ in range(13)]
    for item in sealed:
        for column, value in zip(columns[:4], item.parameters, strict=True):
            column.append(value)
        for row in item.rows:
            for column, value in zip(columns[4:], row, strict=True):
                column.append(value)
    return columns


def _typed(exc: Exception, request: _Append) -> Exception:
    """A unique key's error as the caller's: a duplicate event id, or a stream that
    another writer appended to first."""
    if not isinstance(exc, asyncpg.UniqueViolationError):
        return exc
    if exc.constraint_name and exc.constraint_name.endswith("event_id_key"):
        return ValueError("an event with this event_id is already stored")
    return ConcurrencyConflict(request.stream_id, request.expected_version, None)


def _stored(row: asyncpg.Record) -> StoredEvent:
    return StoredEvent(
        global_position=row["global_position"],
        stream_id=row["stream_id"],
        stream_version=row["stream_version"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        envelope=CloudEventEnvelope.model_validate(json.loads(row["envelope"])),
    )
