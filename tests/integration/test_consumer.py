"""The exactly-once consumer against real JetStream and PostgreSQL, on the durable
subscription the services use."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from functools import partial
from typing import Any, cast

import asyncpg
import pytest
from nats.js import JetStreamContext

from contracts.base import EventBase
from contracts.envelope import CloudEventEnvelope
from contracts.intake import ClientReferred
from contracts.subjects import event_subject
from runtime.consumer import ExactlyOnceConsumer
from runtime.db import apply_migrations, consumer_tracking_migrations
from runtime.deadletters import list_dead_letters
from runtime.sql import quote_ident
from runtime.subscribers import DurableSubscription
from tests.support.apps import eventually
from tests.support.factories import client_referred, of_kind

pytestmark = pytest.mark.integration


class CountingProjection:
    """Counts applied events per stream; fails on streams named ``poison-*``."""

    name = "counting"

    def __init__(self, schema: str) -> None:
        self.schema = schema

    async def create(self, conn: asyncpg.Connection) -> None:
        await apply_migrations(conn, self.schema, consumer_tracking_migrations())
        await conn.execute(
            f"CREATE TABLE IF NOT EXISTS {quote_ident(self.schema)}.counts "
            "(stream_id text PRIMARY KEY, n int NOT NULL)"
        )

    async def apply(self, conn: asyncpg.Connection, event: EventBase, envelope: CloudEventEnvelope) -> None:
        if event.stream_id.startswith("poison-"):
            raise RuntimeError(f"cannot apply {event.stream_id}")
        await conn.execute(
            f"INSERT INTO {quote_ident(self.schema)}.counts VALUES ($1, 1) "
            f"ON CONFLICT (stream_id) DO UPDATE SET n = {quote_ident(self.schema)}.counts.n + 1",
            event.stream_id,
        )


@contextlib.asynccontextmanager
async def consuming(settings, pool, js, projection=None) -> AsyncIterator[ExactlyOnceConsumer]:
    """A durable subscription applying ``projection`` (created first; by default a
    :class:`CountingProjection`) through the exactly-once consumer, stopped after."""
    projection = projection or CountingProjection("counting")
    async with pool.acquire() as conn:
        await projection.create(conn)
    consumer = ExactlyOnceConsumer(pool=pool, js=js, settings=settings, projection=projection)
    subscription = DurableSubscription(settings, projection.name, lambda: consumer)
    await subscription.start(js)
    try:
        yield consumer
    finally:
        await subscription.stop()


def subject(settings, event_type: str = "ClientReferred") -> str:
    from contracts.base import Side

    return event_subject(settings.namespace, "intake", Side.CENTRE, "mikkeli", event_type)


async def publish(js, settings, event: EventBase) -> None:
    envelope = CloudEventEnvelope.wrap(event, source="/test")
    await js.publish(subject(settings), envelope.to_bytes(), headers={"Nats-Msg-Id": str(event.event_id)})


async def counts(pool) -> dict[str, int]:
    async with pool.acquire() as conn:
        return {r["stream_id"]: r["n"] for r in await conn.fetch("SELECT * FROM counting.counts")}


async def test_a_malformed_message_is_dead_lettered_and_the_consumer_keeps_consuming(
    settings, pool, nats_client
) -> None:
    js = nats_client.jetstream()
    async with consuming(settings, pool, js) as consumer:
        await js.publish(subject(settings), b"{this is not json")
        wrong = CloudEventEnvelope.wrap(client_referred("client-1"), source="/test").model_dump(mode="json")
        wrong["data"]["source"] = "carrier pigeon"
        await js.publish(subject(settings), CloudEventEnvelope.model_validate(wrong).to_bytes())
        await js.publish(subject(settings), b'{"specversion": "1.0", "type": "NoSuchEvent"}')
        await publish(js, settings, client_referred("client-ok"))
        assert await eventually(lambda: counts(pool), lambda c: c.get("client-ok") == 1)

    letters = await list_dead_letters(js, settings, limit=10)
    assert len(letters) == 3
    assert all(letter["consumer"] == "counting" for letter in letters)
    assert all(letter["reason"].startswith("invalid event:") for letter in letters)
    assert "source" in letters[1]["reason"]
    assert letters[0]["data"] == "{this is not json", "the original bytes are kept"
    assert letters[0]["original_subject"] == subject(settings)
    assert consumer.stats.dead_lettered == 3
    assert consumer.stats.applied == 1


async def test_an_event_that_keeps_failing_goes_to_the_dead_letters_after_max_deliver(
    settings, pool, nats_client
) -> None:
    settings = settings.with_(max_deliver=3)
    js = nats_client.jetstream()
    async with consuming(settings, pool, js) as consumer:
        await publish(js, settings, client_referred("poison-1"))
        await publish(js, settings, client_referred("client-after"))
        letters = await eventually(
            lambda: list_dead_letters(js, settings, limit=5), lambda ls: len(ls) == 1, within=30
        )
        assert await eventually(lambda: counts(pool), lambda c: c.get("client-after") == 1)
    assert letters[0]["reason"].startswith("failed 3 times: RuntimeError: cannot apply poison-1")
    assert letters[0]["deliveries"] == "3"
    assert consumer.stats.retried == 2
    assert "poison-1" not in await counts(pool)


async def test_a_redelivered_or_republished_event_has_no_second_effect(settings, pool, nats_client) -> None:
    js = nats_client.jetstream()
    event = client_referred("client-once")
    async with consuming(settings, pool, js) as consumer:
        await publish(js, settings, event)
        assert await eventually(lambda: counts(pool), lambda c: c.get("client-once") == 1)
        # Outside JetStream's duplicate window (another msg id), the same event again:
        envelope = CloudEventEnvelope.wrap(event, source="/test")
        await js.publish(subject(settings), envelope.to_bytes(), headers={"Nats-Msg-Id": "other"})
        await eventually(lambda: asyncio.sleep(0, consumer.stats.duplicates), lambda d: d == 1)
    assert (await counts(pool))["client-once"] == 1


async def test_the_consumer_resumes_where_it_left_off_after_a_restart(settings, pool, nats_client) -> None:
    js = nats_client.jetstream()
    async with consuming(settings, pool, js):
        await publish(js, settings, client_referred("client-r1"))
        assert await eventually(lambda: counts(pool), lambda c: "client-r1" in c)
    # published while nobody consumes
    await publish(js, settings, client_referred("client-r2"))
    async with consuming(settings, pool, js) as consumer:
        assert await eventually(lambda: counts(pool), lambda c: "client-r2" in c)
        # Everything JetStream has for the consumer is delivered and settled (a
        # redelivered client-r1 would have been applied or counted by now).
        await eventually(
            lambda: js.consumer_info(settings.events_stream, "counting"),
            lambda info: info.num_pending == 0 and info.num_ack_pending == 0,
        )
    assert await counts(pool) == {"client-r1": 1, "client-r2": 1}
    assert consumer.stats.applied == 1


class OrderProjection:
    """Records the order in which one stream's versions were applied."""

    name = "ordering"

    def __init__(self, schema: str) -> None:
        self.schema = schema
        self.fail_once = True

    async def create(self, conn: asyncpg.Connection) -> None:
        await apply_migrations(conn, self.schema, consumer_tracking_migrations())
        await conn.execute(
            f"CREATE TABLE IF NOT EXISTS {quote_ident(self.schema)}.applied "
            "(n bigint GENERATED ALWAYS AS IDENTITY, stream_id text, version int)"
        )

    async def apply(self, conn: asyncpg.Connection, event: EventBase, envelope: CloudEventEnvelope) -> None:
        if event.stream_id == "flaky" and event.stream_version == 3 and self.fail_once:
            self.fail_once = False
            raise RuntimeError("version 3 fails once")
        await conn.execute(
            f"INSERT INTO {quote_ident(self.schema)}.applied (stream_id, version) VALUES ($1, $2)",
            event.stream_id,
            event.stream_version,
        )


