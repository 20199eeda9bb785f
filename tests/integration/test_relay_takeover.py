"""A relay that stops while it holds the outbox's turn does not stop publishing: its
session's timeouts, or a waiting relay, end its turn within a bounded time, and when it
wakes up it loses and doubles nothing (docs/adr/0016)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import asyncpg
import pytest

from runtime.eventstore import EventStore
from runtime.relay import OutboxRelay
from tests.integration.test_relay import stream_event_ids
from tests.support.factories import client_referred

pytestmark = pytest.mark.integration

RELAY_ACK_TIMEOUT = 1.0  # so the frozen relay's session ends after 2 s, a stuck one after 4 s

# Who holds intake's relay turn in this test's database (a two-key advisory lock).
HOLDER = """
SELECT a.pid, a.application_name, a.state FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
  AND l.classid = hashtext('reitti.relay')::oid AND l.objid = hashtext('intake')::oid
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


def start_relay(settings) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        REITTI_NATS_URL=settings.nats_url,
        REITTI_DATABASE_URL=settings.database_url,
        REITTI_NAMESPACE=settings.namespace,
        REITTI_RELAY_ACK_TIMEOUT=str(RELAY_ACK_TIMEOUT),
    )
    return subprocess.Popen(
        [sys.executable, "-m", "reitti.cli", "relay", "intake"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def outbox_size(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM intake.outbox"))


async def append_backlog(pool, settings, clients: int, per_client: int, prefix: str = "client") -> list[str]:
    es = EventStore(pool, schema="intake", namespace=settings.namespace, source="/test")
    appended: list[str] = []
    for n in range(clients):
        events = [client_referred(f"{prefix}-{n}", v) for v in range(1, per_client + 1)]
        await es.append(f"{prefix}-{n}", 0, events)
        appended.extend(str(e.event_id) for e in events)
    return appended


async def freeze_while_holding_the_turn(pool, relay: subprocess.Popen[bytes]) -> int:
    """SIGSTOP ``relay`` at a moment its backend holds the turn (checked after the stop:
    a stop between two batches is undone and tried again); returns that backend's pid."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert relay.poll() is None, "the relay exited"
        holder = await pool.fetchrow(HOLDER)
        if holder is not None and holder["application_name"] == "reitti-relay-intake":
            relay.send_signal(signal.SIGSTOP)
            still = await pool.fetchrow(HOLDER)
            if still is not None and still["pid"] == holder["pid"]:
                return int(holder["pid"])
            relay.send_signal(signal.SIGCONT)
        await asyncio.sleep(0.005)
    raise AssertionError("the relay never held the turn")


@pytest.mark.slow
async def test_a_frozen_relay_holding_the_turn_does_not_stop_another_from_publishing(
    pool, settings, nats_client
) -> None:
    js = nats_client.jetstream()
    appended = await append_backlog(pool, settings, clients=60, per_client=100)
    frozen = start_relay(settings)
    standby: subprocess.Popen[bytes] | None = None
    try:
        backend = await freeze_while_holding_the_turn(pool, frozen)
        left = await outbox_size(pool)
        assert left > 0, "the frozen relay still had rows to publish"

        standby = start_relay(settings)
        deadline = time.monotonic() + 45
        while await outbox_size(pool) > 0:
            assert standby.poll() is None, "the standby relay exited"
            assert time.monotonic() < deadline, (
                f"the outbox did not drain while the relay holding the turn was frozen "
                f"({await outbox_size(pool)} of {left} rows left)"
            )
            await asyncio.sleep(0.1)
        sessions = await pool.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", backend)
        assert sessions == 0, "the frozen relay's session was ended"

        # The frozen relay wakes up: its batch's delete fails, nothing more happens.
        frozen.send_signal(signal.SIGCONT)
        late = await append_backlog(pool, settings, clients=1, per_client=5, prefix="late")
        deadline = time.monotonic() + 30
        while await outbox_size(pool) > 0:
            assert time.monotonic() < deadline, "the late events were not published"
            await asyncio.sleep(0.1)
        assert frozen.poll() is None, "the woken relay keeps running"
    finally:
        for relay in (frozen, standby):
            if relay is not None and relay.poll() is None:
                relay.send_signal(signal.SIGCONT)
                relay.terminate()
                relay.wait(timeout=20)
    ids = await stream_event_ids(js, settings)
    assert len(ids) == len(set(ids)), "no event is in the stream twice"
    assert set(ids) == set(appended + late), "every event is in the stream"


async def test_a_holder_stuck_where_its_timeouts_cannot_reach_is_ended_by_a_waiting_relay(
    pool, settings, nats_client
) -> None:
    js = nats_client.jetstream()
    appended = await append_backlog(pool, settings, clients=2, per_client=3)
    relay = OutboxRelay(pool, js, schema="intake", stream=settings.events_stream, ack_timeout=0.5)

    # A holder that is busy, not idle: its own statement runs on, with no timeouts of its own.
    stuck = await pool.acquire()
    tx = stuck.transaction()
    await tx.start()
    await stuck.execute("SET LOCAL statement_timeout = 0")
    await stuck.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
    await stuck.execute("SELECT pg_advisory_xact_lock(hashtext('reitti.relay'), hashtext('intake'))")
    stuck_pid = stuck.get_server_pid()
    sleeping = asyncio.create_task(stuck.execute("SELECT pg_sleep(60)"))
    try:
        assert await relay.publish_batch() == 0, "the turn is taken"
        deadline = time.monotonic() + 30
        published = 0
        while not published:
            assert time.monotonic() < deadline, "the stuck holder kept the turn"
            published = await relay.publish_batch()
            await asyncio.sleep(0.05)
        assert published == len(appended)
        with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError, OSError)):
            await sleeping
        assert await pool.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", stuck_pid) == 0
    finally:
        if not sleeping.done():
            sleeping.cancel()
        await pool.release(stuck, timeout=5)
    assert sorted(await stream_event_ids(js, settings)) == sorted(appended)
