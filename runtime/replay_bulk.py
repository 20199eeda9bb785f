"""Replay's fast path into a fresh schema (ADR 0046): what :func:`runtime.replay.rebuild`
may do because nobody else reads or writes the schema it builds.

- A projection that is a :class:`BulkLoad` names the indexes its apply does not use; they
  are dropped after the migrations and built once the load is done, and the projection
  is told when the load starts and ends, so it may hold state in memory in between.
- The batches are pipelined (:func:`pipelined`): the next batch is decoded while the
  previous one's transaction is in the database, and committed only after it.
- The cyclic garbage collector runs less often during the load
  (:func:`fewer_collections`): its full collections over a heap that the held state
  makes large cost about a third of the replay's CPU with the default thresholds.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import Protocol, TypeVar, runtime_checkable

import asyncpg

from runtime.sql import SqlStatements, quote_ident

_P = TypeVar("_P")

#: the collector's thresholds during a load: a young collection per 20,000 objects
#: allocated (not 700), and an older one per 20 younger ones (not 10)
LOAD_GC_THRESHOLDS = (20_000, 20, 20)


class BulkSql(SqlStatements):
    """The fast path's statement on the catalogue (the schema is a parameter there)."""

    deferred_indexes = """
SELECT indexname, indexdef FROM pg_indexes
WHERE schemaname = $1 AND indexname = ANY($2::text[]) ORDER BY indexname
"""


@runtime_checkable
class BulkLoad(Protocol):
    """A projection that loads faster into a fresh schema nobody else writes (ADR 0046):
    :func:`rebuild` drops its ``deferred_indexes`` (none of its apply's statements uses
    them) after the migrations, calls ``start_bulk()`` before the first batch, and, after
    the last, ``finish_bulk(conn)`` (write what it held in memory) and builds the indexes,
    in one transaction. The live consumer never calls these."""

    deferred_indexes: Sequence[str]

    def start_bulk(self) -> None: ...

    async def finish_bulk(self, conn: asyncpg.Connection) -> None: ...


async def drop_deferred(conn: asyncpg.Connection, schema: str, names: Sequence[str]) -> list[str]:
    """Drop the fresh schema's indexes ``names`` (those its projection's apply does not
    use); their definitions, to build them once the load is done (ADR 0046)."""
    rows = await conn.fetch(BulkSql(schema).deferred_indexes, schema, list(names))
    for row in rows:
        # The index's name is read from the catalogue just above, written with quote_ident.
        await conn.execute(f"DROP INDEX {quote_ident(schema)}.{quote_ident(row['indexname'])}")
    return [str(row["indexdef"]) for row in rows]


async def pipelined(
    pool: asyncpg.Pool,
    batches: AsyncIterator[list[tuple[int, bytes]]],
    prepare: Callable[[asyncpg.Connection, list[tuple[int, bytes]]], Awaitable[_P]],
    commit: Callable[[asyncpg.Pool, _P], Awaitable[None]],
    committed: Callable[[], None],
) -> None:
    """Each batch prepared (decoded, on a connection of its own for the keys) while the
    one before it is being committed; a batch is committed only after the one before it
    has been, so the order of the log is kept. A failed commit stops the replay."""
    inflight: asyncio.Future[None] | None = None
    try:
        async with pool.acquire() as keys_conn:
            async for records in batches:
                prepared = await prepare(keys_conn, records)
                if inflight is not None:
                    await inflight
                    committed()
                inflight = asyncio.ensure_future(commit(pool, prepared))
        if inflight is not None:
            await inflight
            committed()
    finally:
        if inflight is not None and not inflight.done():
            inflight.cancel()
            await asyncio.wait({inflight})


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """The cyclic garbage collector with :data:`LOAD_GC_THRESHOLDS` inside, and as it was
    after. Every cycle is still collected, in fewer and larger collections; memory that is
    not in a cycle is freed at once either way (reference counting)."""
    before = gc.get_threshold()
    gc.set_threshold(*LOAD_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)
