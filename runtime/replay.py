"""Replay: rebuild a projection from the start of the log into a fresh schema, then
switch over to it only when it has caught up, and only when it is complete (architecture
decision 12, ADR 0014).

The read is :class:`runtime.log_reader.LogReader`: a pull consumer of its own, fetched in
bounded batches, so a slow apply slows the read and nothing is dropped; every stream
sequence of the range is either handed on or proven absent from the stream, and a broker
that stalls is resumed from the first sequence not yet applied. Events are applied a
batch per transaction through the same exactly-once path as the live consumer; a
FastStream subscriber would cost an ack and a transaction per message.

A replay proves, before it switches, that ``read + deleted`` covers every sequence of the
range and that every event read was applied, counted invalid, or was a duplicate of one
applied (the same event in the log twice). Anything else raises
:class:`ReplayIncomplete`; the live projections are then left as they were and the
partial rebuild is dropped (it holds personal data that erasure does not reach).

A rebuild goes into a schema nobody reads yet, so it takes the fast path of
:mod:`runtime.replay_bulk` (ADR 0046): the next batch decoded while the previous one
commits, a projection that is a :class:`runtime.replay_bulk.BulkLoad` holding state in
memory until the load ends and its unused indexes built after it, and fewer garbage
collections.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import asyncpg
from nats.js import JetStreamContext

from contracts.base import EventBase
from contracts.envelope import CloudEventEnvelope
from contracts.subjects import events_wildcard
from runtime.config import Settings
from runtime.consumer import (
    ExactlyOnceConsumer,
    InvalidEvent,
    Projection,
    decode_delivery,
    keys_for,
    read_envelope,
)
from runtime.db import Migration, apply_migrations
from runtime.log_reader import PATIENCE, IncompleteRead, LogReader
from runtime.replay_bulk import BulkLoad, drop_deferred, fewer_collections, pipelined
from runtime.sql import SqlStatements


class ReplaySql(SqlStatements):
    """A replay's statements on the schema it builds into (``drop``) or, when switching,
    on the live schema, whose rebuild (:func:`rebuild_and_switch`) and retired copies are
    named after it."""

    drop = "DROP SCHEMA IF EXISTS {schema} CASCADE"
    hold_live = "LOCK TABLE {schema}.consumed_events IN ACCESS EXCLUSIVE MODE"
    drop_retired = "DROP SCHEMA IF EXISTS {schema}_retired CASCADE"
    retire_live = "ALTER SCHEMA {schema} RENAME TO {schema}_retired"
    rebuild_to_live = "ALTER SCHEMA {schema}_rebuild RENAME TO {schema}"
    drop_retired_now = "DROP SCHEMA {schema}_retired CASCADE"


@dataclass(frozen=True)
class ReplayReport:
    """What a replay did. ``events`` were read from the log; each was ``applied``,
    ``invalid`` (skipped: it does not satisfy its contract, and the live consumer
    dead-letters it) or a ``duplicate`` (an event already applied, in the log again);
    ``deleted`` sequences of the range are no longer in the stream. ``resumed`` counts
    the new consumers a stalled read needed."""

    events: int
    applied: int
    invalid: int
    seconds: float
    last_seq: int
    deleted: int = 0
    duplicates: int = 0
    resumed: int = 0
    first_seq: int = 1

    @property
    def read(self) -> int:
        return self.events

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def counts(self) -> str:
        """The operator's line of counts."""
        return (
            f"{self.events} read, {self.applied} applied, {self.invalid} invalid, "
            f"{self.duplicates} duplicate, {self.deleted} deleted"
        )

    def __add__(self, other: ReplayReport) -> ReplayReport:
        """This range followed by ``other`` (the next one)."""
        return ReplayReport(
            events=self.events + other.events,
            applied=self.applied + other.applied,
            invalid=self.invalid + other.invalid,
            seconds=self.seconds + other.seconds,
            last_seq=max(self.last_seq, other.last_seq),
            deleted=self.deleted + other.deleted,
            duplicates=self.duplicates + other.duplicates,
            resumed=self.resumed + other.resumed,
            first_seq=min(self.first_seq, other.first_seq),
        )


#: Events decoded between two turns of the event loop while a batch is prepared.
DECODE_SLICE = 50

#: Called after each batch with the counts so far and the range's last sequence.
Progress = Callable[[ReplayReport, int], None]


class ReplayIncomplete(RuntimeError):
    """The replay could not prove it applied the whole range: nothing was switched over."""


async def last_sequence(js: JetStreamContext, settings: Settings) -> int:
    info = await js.stream_info(settings.events_stream)
    return int(info.state.last_seq)