async def test_one_streams_events_apply_in_version_order_even_when_published_out_of_order(
    settings, pool, nats_client
) -> None:
    import random

    js = nats_client.jetstream()
    projection = OrderProjection("ordering")
    async with pool.acquire() as conn:
        await projection.create(conn)
    consumer = ExactlyOnceConsumer(pool=pool, js=js, settings=settings, projection=projection)
    events = [client_referred("shuffled", v) for v in range(1, 31)] + [
        client_referred("flaky", v) for v in range(1, 8)
    ]
    shuffled = events[:30]
    random.Random(7).shuffle(shuffled)
    subscription = DurableSubscription(settings, projection.name, lambda: consumer)
    await subscription.start(js)
    try:
        for event in shuffled + events[30:]:
            await publish(js, settings, event)

        async def applied() -> dict[str, list[int]]:
            async with pool.acquire() as conn:
                rows = await conn.fetch("SELECT stream_id, version FROM ordering.applied ORDER BY n")
            out: dict[str, list[int]] = {}
            for r in rows:
                out.setdefault(r["stream_id"], []).append(r["version"])
            return out

        found = await eventually(
            applied, lambda a: len(a.get("shuffled", [])) == 30 and len(a.get("flaky", [])) == 7, within=60
        )
    finally:
        await subscription.stop()
    assert found["shuffled"] == list(range(1, 31))
    assert found["flaky"] == list(range(1, 8)), "a failed event is not overtaken by its successors"
    assert not projection.fail_once, "version 3 did fail once"
    assert consumer.stats.early > 0


