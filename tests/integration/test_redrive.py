"""Re-driving dead letters against real JetStream and PostgreSQL: an event that kept
failing is dead-lettered, its stream goes on without it, and once the cause is fixed the
operator sends it through its consumer again, exactly once."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import pytest

from contracts.base import EventBase
from contracts.envelope import CloudEventEnvelope
from runtime.consumer import decode_delivery, read_envelope
from runtime.deadletters import read_dead_letters, redrive
from tests.integration.test_consumer import CountingProjection, consuming, counts, publish
from tests.support.apps import eventually
from tests.support.factories import client_referred

pytestmark = pytest.mark.integration


class FailingFor(CountingProjection):
    """Counts events; fails for the event ids in ``failing`` until they are taken out."""

    def __init__(self, schema: str) -> None:
        super().__init__(schema)
        self.failing: set[UUID] = set()

    async def apply(self, conn: asyncpg.Connection, event: EventBase, envelope: CloudEventEnvelope) -> None:
        if event.event_id in self.failing:
            raise RuntimeError("a bug in the projection")
        await super().apply(conn, event, envelope)


async def test_a_dead_letter_is_redriven_once_its_cause_is_fixed(settings, pool, nats_client) -> None:
    js = nats_client.jetstream()
    projection = FailingFor("counting")
    async with consuming(settings, pool, js, projection) as consumer:
        failing, after, other = (
            client_referred("client-a", 1),
            client_referred("client-a", 2),
            client_referred("client-b", 1),
        )
        projection.failing.add(failing.event_id)
        for event in (failing, after, other):
            await publish(js, settings, event)
        # the failing event is dead-lettered; its stream goes on without it
        await eventually(lambda: counts(pool), lambda c: c == {"client-a": 1, "client-b": 1}, within=30)
        [letter] = await eventually(
            lambda: read_dead_letters(js, settings, consumer=consumer.name),
            lambda ls: len(ls) == 1,
            within=30,
        )
        assert letter.reason is not None and "a bug in the projection" in letter.reason

        # not fixed yet: the letter stays, with the reason
        report = await redrive(js, settings, pool, consumer)
        assert report.applied == [] and [seq for seq, _ in report.still_failing] == [letter.dlq_seq]
        assert "a bug in the projection" in report.still_failing[0][1]
        assert len(await read_dead_letters(js, settings, consumer=consumer.name)) == 1

        projection.failing.clear()  # the fix is deployed
        report = await redrive(js, settings, pool, consumer)
        assert report.applied == [letter.dlq_seq] and report.still_failing == []
        assert await counts(pool) == {"client-a": 2, "client-b": 1}
        assert await read_dead_letters(js, settings, consumer=consumer.name) == []

        again = await redrive(js, settings, pool, consumer)
        assert again.applied == again.duplicates == [] and await counts(pool) == {
            "client-a": 2,
            "client-b": 1,
        }


async def test_a_dead_letter_already_applied_is_a_duplicate_and_leaves(settings, pool, nats_client) -> None:
    js = nats_client.jetstream()
    projection = FailingFor("counting")
    async with consuming(settings, pool, js, projection) as consumer:
        event = client_referred("client-c", 1)
        projection.failing.add(event.event_id)
        await publish(js, settings, event)
        [letter] = await eventually(
            lambda: read_dead_letters(js, settings, consumer=consumer.name),
            lambda ls: len(ls) == 1,
            within=30,
        )
    projection.failing.clear()
    envelope = read_envelope(letter.data)
    async with pool.acquire() as conn, conn.transaction():  # another operator got there first
        await consumer.redrive(conn, envelope, decode_delivery(envelope, {}), letter.original_stream_seq or 0)
    report = await redrive(js, settings, pool, consumer)
    assert report.duplicates == [letter.dlq_seq] and report.applied == []
    assert await counts(pool) == {"client-c": 1}
    assert await read_dead_letters(js, settings, consumer=consumer.name) == []


async def test_an_early_letter_waits_for_its_predecessor_and_then_is_redriven(
    settings, pool, nats_client, monkeypatch
) -> None:
    """Version 2 came and version 1 never did: dead-lettered as early. Re-driving it before
    version 1 is applied would skip a version, so it waits; once version 1 is applied, it
    goes."""
    import runtime.delivery

    monkeypatch.setattr(runtime.delivery, "EARLY_DELIVERIES", 3)
    monkeypatch.setattr(runtime.delivery, "EARLY_DELAY", 0.05)
    js = nats_client.jetstream()
    projection = FailingFor("counting")
    async with consuming(settings, pool, js, projection) as consumer:
        first, second = client_referred("client-x", 1), client_referred("client-x", 2)
        await publish(js, settings, second)
        [letter] = await eventually(
            lambda: read_dead_letters(js, settings, consumer=consumer.name),
            lambda ls: len(ls) == 1,
            within=30,
        )
        assert letter.reason is not None and "predecessor never did" in letter.reason

        report = await redrive(js, settings, pool, consumer)
        assert report.applied == [] and [seq for seq, _ in report.still_failing] == [letter.dlq_seq]
        assert "waits for version 1" in report.still_failing[0][1]
        assert await counts(pool) == {}

        await publish(js, settings, first)
        await eventually(lambda: counts(pool), lambda c: c == {"client-x": 1})
        report = await redrive(js, settings, pool, consumer)
        assert report.applied == [letter.dlq_seq]
        assert await counts(pool) == {"client-x": 2}


async def test_two_redrives_at_once_apply_each_letter_once_and_both_finish(
    settings, pool, nats_client
) -> None:
    import asyncio

    js = nats_client.jetstream()
    projection = FailingFor("counting")
    async with consuming(settings, pool, js, projection) as consumer:
        events = [client_referred(f"client-{n}", 1) for n in range(4)]
        projection.failing.update(e.event_id for e in events)
        for event in events:
            await publish(js, settings, event)
        await eventually(
            lambda: read_dead_letters(js, settings, consumer=consumer.name),
            lambda ls: len(ls) == 4,
            within=60,
        )
    projection.failing.clear()
    one, other = await asyncio.gather(
        redrive(js, settings, pool, consumer), redrive(js, settings, pool, consumer)
    )
    assert sorted(one.applied + other.applied) == sorted(set(one.applied + other.applied)), (
        "each applied once"
    )
    assert len(one.applied) + len(other.applied) == 4
    assert one.not_removed == other.not_removed == [] and one.still_failing == other.still_failing == []
    assert await counts(pool) == {f"client-{n}": 1 for n in range(4)}
    assert await read_dead_letters(js, settings, consumer=consumer.name) == []
