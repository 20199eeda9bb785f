"""The consumer through a real database outage: a PostgreSQL of the test's own is stopped
while events arrive and started again. The consumer pauses (nothing is dead-lettered,
nothing lost) and applies every event exactly once when the database is back."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from contracts.envelope import CloudEventEnvelope
from runtime.consumer import ExactlyOnceConsumer
from runtime.db import create_pool
from runtime.deadletters import list_dead_letters
from runtime.embedded import EmbeddedPostgres, free_port
from runtime.subscribers import DurableSubscription
from tests.integration.test_consumer import CountingProjection, publish, subject
from tests.support.apps import eventually
from tests.support.factories import client_referred

pytestmark = pytest.mark.integration


@contextlib.contextmanager
def own_postgres() -> Iterator[EmbeddedPostgres]:
    base = Path(tempfile.mkdtemp(prefix="reitti-outage-"))
    postgres = EmbeddedPostgres(base, free_port())
    try:
        postgres.start()
        yield postgres
    finally:
        postgres.stop()
        shutil.rmtree(base, ignore_errors=True)


async def applied(pool: asyncpg.Pool) -> dict[str, int] | None:
    """The counts, or None while the database is down."""
    try:
        return {r["stream_id"]: r["n"] for r in await pool.fetch("SELECT * FROM counting.counts")}
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return None


async def test_a_database_outage_pauses_the_consumer_and_loses_nothing(settings, nats_client) -> None:
    js = nats_client.jetstream()
    with own_postgres() as postgres:
        pool = await create_pool(postgres.url("postgres"), min_size=1, max_size=4)
        try:
            projection = CountingProjection("counting")
            async with pool.acquire() as conn:
                await projection.create(conn)
            consumer = ExactlyOnceConsumer(pool=pool, js=js, settings=settings, projection=projection)
            consumer.outage_backoff = (0.1, 0.5)
            subscription = DurableSubscription(settings, projection.name, lambda: consumer)
            await subscription.start(js)
            try:
                before = client_referred()
                await publish(js, settings, before)
                assert await eventually(lambda: applied(pool), lambda c: c == {before.stream_id: 1})

                await asyncio.to_thread(postgres.stop)
                during = [client_referred() for _ in range(5)]
                for event in during:
                    await publish(js, settings, event)
                await eventually(
                    lambda: asyncio.sleep(0, consumer.stats.paused_on_outage), lambda n: n >= 2, within=15
                )
                assert consumer.stats.dead_lettered == 0

                await asyncio.to_thread(postgres.start)
                expected = {e.stream_id: 1 for e in [before, *during]}
                assert await eventually(lambda: applied(pool), lambda c: c == expected, within=30)
                # the same event again, outside JetStream's duplicate window, changes nothing
                again = CloudEventEnvelope.wrap(during[0], source="/test").to_bytes()
                await js.publish(subject(settings), again, headers={"Nats-Msg-Id": "again"})
                await asyncio.sleep(0.5)
                assert await applied(pool) == expected
            finally:
                await subscription.stop()
        finally:
            await pool.close()
    assert consumer.stats.dead_lettered == 0
    assert await list_dead_letters(js, settings) == []
