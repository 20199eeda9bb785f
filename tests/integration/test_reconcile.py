"""Reconciling JetStream with PostgreSQL (architecture decision 11, docs/adr/0015): what
the stream lost is published again from the event store, once, through the outbox and
the relay; nothing is published when nothing is lost; two reconcilers at once queue and
publish nothing twice."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import asyncpg
import pytest
from nats.js.api import ConsumerConfig, DeliverPolicy

from contracts.subjects import events_wildcard
from runtime.eventstore import EventStore
from runtime.reconcile import Reconciler, ReconcileReport, event_id_of
from runtime.relay import OutboxRelay
from tests.support.cli import reitti
from tests.support.factories import client_referred

pytestmark = pytest.mark.integration

SCHEMA = "intake"


async def stream_messages(js, settings) -> list[tuple[int, str, str]]:
    """Every message in the events stream: (sequence, subject, Nats-Msg-Id)."""
    info = await js.stream_info(settings.events_stream)
    if info.state.messages == 0:
        return []
    sub = await js.subscribe(
        events_wildcard(settings.namespace),
        stream=settings.events_stream,
        ordered_consumer=True,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
    )
    out = []
    try:
        for _ in range(info.state.messages):
            msg = await sub.next_msg(timeout=5)
            out.append((msg.metadata.sequence.stream, msg.subject, msg.headers["Nats-Msg-Id"]))
    finally:
        await sub.unsubscribe()
    return out


async def copies_by_event(js, settings) -> Counter[str]:
    """How many messages the stream holds of each event id."""
    return Counter(event_id_of(msg_id) for _, _, msg_id in await stream_messages(js, settings))


async def stored_events(pool, settings, *, streams: int = 3, versions: int = 2) -> list[str]:
    """Events of ``streams`` clients in two municipalities, relayed; their ids in order."""
    store = EventStore(pool, schema=SCHEMA, namespace=settings.namespace, source="/reitti/intake")
    ids = []
    for n in range(streams):
        stream_id = f"client-{n}-{time.monotonic_ns()}"
        municipality = "Mikkeli" if n % 2 == 0 else "Puumala"
        events = [client_referred(stream_id, v, municipality=municipality) for v in range(1, versions + 1)]
        await store.append(stream_id, 0, events)
        ids += [str(e.event_id) for e in events]
    return ids


def reconciler(pool, js, settings) -> Reconciler:
    return Reconciler(pool, js, settings, schema=SCHEMA, service="intake")


def relay(pool, js, settings) -> OutboxRelay:
    return OutboxRelay(pool, js, schema=SCHEMA, stream=settings.events_stream)


async def test_messages_deleted_from_the_stream_are_published_again_from_postgres_once(
    pool, settings, nats_client
) -> None:
    js = nats_client.jetstream()
    ids = await stored_events(pool, settings)
    assert await relay(pool, js, settings).drain() == len(ids)
    messages = await stream_messages(js, settings)
    # One message deleted, and every message on one subject (Puumala's) purged.
    deleted_seq, _, deleted_id = messages[0]
    await js.delete_msg(settings.events_stream, deleted_seq)
    purged = next(subject for _, subject, _ in messages if ".puumala." in subject)
    await js.purge_stream(settings.events_stream, subject=purged)
    lost = {deleted_id} | {msg_id for _, subject, msg_id in messages if subject == purged}
    assert len(lost) == 3 and not lost & set((await copies_by_event(js, settings)).keys())

    report = await reconciler(pool, js, settings).check()
    assert {m.event_id for m in report.missing} == lost
    assert report.queued == len(lost) and report.scanned == ["ClientReferred"]
    republisher = relay(pool, js, settings)
    assert await republisher.drain() == len(lost)
    # JetStream still remembered the ids (its duplicate window): the relay saw that the
    # copies they named were gone, and published them again.
    assert republisher.stats.restored == len(lost)
    assert await copies_by_event(js, settings) == Counter({event_id: 1 for event_id in ids})
    # ... each on the subject it had
    subjects = {event_id_of(m): s for _, s, m in await stream_messages(js, settings)}
    assert subjects[deleted_id] == messages[0][1] and {subjects[i] for i in lost - {deleted_id}} == {purged}

    again = await reconciler(pool, js, settings).check()
    assert again.missing == [] and again.scanned == [] and again.queued == 0
    assert await relay(pool, js, settings).drain() == 0


async def test_the_reconcile_command_publishes_what_the_stream_lost(pool, settings, nats_client) -> None:
    js = nats_client.jetstream()
    ids = await stored_events(pool, settings, streams=2)
    await relay(pool, js, settings).drain()
    seq, _, lost = (await stream_messages(js, settings))[1]
    await js.delete_msg(settings.events_stream, seq)

    code, out, err = await reitti(settings, "reconcile")
    assert code == 0, err
    assert "intake: 1 events of 1 client streams missing from JetStream; 1 queued" in out
    assert f"ClientReferred {lost}" in out and "intake: published 1 events" in out
    assert "guidance: nothing missing" in out and "reporting: nothing missing" in out
    assert await copies_by_event(js, settings) == Counter({event_id: 1 for event_id in ids})

    code, out, _ = await reitti(settings, "reconcile", "intake", "--full")
    assert code == 0 and "intake: nothing missing" in out and "published" not in out
    code, _, err = await reitti(settings, "reconcile", "billing")
    assert code == 2 and "no service billing" in err


async def test_nothing_is_published_again_when_nothing_is_missing(pool, settings, nats_client) -> None:
    js = nats_client.jetstream()
    ids = await stored_events(pool, settings)
    await relay(pool, js, settings).drain()
    # One event not published yet (still in the outbox) is not missing either.
    [pending] = await stored_events(pool, settings, streams=1, versions=1)
    before = (await js.stream_info(settings.events_stream)).state.last_seq

    report = await reconciler(pool, js, settings).check()
    assert report == ReconcileReport("intake", compared=1)  # counts agree: no scan
    full = await reconciler(pool, js, settings).check(full=True)
    assert full.scanned == ["ClientReferred"] and full.missing == [] and full.queued == 0
    assert await pool.fetchval("SELECT count(*) FROM intake.outbox") == 1
    assert (await js.stream_info(settings.events_stream)).state.last_seq == before

    assert await relay(pool, js, settings).drain() == 1
    assert await copies_by_event(js, settings) == Counter({event_id: 1 for event_id in [*ids, pending]})


async def _waiting_for_advisory_lock(pool) -> bool:
    waiting = """SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"""
    return bool(await pool.fetchval(waiting))


class PausedBeforeQueueing(Reconciler):
    """A reconciler that has found what is missing and stops there until released: the
    worst moment for a second reconciler to run."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.found = asyncio.Event()
        self.release = asyncio.Event()

    async def _queue(self, conn: asyncpg.Connection, report: ReconcileReport) -> None:
        self.found.set()
        await self.release.wait()
        await super()._queue(conn, report)


