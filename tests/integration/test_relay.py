"""The relay against real PostgreSQL and JetStream: no skipped event, no lost event,
no duplicate in the stream even when the relay is killed mid-batch."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import pytest
from nats.js.api import ConsumerConfig, DeliverPolicy

from contracts.subjects import events_wildcard
from runtime.eventstore import EventStore
from runtime.relay import OutboxRelay
from tests.support.factories import client_referred

pytestmark = pytest.mark.integration


async def stream_event_ids(js, settings) -> list[str]:
    info = await js.stream_info(settings.events_stream)
    total = info.state.messages
    if total == 0:
        return []
    sub = await js.subscribe(
        events_wildcard(settings.namespace),
        stream=settings.events_stream,
        ordered_consumer=True,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
    )
    ids = []
    try:
        for _ in range(total):
            msg = await sub.next_msg(timeout=5)
            ids.append(msg.headers["Nats-Msg-Id"])
    finally:
        await sub.unsubscribe()
    return ids


async def test_relay_publishes_a_late_committing_transactions_event(pool, settings, nats_client) -> None:
    js = nats_client.jetstream()
    es = EventStore(pool, schema="intake", namespace=settings.namespace, source="/test")
    relay = OutboxRelay(pool, js, schema="intake", stream=settings.events_stream)
    early, late = client_referred("client-early"), client_referred("client-late")

    async with pool.acquire() as slow:
        tx = slow.transaction()
        await tx.start()
        # The slow transaction appends first, so it holds the lower outbox id ...
        await es.append("client-late", 0, [late], conn=slow)
        # ... while a faster one commits after it and is relayed first.
        await es.append("client-early", 0, [early])
        assert await relay.drain() == 1
        await tx.commit()
    assert await relay.drain() == 1
    ids = await stream_event_ids(js, settings)
    assert sorted(ids) == sorted([str(early.event_id), str(late.event_id)])


async def test_relay_keeps_each_streams_order(pool, settings, nats_client) -> None:
    js = nats_client.jetstream()
    es = EventStore(pool, schema="intake", namespace=settings.namespace, source="/test")
    events = [client_referred("client-order", v) for v in range(1, 6)]
    for v, event in enumerate(events):
        await es.append("client-order", v, [event])
    await OutboxRelay(pool, js, schema="intake", stream=settings.events_stream).drain()
    assert await stream_event_ids(js, settings) == [str(e.event_id) for e in events]


async def test_relay_leaves_rows_in_the_outbox_when_publishing_fails(pool, settings, nats_client) -> None:
    js = nats_client.jetstream()
    es = EventStore(pool, schema="intake", namespace=settings.namespace, source="/test")
    await es.append("client-x", 0, [client_referred("client-x")])
    broken = OutboxRelay(pool, js, schema="intake", stream="NO_SUCH_STREAM", ack_timeout=2)
    with pytest.raises(Exception):  # noqa: B017 - any publish failure will do
        await broken.publish_batch()
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM intake.outbox") == 1
    assert await OutboxRelay(pool, js, schema="intake", stream=settings.events_stream).drain() == 1


def start_relay(settings) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        REITTI_NATS_URL=settings.nats_url,
        REITTI_DATABASE_URL=settings.database_url,
        REITTI_NAMESPACE=settings.namespace,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "reitti.cli", "relay", "intake"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def test_relay_killed_mid_batch_and_restarted_publishes_every_event_exactly_once(
    pool, settings, nats_client
) -> None:
    js = nats_client.jetstream()
    es = EventStore(pool, schema="intake", namespace=settings.namespace, source="/test")
    appended: list[str] = []
    for n in range(40):
        events = [client_referred(f"client-{n}", v) for v in range(1, 101)]
        await es.append(f"client-{n}", 0, events)
        appended.extend(str(e.event_id) for e in events)
    total = len(appended)

    # A SHARE lock on the outbox lets the relay claim rows (FOR UPDATE) and publish
    # them, but blocks its DELETE: the kill lands after the acks, before the commit.
    blocker = await pool.acquire()
    block = blocker.transaction()
    await block.start()
    await blocker.execute("LOCK TABLE intake.outbox IN SHARE MODE")
    relay = start_relay(settings)
    try:
        deadline = time.monotonic() + 60
        while (await js.stream_info(settings.events_stream)).state.messages < 500:
            assert relay.poll() is None, relay.stderr.read().decode() if relay.stderr else ""
            assert time.monotonic() < deadline, "the relay did not publish its first batch"
            await asyncio.sleep(0.01)
        relay.send_signal(signal.SIGKILL)
        relay.wait(timeout=10)
    finally:
        if relay.poll() is None:
            relay.kill()
        await block.rollback()
        await pool.release(blocker)
    async with pool.acquire() as conn:
        waiting = {r["event_id"] for r in await conn.fetch("SELECT event_id::text FROM intake.outbox")}
    published_before_kill = set(await stream_event_ids(js, settings))
    assert len(published_before_kill) == 500, "one batch was published before the kill"
    # Published, acked, but the delete never committed: all still wait in the outbox,
    # so the restarted relay publishes them a second time.
    assert len(waiting) == total
    assert published_before_kill <= waiting

    relay = start_relay(settings)
    try:
        deadline = time.monotonic() + 120
        while True:
            async with pool.acquire() as conn:
                if await conn.fetchval("SELECT count(*) FROM intake.outbox") == 0:
                    break
            assert relay.poll() is None
            assert time.monotonic() < deadline, "the restarted relay did not drain the outbox"
            await asyncio.sleep(0.1)
    finally:
        relay.send_signal(signal.SIGTERM)
        relay.wait(timeout=20)

    ids = await stream_event_ids(js, settings)
    assert len(ids) == total, "JetStream de-duplication should absorb the re-published batch"
    assert sorted(ids) == sorted(appended)


async def test_a_partners_copy_waits_sealed_and_is_revealed_only_for_its_publish(
    pool, settings, nats_client
) -> None:
    """The feeds outbox holds a partner's copy sealed with the client's key; the relay
    reveals it just before the publish (docs/adr/0020). A client erased while the copy
    waited is sent [erased]: the copy could not be read any more."""
    from datetime import date

    from contracts.envelope import CloudEventEnvelope
    from contracts.guidance import FinalAssessment, Outcome
    from runtime import erasure
    from runtime.db import apply_migrations, event_store_migrations
    from services.reporting.feeds import FEEDS_SCHEMA, FeedPublisher
    from tests.support.reporting_events import SOURCES, Story, give_keys

    kept, erased = Story("Mikkeli"), Story("Mikkeli")
    texts = {s.client_id: f"final words {s.client_id[-8:]}" for s in (kept, erased)}
    events = [
        s.final_assessment(
            date(2010, 12, 1),
            Outcome.EDUCATION,
            FinalAssessment(text=texts[s.client_id], work_ability_clarified=True, competence_improved=True),
        )
        for s in (kept, erased)
    ]
    async with pool.acquire() as conn:
        await apply_migrations(conn, FEEDS_SCHEMA, event_store_migrations())
        await give_keys(conn, events)
        async with conn.transaction():
            await FeedPublisher(settings.namespace).queue(
                conn, [(e, CloudEventEnvelope.wrap(e, source=SOURCES[e.producer]), None) for e in events]
            )
        waiting = b"\n".join(
            bytes(r[0]) for r in await conn.fetch(f"SELECT payload FROM {FEEDS_SCHEMA}.outbox")
        )
        async with conn.transaction():
            assert await erasure.delete_key(conn, erased.client_id, "lawful_request: test")
    assert waiting.count(erasure.PREFIX.encode()) == 4, "the text and the identity code of each"
    assert not any(t.encode() in waiting for t in texts.values()) and b"010190-123M" not in waiting

    relay = OutboxRelay(pool, nats_client.jetstream(), schema=FEEDS_SCHEMA, stream=settings.feeds_stream)
    assert await relay.drain() == 2
    js = nats_client.jetstream()
    sub = await js.subscribe(
        f"{settings.namespace}.feeds.>",
        stream=settings.feeds_stream,
        ordered_consumer=True,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
    )
    try:
        published = {}
        for _ in range(2):
            envelope = CloudEventEnvelope.from_bytes((await sub.next_msg(timeout=5)).data)
            published[envelope.subject] = envelope.data
    finally:
        await sub.unsubscribe()
    assert published[kept.client_id]["final_assessment"]["text"] == texts[kept.client_id]
    assert published[kept.client_id]["personal_identity_code"] == "010190-123M"
    assert published[erased.client_id]["final_assessment"]["text"] == erasure.ERASED
    assert published[erased.client_id]["personal_identity_code"] == erasure.ERASED
