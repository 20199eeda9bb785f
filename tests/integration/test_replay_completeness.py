"""Replay is complete, or it does not switch over (architecture decision 12, ADR 0014):
beyond the old client-side pending limit, with messages deleted from the stream, across a
broker pause, and with a broker that stays away longer than the replay's patience."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from typing import Any

import asyncpg
import pytest

from contracts.subjects import events_wildcard
from runtime.config import Settings
from runtime.log_reader import FETCH_TIMEOUT, PATIENCE, LogReader
from runtime.replay import Progress, ReplayReport, rebuild_and_switch
from runtime.streams import connect_nats, ensure_streams
from services.reporting.projections import MIGRATIONS, ReportingProjection
from tests.support.apps import eventually
from tests.support.cli import cli_env
from tests.support.replay_logs import (
    client_stories,
    differing,
    log_of,
    own_nats,
    project_live,
    publish_log,
    schema_exists,
    stories_of_at_least,
    table_digests,
)

pytestmark = pytest.mark.integration

#: nats-py's pending limit that the replay's old ordered subscription used
OLD_PENDING_LIMIT = 50_000


async def replay_reporting(
    pool: asyncpg.Pool, settings: Settings, *, progress: Progress | None = None, patience: float = PATIENCE
) -> ReplayReport:
    nc = await connect_nats(settings.nats_url, name="test-replay")
    try:
        return await rebuild_and_switch(
            pool,
            nc.jetstream(),
            settings,
            live_schema="reporting",
            migrations=MIGRATIONS,
            projection=ReportingProjection,
            progress=progress,
            patience=patience,
        )
    finally:
        await nc.close()


async def test_a_stream_with_deleted_messages_replays_and_counts_them_as_deleted(
    settings, pool, nats_client
) -> None:
    js = nats_client.jetstream()
    stories = client_stories(12)
    # Story by story: the first client's events open the log and the last one's close it.
    events = [e for s in stories for e in s.events]
    published = await publish_log(js, settings, events)
    gone = {s.client_id for s in (stories[0], stories[5], stories[-1])}
    deleted = [seq for envelope, seq in published if envelope.subject in gone]
    for seq in deleted:
        assert await js.delete_msg(settings.events_stream, seq)
    kept = [(envelope, seq) for envelope, seq in published if envelope.subject not in gone]
    assert deleted[0] == 1 and deleted[-1] == published[-1][1], "the first and the last are deleted"
    await project_live(pool, settings, kept)
    live = await table_digests(pool)

    report = await replay_reporting(pool, settings)

    assert differing(live, await table_digests(pool)) == {}
    assert (report.events, report.applied, report.invalid) == (len(kept), len(kept), 0)
    assert (report.deleted, report.duplicates) == (len(deleted), 0)
    assert report.events + report.deleted == report.last_seq == published[-1][1]


async def test_the_read_notices_messages_dropped_in_the_client_and_reads_them_again(
    settings, nats_client
) -> None:
    js = nats_client.jetstream()
    subject = f"{settings.namespace}.events.test.centre.mikkeli.Raw"
    acks = [await js.publish_async(subject, b"x" * 200) for _ in range(1_000)]
    await asyncio.gather(*acks)
    deleted = {1, 500, 501, 1_000}
    for seq in deleted:
        assert await js.delete_msg(settings.events_stream, seq)
    # A client buffer of 100 for fetches of 500: nats-py drops what does not fit.
    reader = LogReader(
        js,
        stream=settings.events_stream,
        subject=events_wildcard(settings.namespace),
        after_seq=0,
        until_seq=1_000,
        batch=500,
        fetch_timeout=0.5,
        pending_msgs_limit=100,
    )
    read = [seq for batch in [b async for b in reader.batches()] for seq, _ in batch]

    assert read == [seq for seq in range(1, 1_001) if seq not in deleted]
    assert (reader.counts.read, reader.counts.deleted) == (996, 4)
    assert reader.counts.resumed > 0, "messages were dropped, noticed, and read again"


@pytest.mark.slow
async def test_a_replay_of_a_log_beyond_the_old_pending_limit_equals_the_live_projections(
    settings, pool, nats_client
) -> None:
    js = nats_client.jetstream()
    published = await publish_log(js, settings, log_of(stories_of_at_least(OLD_PENDING_LIMIT + 1_000)))
    assert len(published) > OLD_PENDING_LIMIT
    await project_live(pool, settings, published, batch_size=1_000)
    live = await table_digests(pool)
    assert live["consumed_events"]["rows"] == len(published)

    report = await replay_reporting(pool, settings)

    assert differing(live, await table_digests(pool)) == {}
    assert (report.events, report.applied, report.deleted) == (len(published), len(published), 0)


async def publish_and_project(
    settings: Settings, pool: asyncpg.Pool, stories: int
) -> tuple[int, dict[str, Any]]:
    """A log on the (test's own) broker of ``settings``, and the live projection of it."""
    nc = await connect_nats(settings.nats_url, name="test-replay-log")
    try:
        js = nc.jetstream()
        await ensure_streams(js, settings)
        published = await publish_log(js, settings, log_of(client_stories(stories)))
    finally:
        await nc.close()
    await project_live(pool, settings, published)
    return len(published), await table_digests(pool)


@pytest.mark.slow
async def test_a_replay_across_a_broker_pause_resumes_and_equals_live(settings, pool) -> None:
    with own_nats() as broker:
        assert broker.proc is not None
        pid = broker.proc.pid
        ours = settings.with_(nats_url=broker.url)
        # A few fetched batches (500 events each): the pause comes after the first.
        events, live = await publish_and_project(ours, pool, 250)
        loop = asyncio.get_running_loop()
        paused: list[ReplayReport] = []

        def pause_once(done: ReplayReport, until: int) -> None:
            # Right after the first batch is applied, the broker stops for longer than a
            # fetch waits, so the read must notice the stall and resume.
            if not paused:
                paused.append(done)
                os.kill(pid, signal.SIGSTOP)
                loop.call_later(FETCH_TIMEOUT + 2, os.kill, pid, signal.SIGCONT)

        # The patience (120 s) outlasts the pause, so the replay must resume and complete:
        # failing here would be the replay giving up on a broker it was built to wait for
        # (giving up past the patience is the next test's).
        try:
            report = await replay_reporting(pool, ours, progress=pause_once, patience=120)
        finally:
            os.kill(pid, signal.SIGCONT)
        assert paused and paused[0].events < events, "the pause came in the middle of the read"
        assert differing(live, await table_digests(pool)) == {}
        assert (report.events, report.applied, report.deleted) == (events, events, 0)
        assert report.resumed >= 1, "the read noticed the pause and resumed"


@pytest.mark.slow
async def test_a_broker_away_longer_than_the_patience_fails_the_replay_command_and_leaves_live_untouched(
    settings, pool
) -> None:
    with own_nats() as broker:
        assert broker.proc is not None
        pid = broker.proc.pid
        ours = settings.with_(nats_url=broker.url)
        events, live = await publish_and_project(ours, pool, 1_400)

        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "reitti.cli",
            "replay",
            "reporting",
            "--patience",
            "3",
            env=cli_env(ours),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:

            async def rebuilt_so_far() -> int:
                try:
                    return int(await pool.fetchval("SELECT count(*) FROM reporting_rebuild.consumed_events"))
                except asyncpg.UndefinedTableError:
                    return 0

            # Stop the broker once the rebuild has applied something, and before it is done.
            assert await eventually(rebuilt_so_far, lambda n: n > 0, within=60)
            os.kill(pid, signal.SIGSTOP)
            stopped = time.monotonic()
            assert await rebuilt_so_far() < events, "stopped in the middle of the read"
            with_broker_away = asyncio.create_task(proc.communicate())
            await asyncio.wait({with_broker_away}, timeout=30)
            os.kill(pid, signal.SIGCONT)  # let the command close its connection
            out, err = await asyncio.wait_for(with_broker_away, timeout=60)
        finally:
            os.kill(pid, signal.SIGCONT)
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        assert time.monotonic() - stopped < 90
        assert proc.returncode == 1, (out.decode(), err.decode())
        assert "replay incomplete" in err.decode() and "live projections are unchanged" in err.decode()
        assert "switched over" not in out.decode()
        assert await table_digests(pool) == live, "live untouched"
        assert not await schema_exists(pool, "reporting_rebuild"), "the partial rebuild is dropped"