async def test_dead_letter_reasons_name_the_field_but_not_the_personal_data(
    settings, pool, nats_client
) -> None:
    js = nats_client.jetstream()
    async with consuming(settings, pool, js):
        wrong = CloudEventEnvelope.wrap(client_referred("client-pii"), source="/test").model_dump(mode="json")
        wrong["data"]["client"]["personal_identity_code"] = "311299-999Q-SECRET"
        await js.publish(subject(settings), CloudEventEnvelope.model_validate(wrong).to_bytes())
        letters = await eventually(lambda: list_dead_letters(js, settings, limit=5), lambda ls: len(ls) == 1)
    reason = letters[0]["reason"]
    assert "client.personal_identity_code" in reason
    assert "SECRET" not in reason and "311299" not in reason


class FirstNames:
    """Records the first name each referral reaches it with."""

    def __init__(self, name: str, *, reads_personal_data: bool) -> None:
        self.name = name
        self.schema = name
        self.reads_personal_data = reads_personal_data

    async def create(self, conn: asyncpg.Connection) -> None:
        await apply_migrations(conn, self.schema, consumer_tracking_migrations())
        await conn.execute(f"CREATE TABLE {quote_ident(self.schema)}.names (stream_id text, first_name text)")

    async def apply(self, conn: asyncpg.Connection, event: EventBase, envelope: CloudEventEnvelope) -> None:
        first_name = of_kind(ClientReferred, event).client.first_name
        await conn.execute(
            f"INSERT INTO {quote_ident(self.schema)}.names VALUES ($1, $2)", event.stream_id, first_name
        )


async def test_a_projection_that_reads_no_personal_data_gets_every_personal_field_as_erased(
    settings, pool, nats_client
) -> None:
    """Data minimisation: the event is sealed in the log; the projection that declares it
    keeps no personal data is given no key and sees [erased], the other one the name."""
    from runtime.erasure import ERASED
    from runtime.eventstore import EventStore
    from runtime.relay import OutboxRelay

    js = nats_client.jetstream()
    store = EventStore(pool, schema="intake", namespace=settings.namespace, source="/test", service="intake")
    event = client_referred()
    await store.append(event.stream_id, 0, [event])
    assert await OutboxRelay(pool, js, schema="intake", stream=settings.events_stream).drain() == 1
    found: dict[str, str] = {}
    for projection in (
        FirstNames("reads", reads_personal_data=True),
        FirstNames("minimal", reads_personal_data=False),
    ):
        async with consuming(settings, pool, js, projection):
            row = await eventually(
                partial(pool.fetchrow, f"SELECT first_name FROM {projection.schema}.names"),
                lambda r: r is not None,
            )
        found[projection.name] = row["first_name"]
    assert found == {"reads": event.client.first_name, "minimal": ERASED}


