"""The event store against real PostgreSQL: optimistic concurrency, outbox atomicity."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from runtime.config import Settings
from runtime.eventstore import ConcurrencyConflict, EventStore
from tests.support.factories import client_referred

pytestmark = pytest.mark.integration


def store(pool: asyncpg.Pool, settings: Settings) -> EventStore:
    return EventStore(pool, schema="intake", namespace=settings.namespace, source="/test")


async def test_appended_events_are_read_back_in_version_order(pool, settings) -> None:
    es = store(pool, settings)
    first = client_referred("client-a", 1)
    second = client_referred("client-a", 2)
    assert await es.append("client-a", 0, [first]) == 1
    assert await es.append("client-a", 1, [second]) == 2
    stored = await es.read_stream("client-a")
    assert [e.stream_version for e in stored] == [1, 2]
    assert [e.event_id for e in stored] == [str(first.event_id), str(second.event_id)]
    assert stored[0].envelope.type == "ClientReferred"
    assert stored[0].envelope.subject == "client-a"


async def test_concurrent_appends_to_one_stream_let_exactly_one_win(pool, settings) -> None:
    es = store(pool, settings)
    contenders = [client_referred("client-b", 1) for _ in range(16)]
    results = await asyncio.gather(
        *(es.append("client-b", 0, [event]) for event in contenders), return_exceptions=True
    )
    winners = [r for r in results if r == 1]
    conflicts = [r for r in results if isinstance(r, ConcurrencyConflict)]
    assert len(winners) == 1
    assert len(conflicts) == 15
    stored = await es.read_stream("client-b")
    assert len(stored) == 1
    winner_id = next(str(e.event_id) for e, r in zip(contenders, results, strict=True) if r == 1)
    assert stored[0].event_id == winner_id
    async with pool.acquire() as conn:
        outbox = await conn.fetch("SELECT event_id::text FROM intake.outbox")
    assert [r["event_id"] for r in outbox] == [winner_id]


async def test_concurrent_writers_that_retry_on_conflict_lose_nothing(pool, settings) -> None:
    es = store(pool, settings)

    async def write_with_retry() -> int:
        attempts = 0
        while True:
            attempts += 1
            version = len(await es.read_stream("client-c"))
            try:
                await es.append("client-c", version, [client_referred("client-c", version + 1)])
                return attempts
            except ConcurrencyConflict:
                await asyncio.sleep(0)

    attempts = await asyncio.gather(*(write_with_retry() for _ in range(12)))
    stored = await es.read_stream("client-c")
    assert [e.stream_version for e in stored] == list(range(1, 13))
    assert sum(attempts) > 12, "the writers should have collided at least once"
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM intake.outbox") == 12


async def test_a_stale_expected_version_is_a_conflict_and_writes_nothing(pool, settings) -> None:
    es = store(pool, settings)
    await es.append("client-d", 0, [client_referred("client-d", 1), client_referred("client-d", 2)])
    with pytest.raises(ConcurrencyConflict) as raised:
        await es.append("client-d", 1, [client_referred("client-d", 2)])
    assert raised.value.expected_version == 1
    # an expected version ahead of the stream would leave a gap: refused too
    with pytest.raises(ConcurrencyConflict) as ahead:
        await es.append("client-d", 5, [client_referred("client-d", 6)])
    assert ahead.value.actual_version == 2
    assert len(await es.read_stream("client-d")) == 2
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM intake.outbox") == 2


async def test_an_append_inside_a_rolled_back_transaction_leaves_no_event_and_no_outbox_row(
    pool, settings
) -> None:
    es = store(pool, settings)
    async with pool.acquire() as conn:
        with pytest.raises(RuntimeError):
            async with conn.transaction():
                await es.append("client-e", 0, [client_referred("client-e", 1)], conn=conn)
                raise RuntimeError("the caller's own work failed")
        assert await conn.fetchval("SELECT count(*) FROM intake.events") == 0
        assert await conn.fetchval("SELECT count(*) FROM intake.outbox") == 0


async def test_events_with_wrong_versions_are_refused_before_writing(pool, settings) -> None:
    es = store(pool, settings)
    with pytest.raises(ValueError, match="expected 1"):
        await es.append("client-f", 0, [client_referred("client-f", 2)])
    with pytest.raises(ValueError, match="belongs to"):
        await es.append("client-f", 0, [client_referred("client-g", 1)])
    assert await es.read_stream("client-f") == []


async def test_migrations_run_twice_change_nothing(pool, settings) -> None:
    from reitti.preparation import service_migrations
    from runtime.db import apply_migrations

    schema, migrations = service_migrations("intake")
    async with pool.acquire() as conn:
        assert await apply_migrations(conn, schema, migrations) == []
        names = await conn.fetch("SELECT name FROM intake.schema_migrations ORDER BY name")
    assert [r["name"] for r in names] == [m.name for m in migrations]


async def test_appends_in_the_stores_transaction_wake_the_relay_once_it_has_committed(pool, settings) -> None:
    """The relay is woken after the commit (it would find nothing before it), once per
    transaction however many appends it made, and not at all for a rollback."""
    wakes: list[asyncio.Task[int]] = []

    async def visible() -> int:
        async with pool.acquire() as other:
            return int(await other.fetchval("SELECT count(*) FROM intake.events"))

    def woken() -> None:  # the relay's signal: what another connection sees right then
        wakes.append(asyncio.ensure_future(visible()))

    es = EventStore(pool, schema="intake", namespace=settings.namespace, source="/test", on_append=woken)
    async with es.transaction() as conn:
        await es.append("client-a", 0, [client_referred("client-a", 1)], conn=conn)
        await es.append("client-b", 0, [client_referred("client-b", 1)], conn=conn)
        assert wakes == [], "not woken before the commit"
    assert len(wakes) == 1, "woken once, after the commit"
    assert await wakes[0] == 2, "the wake comes once both appends are visible to others"

    with pytest.raises(RuntimeError, match="rolled back"):
        async with es.transaction() as conn:
            await es.append("client-c", 0, [client_referred("client-c", 1)], conn=conn)
            raise RuntimeError("rolled back")
    assert len(wakes) == 1, "a rollback wakes nothing"

    async with pool.acquire() as conn, conn.transaction():  # a transaction of its own
        await es.append("client-d", 0, [client_referred("client-d", 1)], conn=conn)
        assert len(wakes) == 2, "outside the store's transaction it wakes at once, as before"


async def test_appends_to_several_streams_go_in_one_statement_and_a_conflict_in_one_stops_all(
    pool, settings
) -> None:
    """``append_all`` (a command's events with its access-log entry): both streams in one
    statement, each at its new version; a stale version in one raises the conflict, and
    the caller's rolled-back transaction keeps nothing of the other."""
    es = store(pool, settings)
    statements: list[str] = []
    async with pool.acquire() as conn:
        conn.add_query_logger(lambda record: statements.append(record.query))
        async with conn.transaction():
            versions = await es.append_all(
                [
                    ("client-h", 0, [client_referred("client-h", 1), client_referred("client-h", 2)]),
                    ("client-i", 0, [client_referred("client-i", 1)]),
                    ("client-j", 0, []),
                ],
                conn=conn,
            )
        appends = [q for q in statements if "INSERT INTO intake.events" in q or "intake.outbox" in q]
    assert versions == [2, 1, 0]
    assert len(appends) == 1, "one statement for both streams"
    assert [e.stream_version for e in await es.read_stream("client-h")] == [1, 2]
    assert [e.stream_version for e in await es.read_stream("client-i")] == [1]

    async with pool.acquire() as conn:
        with pytest.raises(ConcurrencyConflict) as raised:
            async with conn.transaction():
                await es.append_all(
                    [
                        ("client-k", 0, [client_referred("client-k", 1)]),
                        ("client-h", 1, [client_referred("client-h", 2)]),  # stale: h is at 2
                    ],
                    conn=conn,
                )
        assert raised.value.stream_id == "client-h"
        assert await es.read_stream("client-k") == [], "nothing of the other stream stays"
        assert await conn.fetchval("SELECT count(*) FROM intake.outbox") == 3
