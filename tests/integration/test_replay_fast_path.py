"""Replay's fast path into a fresh schema (ADR 0046) gives the live rows: with the cases
and the audit chains' heads held in memory between batches and written out part way
(the memory bound), and with the indexes that the apply does not use built after the
load, the same indexes as the migrations make; and a batch that fails while the next one
is being decoded stops the rebuild."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from runtime.config import Settings
from runtime.replay import rebuild
from services.reporting import audit, side_partitions
from services.reporting.projections import MIGRATIONS, ReportingProjection
from tests.support.replay_logs import (
    client_keys,
    client_stories,
    differing,
    log_of,
    project_live,
    publish_log,
    schema_exists,
    store_keys,
    table_digests,
)

pytestmark = pytest.mark.integration

INDEXES = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname"


async def sealed_log(pool: asyncpg.Pool, settings: Settings, js: Any, stories: int) -> int:
    """Whole client stories, sealed under their clients' keys, published and projected live."""
    made = client_stories(stories)
    keys = client_keys(made)
    await store_keys(pool, keys)
    published = await publish_log(js, settings, log_of(made), keys)
    await project_live(pool, settings, published, batch_size=100)
    return len(published)


async def test_a_rebuild_that_writes_its_held_cases_out_part_way_equals_live(
    settings, pool, nats_client, monkeypatch
) -> None:
    js = nats_client.jetstream()
    events = await sealed_log(pool, settings, js, 60)
    live = await table_digests(pool)
    # Hold at most a few clients and chains, so the rebuild writes them out after nearly
    # every batch and loads them back (their sealed facts opened) when their next event comes.
    monkeypatch.setattr(side_partitions, "BULK_CASES", 7)
    monkeypatch.setattr(audit, "BULK_HEADS", 5)
    flushes = 0
    flush = side_partitions.SidePartitions._flush_bulk

    async def counted(self: side_partitions.SidePartitions, conn: Any, bulk: Any) -> None:
        nonlocal flushes
        flushes += 1
        await flush(self, conn, bulk)

    monkeypatch.setattr(side_partitions.SidePartitions, "_flush_bulk", counted)

    report = await rebuild(
        pool,
        js,
        settings,
        target_schema="reporting_rebuild",
        migrations=MIGRATIONS,
        projection=ReportingProjection,
        batch_size=40,
    )

    assert (report.events, report.applied) == (events, events)
    assert flushes > events // 40, "the held cases were written out part way, batch after batch"
    assert differing(live, await table_digests(pool, "reporting_rebuild")) == {}


async def test_a_rebuild_builds_the_indexes_it_deferred_the_same_as_the_migrations(
    settings, pool, nats_client
) -> None:
    js = nats_client.jetstream()
    await sealed_log(pool, settings, js, 5)

    await rebuild(
        pool,
        js,
        settings,
        target_schema="reporting_rebuild",
        migrations=MIGRATIONS,
        projection=ReportingProjection,
    )

    live = {r["indexname"]: r["indexdef"] for r in await pool.fetch(INDEXES, "reporting")}
    rebuilt = {
        r["indexname"]: r["indexdef"].replace("reporting_rebuild.", "reporting.")
        for r in await pool.fetch(INDEXES, "reporting_rebuild")
    }
    deferred = set(ReportingProjection.deferred_indexes)
    assert deferred <= set(live), "every deferred index is one of the schema's"
    assert rebuilt == live


class FailsAtThirdBatch(ReportingProjection):
    """The reporting projection, failing in its third batch (a database error, a bug)."""

    batches = 0

    async def apply_batch(self, conn: asyncpg.Connection, items: Any) -> None:
        FailsAtThirdBatch.batches += 1
        if FailsAtThirdBatch.batches == 3:
            raise RuntimeError("the third batch fails")
        await super().apply_batch(conn, items)


async def test_a_commit_that_fails_while_the_next_batch_is_decoded_stops_the_rebuild_and_drops_it(
    settings, pool, nats_client
) -> None:
    js = nats_client.jetstream()
    await sealed_log(pool, settings, js, 30)
    FailsAtThirdBatch.batches = 0

    with pytest.raises(RuntimeError, match="the third batch fails"):
        await rebuild(
            pool,
            js,
            settings,
            target_schema="reporting_rebuild",
            migrations=MIGRATIONS,
            projection=FailsAtThirdBatch,
            batch_size=40,
        )

    assert FailsAtThirdBatch.batches == 3, "no batch is applied after the one that failed"
    assert not await schema_exists(pool, "reporting_rebuild"), "the partial rebuild is dropped"