@pytest.mark.parametrize("lost", ["the client's interest", "the broker's consumer"])
async def test_a_subscription_that_stops_receiving_is_resubscribed_and_every_event_applied(
    settings, pool, nats_client, caplog, lost
) -> None:
    """More events than the consumer's ack window and the client's pending buffer wait
    while the subscription receives nothing (its interest silently gone, or its durable
    consumer gone from the broker); the stall watch notices, says so, and subscribes
    again: every event is applied, once."""
    from runtime.stalls import watch_subscription
    from runtime.subscribers import MAX_ACK_PENDING

    js = nats_client.jetstream()
    projection = CountingProjection("counting")
    async with pool.acquire() as conn:
        await projection.create(conn)
    consumer = ExactlyOnceConsumer(pool=pool, js=js, settings=settings, projection=projection)
    subscription = DurableSubscription(settings, projection.name, lambda: consumer)
    await subscription.start(js)
    stop = asyncio.Event()
    try:
        await publish(js, settings, client_referred("client-before", 1))
        await eventually(lambda: counts(pool), lambda c: c.get("client-before") == 1)
        if lost == "the client's interest":
            assert subscription._sub is not None
            await subscription._sub.unsubscribe()  # behind its back: nothing tells the consumer
        else:
            await js.delete_consumer(settings.events_stream, projection.name)
        total = MAX_ACK_PENDING * 5  # beyond the ack window and the client's pending limit
        await asyncio.gather(
            *(publish(js, settings, client_referred(f"client-{i}", 1)) for i in range(total))
        )
        caplog.set_level("WARNING", logger="reitti.stalls")
        watch = asyncio.create_task(
            watch_subscription(
                lambda: js, settings.events_stream, subscription, stop, every=0.2, stall_after=1.0
            )
        )
        found = await eventually(lambda: counts(pool), lambda c: len(c) == total + 1, within=60)
        assert set(found.values()) == {1}, "each event applied once"
        assert any(projection.name in r.getMessage() for r in caplog.records), "the stall was said"
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await watch
        await subscription.stop()


class BlockedProjection(CountingProjection):
    """Holds its first batch until ``release`` is set: a consumer waiting on its database."""

    def __init__(self, schema: str) -> None:
        super().__init__(schema)
        self.release = asyncio.Event()
        self.holding = asyncio.Event()

    async def apply(self, conn: asyncpg.Connection, event: EventBase, envelope: CloudEventEnvelope) -> None:
        self.holding.set()
        await self.release.wait()
        await super().apply(conn, event, envelope)


async def test_a_consumer_holding_its_deliveries_is_not_taken_for_stalled(
    settings, pool, nats_client, caplog, monkeypatch
) -> None:
    """Events wait, nothing is acknowledged or received, for many times ``stall_after``:
    but the worker holds a batch (as through a database outage), so the watch says
    nothing and does not subscribe again; released, every event is applied once."""
    from runtime.stalls import watch_subscription

    js = nats_client.jetstream()
    projection = BlockedProjection("counting")
    async with pool.acquire() as conn:
        await projection.create(conn)
    consumer = ExactlyOnceConsumer(pool=pool, js=js, settings=settings, projection=projection)
    subscription = DurableSubscription(settings, projection.name, lambda: consumer)
    resubscribed: list[int] = []
    real = subscription.resubscribe

    async def spied(js_: Any) -> None:
        resubscribed.append(1)
        await real(js_)

    monkeypatch.setattr(subscription, "resubscribe", spied)
    looks: list[int] = []

    class CountingJs:
        async def consumer_info(self, *args: Any, **kwargs: Any) -> Any:
            looks.append(1)
            return await js.consumer_info(*args, **kwargs)

    await subscription.start(js)
    stop = asyncio.Event()
    caplog.set_level("WARNING", logger="reitti.stalls")
    watch = asyncio.create_task(
        watch_subscription(
            lambda: cast(JetStreamContext, CountingJs()),
            settings.events_stream,
            subscription,
            stop,
            every=0.1,
            stall_after=0.5,
        )
    )
    try:
        await asyncio.gather(*(publish(js, settings, client_referred(f"held-{i}", 1)) for i in range(20)))
        await asyncio.wait_for(projection.holding.wait(), timeout=20)
        start = len(looks)
        await eventually(lambda: asyncio.sleep(0, len(looks)), lambda n: n >= start + 15)  # > 1.5 s
        assert not subscription.idle
        assert resubscribed == [] and not caplog.records, "busy is not stalled"
        projection.release.set()
        found = await eventually(lambda: counts(pool), lambda c: len(c) == 20)
        assert set(found.values()) == {1}
    finally:
        projection.release.set()
        stop.set()
        await watch
        await subscription.stop()