async def replay_range(
    js: JetStreamContext,
    settings: Settings,
    consumer: ExactlyOnceConsumer,
    conn_or_pool: asyncpg.Pool | asyncpg.Connection,
    *,
    after_seq: int,
    until_seq: int,
    batch_size: int = 500,
    progress: Progress | None = None,
    patience: float = PATIENCE,
) -> ReplayReport:
    """Apply events with ``after_seq < seq <= until_seq`` through ``consumer``'s
    exactly-once path, a fetched batch (at most ``batch_size``) per transaction. Invalid
    events are skipped (the live consumer dead-letters them, so neither path applies
    them). Raises :class:`ReplayIncomplete` unless every sequence of the range was
    applied, invalid, a duplicate or deleted; a broker that makes no progress for
    ``patience`` seconds counts as a shortfall."""
    started = time.perf_counter()
    if until_seq <= after_seq:
        return ReplayReport(0, 0, 0, 0.0, until_seq, first_seq=after_seq + 1)
    reader = LogReader(
        js,
        stream=settings.events_stream,
        subject=events_wildcard(settings.namespace),
        after_seq=after_seq,
        until_seq=until_seq,
        batch=batch_size,
        patience=patience,
    )
    applied = invalid = duplicates = 0
    #: a batch decoded: its last stream sequence and its valid events in log order
    Prepared = tuple[int, list[tuple[CloudEventEnvelope, EventBase, int]]]

    async def prepare(keys_conn: asyncpg.Connection, records: list[tuple[int, bytes]]) -> Prepared:
        """The batch's envelopes read, its clients' keys read and its events decoded;
        the invalid ones counted. It hands the event loop back every
        :data:`DECODE_SLICE` events, so the previous batch's transaction, waiting on the
        database meanwhile, goes on (ADR 0046)."""
        nonlocal invalid
        pending: list[tuple[CloudEventEnvelope, int]] = []
        for seq, data in records:
            try:
                pending.append((read_envelope(data), seq))
            except InvalidEvent:
                invalid += 1
        # The clients' keys are read for this batch only: an erased client reads as erased.
        # A projection that reads no personal data gets none.
        keys = await keys_for(keys_conn, [e for e, _ in pending]) if consumer.reads_personal_data else {}
        batch: list[tuple[CloudEventEnvelope, EventBase, int]] = []
        for n, (envelope, seq) in enumerate(pending, start=1):
            try:
                batch.append((envelope, decode_delivery(envelope, keys), seq))
            except InvalidEvent:
                invalid += 1
            if n % DECODE_SLICE == 0:
                await asyncio.sleep(0)
        return records[-1][0], batch

    async def commit(conn: asyncpg.Connection, prepared: Prepared) -> None:
        """One batch applied and the position recorded, in one transaction."""
        nonlocal applied, duplicates
        last_seq, batch = prepared
        async with conn.transaction():
            if batch:
                done = await consumer.apply_replayed(conn, batch)
                applied += done
                duplicates += len(batch) - done
            await consumer.record_position(conn, last_seq)

    async def commit_from_pool(pool: asyncpg.Pool, prepared: Prepared) -> None:
        async with pool.acquire() as conn:
            await commit(conn, prepared)

    def report() -> ReplayReport:
        return ReplayReport(
            events=reader.counts.read,
            applied=applied,
            invalid=invalid,
            seconds=time.perf_counter() - started,
            last_seq=until_seq,
            deleted=reader.counts.deleted,
            duplicates=duplicates,
            resumed=reader.counts.resumed,
            first_seq=after_seq + 1,
        )

    def applied_one() -> None:
        if progress is not None:
            progress(report(), until_seq)

    try:
        async with contextlib.aclosing(reader.read_ahead()) as batches:
            if isinstance(conn_or_pool, asyncpg.Connection):
                # One connection (the switch's catch-up, under its lock): batch after batch.
                async for records in batches:
                    await commit(conn_or_pool, await prepare(conn_or_pool, records))
                    applied_one()
            elif conn_or_pool.get_max_size() < 2:
                # A pool of one connection cannot hold the keys' connection beside a commit.
                async with conn_or_pool.acquire() as conn:
                    async for records in batches:
                        await commit(conn, await prepare(conn, records))
                        applied_one()
            else:
                await pipelined(conn_or_pool, batches, prepare, commit_from_pool, applied_one)
    except IncompleteRead as exc:
        raise ReplayIncomplete(f"replay incomplete, nothing switched over: {exc}") from exc
    done = report()
    check_complete(done, after_seq=after_seq, until_seq=until_seq)
    return done


