"""The partner feeds go through FastStream's publishers (docs/adr/0043) with the relay's
guarantees: a copy reaches the feeds stream with its ``Nats-Msg-Id`` and leaves the outbox
only after JetStream's ack; a publish that gets no ack leaves it there. Real NATS and
PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, DeliverPolicy

from contracts.envelope import CloudEventEnvelope
from contracts.guidance import Outcome
from runtime.broker_access import partner_feeds
from runtime.config import Settings
from runtime.db import apply_migrations, event_store_migrations
from runtime.relay import OutboxRelay
from services.reporting.feed_broker import CONTENT_TYPE, FeedBroker
from services.reporting.feeds import FEEDS_SCHEMA, FeedPublisher
from tests.support.reporting_events import SOURCES, Story, give_keys

pytestmark = pytest.mark.integration


@pytest.fixture
async def feed_broker(settings: Settings) -> AsyncIterator[FeedBroker]:
    broker = FeedBroker(settings)
    await broker.start()
    yield broker
    await broker.stop()


async def queue_final_assessment(pool, settings) -> str:
    """The TE-office's copy of one final assessment, waiting in the feeds outbox."""
    story = Story("Mikkeli")
    event = story.final_assessment(date(2011, 5, 2), Outcome.EDUCATION)
    async with pool.acquire() as conn:
        await apply_migrations(conn, FEEDS_SCHEMA, event_store_migrations())
        await give_keys(conn, [event])
        async with conn.transaction():
            await FeedPublisher(settings.namespace).queue(
                conn, [(event, CloudEventEnvelope.wrap(event, source=SOURCES[event.producer]), None)]
            )
    return story.client_id


async def waiting(pool) -> int:
    async with pool.acquire() as conn:
        count: int = await conn.fetchval(f"SELECT count(*) FROM {FEEDS_SCHEMA}.outbox")
        return count


async def feed_messages(nats_client, settings) -> list[Msg]:
    js = nats_client.jetstream()
    total = (await js.stream_info(settings.feeds_stream)).state.messages
    sub = await js.subscribe(
        f"{settings.namespace}.feeds.>",
        stream=settings.feeds_stream,
        ordered_consumer=True,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
    )
    try:
        return [await sub.next_msg(timeout=5) for _ in range(total)]
    finally:
        await sub.unsubscribe()


async def test_a_feed_copy_reaches_the_feeds_stream_through_the_faststream_publisher(
    pool, settings, nats_client, feed_broker
) -> None:
    client_id = await queue_final_assessment(pool, settings)
    async with pool.acquire() as conn:
        row = await conn.fetchrow(f"SELECT event_id::text, subject, payload FROM {FEEDS_SCHEMA}.outbox")
    msg_id = row["event_id"]
    js = nats_client.jetstream()
    relay = OutboxRelay(pool, js, schema=FEEDS_SCHEMA, stream=settings.feeds_stream, publisher=feed_broker)
    assert await relay.drain() == 1
    assert await waiting(pool) == 0

    [msg] = await feed_messages(nats_client, settings)
    assert msg.subject == f"{settings.namespace}.feeds.te-office.FinalAssessmentIssued.{client_id}"
    headers = msg.headers or {}
    assert headers.get("Nats-Msg-Id") == msg_id
    # FastStream's publisher sent it (nats-py's publish sets neither header)
    assert headers.get("content-type") == CONTENT_TYPE
    assert headers.get("correlation_id") == msg_id
    assert CloudEventEnvelope.from_bytes(msg.data).subject == client_id

    # The same copy queued again (a relay that stopped before its delete) is absorbed by
    # JetStream's duplicate window: the message id went with it.
    async with pool.acquire() as conn:
        await conn.execute(
            f"INSERT INTO {FEEDS_SCHEMA}.outbox (event_id, subject, payload) VALUES ($1::uuid, $2, $3)",
            *row.values(),
        )
    assert await relay.drain() == 1
    assert (await js.stream_info(settings.feeds_stream)).state.messages == 1


async def test_a_feed_copy_without_an_ack_stays_in_the_outbox(
    pool, settings, nats_client, feed_broker
) -> None:
    await queue_final_assessment(pool, settings)
    js = nats_client.jetstream()
    broken = OutboxRelay(
        pool, js, schema=FEEDS_SCHEMA, stream="NO_SUCH_STREAM", ack_timeout=2, publisher=feed_broker
    )
    with pytest.raises(Exception):  # noqa: B017 - any publish failure will do
        await broken.publish_batch()
    assert await waiting(pool) == 1
    assert (await js.stream_info(settings.feeds_stream)).state.messages == 0

    relay = OutboxRelay(pool, js, schema=FEEDS_SCHEMA, stream=settings.feeds_stream, publisher=feed_broker)
    assert await relay.drain() == 1
    assert await waiting(pool) == 0


async def test_a_copy_for_a_partner_no_longer_configured_is_still_published_with_its_id(
    pool, settings, nats_client
) -> None:
    """A row queued for Mikkeli's feed while the broker now knows only Hirvensalmi's (the
    municipalities were reconfigured) goes out through the broker itself, not dropped."""
    [mikkeli] = [f for f in partner_feeds(("Mikkeli",)) if f.organisation != "te-office"]
    prefix = mikkeli.filter_subject(settings.namespace).removesuffix(">")
    client_id = await queue_final_assessment(pool, settings)
    async with pool.acquire() as conn:
        msg_id = await conn.fetchval(
            f"UPDATE {FEEDS_SCHEMA}.outbox SET subject = $1 RETURNING event_id::text",
            f"{prefix}FinalAssessmentIssued.{client_id}",
        )
    broker = FeedBroker(settings.with_(municipalities=("Hirvensalmi",)))
    assert broker.publisher_of(f"{prefix}FinalAssessmentIssued.{client_id}") is None
    await broker.start()
    try:
        relay = OutboxRelay(
            pool, nats_client.jetstream(), schema=FEEDS_SCHEMA, stream=settings.feeds_stream, publisher=broker
        )
        assert await relay.drain() == 1
    finally:
        await broker.stop()
    assert await waiting(pool) == 0
    [msg] = await feed_messages(nats_client, settings)
    assert msg.subject == f"{prefix}FinalAssessmentIssued.{client_id}"
    assert (msg.headers or {}).get("Nats-Msg-Id") == msg_id
