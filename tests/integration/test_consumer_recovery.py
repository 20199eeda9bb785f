"""The consumer through a killed database session and through its own crash: a killed
backend is an outage, not the event's failure, and a crashed consumer's deliveries come
back soon after its restart, while a live but slow one keeps its deliveries
(docs/adr/0016)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from functools import partial

import asyncpg
import pytest

from runtime.consumer import ExactlyOnceConsumer
from runtime.db import create_pool
from runtime.deadletters import list_dead_letters
from runtime.streams import connect_nats
from runtime.subscribers import DurableSubscription
from tests.integration.test_consumer import CountingProjection, consuming, counts, publish
from tests.support.apps import eventually
from tests.support.factories import client_referred

pytestmark = pytest.mark.integration

APPLICATION = "reitti-test-consumer"
# The consumer's backend waiting for the lock the test holds: in the middle of its batch.
WAITING = """
SELECT pid FROM pg_stat_activity
WHERE application_name = $1 AND wait_event_type = 'Lock' AND datname = current_database()
"""
ALIVE = "SELECT count(*) FROM pg_stat_activity WHERE pid = $1"


@contextlib.asynccontextmanager
async def counts_locked(pool: asyncpg.Pool) -> AsyncIterator[None]:
    """Hold the projection's table, so that a batch that reaches it waits there."""
    conn = await pool.acquire()
    tx = conn.transaction()
    await tx.start()
    try:
        await conn.execute("LOCK TABLE counting.counts IN EXCLUSIVE MODE")
        yield
    finally:
        await tx.rollback()
        await pool.release(conn)


async def create_counting(pool: asyncpg.Pool) -> CountingProjection:
    projection = CountingProjection("counting")
    async with pool.acquire() as conn:
        await projection.create(conn)
    return projection


async def test_a_consumer_whose_session_is_killed_mid_batch_applies_every_event_once(
    settings, pool, nats_client
) -> None:
    settings = settings.with_(max_deliver=2)
    kills = 4 * settings.max_deliver + 1
    js = nats_client.jetstream()
    await create_counting(pool)
    events = [client_referred(f"client-{n}") for n in range(3)]
    consumer_pool = await create_pool(settings.database_url, max_size=4, application_name=APPLICATION)
    try:
        async with consuming(settings, consumer_pool, js) as consumer:
            consumer.outage_backoff = (0.05, 0.2)
            async with counts_locked(pool):
                for event in events:
                    await publish(js, settings, event)
                # More kills than the failures that would dead-letter all three events.
                for _ in range(kills):
                    pid = await eventually(lambda: pool.fetchval(WAITING, APPLICATION), bool)
                    assert await pool.fetchval("SELECT pg_terminate_backend($1)", pid)
                    await eventually(partial(pool.fetchval, ALIVE, pid), lambda n: n == 0)
            expected = {e.stream_id: 1 for e in events}
            assert await eventually(lambda: counts(pool), lambda c: c == expected, within=30)
    finally:
        await consumer_pool.close()
    assert consumer.stats.paused_on_outage >= kills
    assert consumer.stats.retried == 0, "a killed session is no failure of the event"
    assert consumer.stats.dead_lettered == 0
    assert await list_dead_letters(js, settings) == []


async def test_deliveries_a_crashed_consumer_held_are_applied_soon_after_its_restart(
    settings, pool, nats_client
) -> None:
    js = nats_client.jetstream()
    projection = await create_counting(pool)
    events = [client_referred(f"client-{n}") for n in range(5)]
    doomed_nc = await connect_nats(settings.nats_url, name="reitti-doomed-consumer")
    doomed_js = doomed_nc.jetstream()
    doomed = ExactlyOnceConsumer(pool=pool, js=doomed_js, settings=settings, projection=projection)
    await DurableSubscription(settings, projection.name, lambda: doomed).start(doomed_js)
    async with counts_locked(pool):
        for event in events:
            await publish(js, settings, event)
        info = await eventually(
            lambda: js.consumer_info(settings.events_stream, projection.name),
            lambda i: i.num_ack_pending == len(events),
        )
        # The crash: its worker dies mid-batch and its connection drops, nothing acked.
        await doomed.stop()
        await doomed_nc.close()
    assert info.num_ack_pending == len(events)

    restarted_at = time.monotonic()
    async with consuming(settings, pool, js, projection):
        expected = {e.stream_id: 1 for e in events}
        # Well before the 30 s ack wait of before: a crash costs one (short) ack wait.
        assert await eventually(lambda: counts(pool), lambda c: c == expected, within=15)
    assert time.monotonic() - restarted_at < 15


async def test_a_live_consumer_held_up_past_its_ack_wait_keeps_its_deliveries(
    settings, pool, nats_client
) -> None:
    settings = settings.with_(ack_wait=1.0)
    js = nats_client.jetstream()
    projection = await create_counting(pool)
    events = [client_referred(f"client-{n}") for n in range(5)]
    async with consuming(settings, pool, js, projection) as consumer:
        async with counts_locked(pool):
            for event in events:
                await publish(js, settings, event)
            await eventually(
                lambda: js.consumer_info(settings.events_stream, projection.name),
                lambda i: i.num_ack_pending == len(events),
            )
            # The batch waits for four ack waits; its heartbeats keep it ours.
            held_until = time.monotonic() + 4 * settings.ack_wait
            info = await eventually(
                lambda: js.consumer_info(settings.events_stream, projection.name),
                lambda _: time.monotonic() > held_until,
            )
            assert info.num_redelivered == 0, "nothing was redelivered while the batch was held"
        expected = {e.stream_id: 1 for e in events}
        assert await eventually(lambda: counts(pool), lambda c: c == expected)
        info = await js.consumer_info(settings.events_stream, projection.name)
    assert info.num_redelivered == 0
    assert consumer.stats.duplicates == 0