def check_complete(report: ReplayReport, *, after_seq: int, until_seq: int) -> None:
    """The proof that a range was replayed whole: every sequence read or deleted, and
    every event read applied, invalid or a duplicate. :class:`ReplayIncomplete` if not."""
    expected = until_seq - after_seq
    handled = report.applied + report.invalid + report.duplicates
    if report.events + report.deleted != expected or handled != report.events:
        raise ReplayIncomplete(
            f"replay incomplete, nothing switched over: sequences {after_seq + 1}..{until_seq} "
            f"are {expected}, but {report.counts()}"
        )


async def rebuild(
    pool: asyncpg.Pool,
    js: JetStreamContext,
    settings: Settings,
    *,
    target_schema: str,
    migrations: Sequence[Migration],
    projection: Callable[[str], Projection],
    batch_size: int = 500,
    progress: Progress | None = None,
    patience: float = PATIENCE,
) -> ReplayReport:
    """Build ``projection`` from the start of the log into a fresh ``target_schema``.
    Raises :class:`ReplayIncomplete` (and drops ``target_schema``) unless it is complete."""
    sql = ReplaySql(target_schema)
    built = projection(target_schema)
    bulk = built if isinstance(built, BulkLoad) else None
    async with pool.acquire() as conn:
        await conn.execute(sql.drop)
        await apply_migrations(conn, target_schema, migrations)
        deferred = await drop_deferred(conn, target_schema, bulk.deferred_indexes) if bulk is not None else []
    consumer = ExactlyOnceConsumer(pool=pool, js=js, settings=settings, projection=built)
    try:
        until = await last_sequence(js, settings)
        if bulk is not None:
            bulk.start_bulk()
        with fewer_collections():
            report = await replay_range(
                js,
                settings,
                consumer,
                pool,
                after_seq=0,
                until_seq=until,
                batch_size=batch_size,
                progress=progress,
                patience=patience,
            )
            if bulk is None:
                return report
            started = time.perf_counter()
            async with pool.acquire() as conn, conn.transaction():
                await bulk.finish_bulk(conn)
                for definition in deferred:
                    await conn.execute(definition)
        return dataclasses.replace(report, seconds=report.seconds + time.perf_counter() - started)
    except BaseException:
        await _drop(pool, sql)
        raise


async def _drop(pool: asyncpg.Pool, sql: ReplaySql) -> None:
    """Drop a partial rebuild: it is no projection of anything, and holds personal data."""
    async with pool.acquire() as conn:
        await conn.execute(sql.drop)


async def rebuild_and_switch(
    pool: asyncpg.Pool,
    js: JetStreamContext,
    settings: Settings,
    *,
    live_schema: str,
    migrations: Sequence[Migration],
    projection: Callable[[str], Projection],
    progress: Progress | None = None,
    patience: float = PATIENCE,
) -> ReplayReport:
    """Rebuild into ``<live>_rebuild``, then switch it in, without losing a live event.

    The switch holds an exclusive lock on the live ``consumed_events`` table, which every
    live consumer transaction writes first; under it, the rebuild catches up to the
    stream's end, the schemas are swapped and the old one dropped, all in one
    transaction. A live transaction that was waiting then either resolves its statement
    against the new schema or fails (its table is gone), is NAKed and redelivered, and
    the event-id check makes it a no-op if the rebuild already applied it.

    Both the rebuild and the catch-up must prove themselves complete
    (:func:`replay_range`); if either cannot, :class:`ReplayIncomplete` is raised, the
    switch's transaction rolls back, the live schema stays as it was, and the rebuild is
    dropped.
    """
    target = f"{live_schema}_rebuild"
    report = await rebuild(
        pool,
        js,
        settings,
        target_schema=target,
        migrations=migrations,
        projection=projection,
        progress=progress,
        patience=patience,
    )
    live, rebuilt = ReplaySql(live_schema), ReplaySql(target)
    consumer = ExactlyOnceConsumer(pool=pool, js=js, settings=settings, projection=projection(target))
    started = time.perf_counter()
    try:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(live.hold_live)
            until = await last_sequence(js, settings)
            tail = await replay_range(
                js, settings, consumer, conn, after_seq=report.last_seq, until_seq=until, patience=patience
            )
            await conn.execute(live.drop_retired)
            await conn.execute(live.retire_live)
            await conn.execute(live.rebuild_to_live)
            await conn.execute(live.drop_retired_now)
    except BaseException:
        await _drop(pool, rebuilt)
        raise
    return dataclasses.replace(report + tail, seconds=report.seconds + time.perf_counter() - started)