async def test_two_reconcilers_at_once_queue_and_publish_each_lost_event_once(
    pool, settings, nats_client
) -> None:
    js = nats_client.jetstream()
    ids = await stored_events(pool, settings)
    await relay(pool, js, settings).drain()
    messages = await stream_messages(js, settings)
    for seq, _, _ in messages[:4]:
        await js.delete_msg(settings.events_stream, seq)

    async with asyncpg.create_pool(settings.database_url, min_size=1, max_size=4) as other_pool:
        first = PausedBeforeQueueing(pool, js, settings, schema=SCHEMA, service="intake")
        second = reconciler(other_pool, js, settings)
        one = asyncio.create_task(first.check())
        await asyncio.wait_for(first.found.wait(), timeout=30)
        two = asyncio.create_task(second.check())
        # The second one runs while the first has found the losses but queued nothing;
        # with the lock it waits for the first (it may not even start without one).
        deadline = time.monotonic() + 30
        while not (two.done() or await _waiting_for_advisory_lock(pool)):
            assert time.monotonic() < deadline, "the second reconciler neither finished nor waited"
            await asyncio.sleep(0.02)
        # Whatever the second one queued is published before the first queues.
        await relay(pool, js, settings).drain()
        first.release.set()
        reports = await asyncio.wait_for(asyncio.gather(one, two), timeout=30)
    await relay(pool, js, settings).drain()

    assert sum(r.queued for r in reports) == 4, reports
    assert await copies_by_event(js, settings) == Counter({event_id: 1 for event_id in ids})
    assert (await reconciler(pool, js, settings).check()).missing == []
