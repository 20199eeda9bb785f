"""The tracking store's contract (runtime/tracking.py): the PostgreSQL store and the
in-memory fake pass the same tests, so a unit test on the fake tells the truth about the
real one. Each test runs once per store; the PostgreSQL one in a fresh schema."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from runtime.db import apply_migrations, consumer_tracking_migrations
from runtime.tracking import InMemoryTrackingStore, PostgresTrackingStore, TrackingStore

pytestmark = pytest.mark.integration

A = ("/intake", "client-a")
B = ("/intake", "client-b")


@dataclass
class Tracked:
    store: TrackingStore
    #: the connection the store is given (None for the fake, which needs none)
    conn: Any


@pytest.fixture(params=["postgres", "in-memory"])
async def tracked(request: pytest.FixtureRequest, pool: asyncpg.Pool) -> AsyncIterator[Tracked]:
    if request.param == "in-memory":
        yield Tracked(InMemoryTrackingStore(), None)
        return
    schema = f"tracking_{uuid.uuid4().hex[:12]}"
    async with pool.acquire() as conn:
        await conn.execute(f"CREATE SCHEMA {schema}")
        await apply_migrations(conn, schema, consumer_tracking_migrations())
        try:
            yield Tracked(PostgresTrackingStore(schema), conn)
        finally:
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")


async def test_an_event_id_is_claimed_once_per_consumer(tracked: Tracked) -> None:
    store, conn = tracked.store, tracked.conn
    first, second = uuid.uuid4(), uuid.uuid4()
    assert await store.claim(conn, "c", [(first, 1), (second, 2)]) == {first, second}
    assert await store.claim(conn, "c", [(first, 3)]) == set(), "a redelivery is a duplicate"
    assert await store.claim(conn, "other", [(first, 1)]) == {first}, "another consumer has its own"


async def test_stream_positions_start_absent_and_only_move_up(tracked: Tracked) -> None:
    store, conn = tracked.store, tracked.conn
    assert await store.positions(conn, "c", [A, B]) == {}
    await store.advance(conn, "c", {A: 2, B: 1})
    await store.advance(conn, "c", {A: 1})
    assert await store.positions(conn, "c", [A, B]) == {A: 2, B: 1}
    assert await store.positions(conn, "c", [B]) == {B: 1}
    assert await store.positions(conn, "other", [A]) == {}


async def test_the_consumer_position_is_the_highest_sequence_recorded(tracked: Tracked) -> None:
    store, conn = tracked.store, tracked.conn
    assert await store.position(conn, "c") is None
    await store.record_position(conn, "c", 7)
    await store.record_position(conn, "c", 5)
    assert await store.position(conn, "c") == 7
    assert await store.position(conn, "other") is None
