"""What sealing reporting's personal text costs (docs/adr/0020): the whole reporting
projection's ``apply_batch`` over whole client stories (plans, health checks, transfers,
closures: every sealed column is written), sealed as it runs, next to the same
projection with sealing switched off (values written as they are, no key query), in the
same run on the same server. The ratio is sealed / unsealed events per second.

    python -m bench.sealing            # 300 clients (about 4,500 events), 3 repetitions
    python -m bench.sealing --clients 100 --repeat 1
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import time
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from typing import Any
from unittest import mock

import asyncpg

from bench.foundation import fresh_database, servers
from contracts.base import EventBase
from contracts.envelope import CloudEventEnvelope
from contracts.guidance import Outcome
from contracts.intake import ConsentScope
from runtime import erasure
from runtime.db import apply_migrations, event_store_migrations
from runtime.sealing import Sealer
from services.reporting import projections, side_partitions
from services.reporting.feeds import FeedPublisher
from services.reporting.projections import MIGRATIONS, ReportingProjection
from tests.support.reporting_events import SOURCES, Story, interleaved

BATCH = 200


def stories(clients: int) -> list[Story]:
    """Clients taken through the whole centre: every sealed column gets values."""
    out = []
    for n in range(clients):
        story = Story("Mikkeli")
        day = date(2010, 1, 4) + timedelta(days=n % 200)
        story.referred(day)
        story.consent(day)
        story.consent(
            day,
            "consent-2",
            (ConsentScope.DISCLOSURE_TO_ORGANISATIONS,),
            organisations=("social_services:mikkeli",),
        )
        story.assessed(day + timedelta(days=10))
        story.opened(day + timedelta(days=10))
        story.guide(day + timedelta(days=12))
        story.plan(day + timedelta(days=20), "work_try_out", "health_check")
        story.health_summary(day + timedelta(days=25))
        story.health_details(day + timedelta(days=25), f"details of client {n}")
        story.transferred(day + timedelta(days=40))
        story.acknowledged(day + timedelta(days=41))
        story.returned(day + timedelta(days=90))
        story.closed(day + timedelta(days=150), Outcome.EDUCATION)
        story.final_assessment(day + timedelta(days=150), Outcome.EDUCATION)
        out.append(story)
    return out


@contextlib.contextmanager
def unsealed() -> Iterator[None]:
    """The baseline: the same projection with values written and read as they are."""

    async def no_keys(conn: asyncpg.Connection, client_ids: Any) -> Sealer:
        return Sealer({})

    def as_is(self: Sealer, client_id: str, value: str | None, aad: bytes) -> str | None:
        return value

    with (
        mock.patch.object(Sealer, "seal", as_is),
        mock.patch.object(Sealer, "open", as_is),
        mock.patch.object(projections, "sealer_for", no_keys),
        mock.patch.object(side_partitions, "sealer_for", no_keys),
    ):
        yield


async def project(pool: asyncpg.Pool, events: Sequence[EventBase], schema: str) -> tuple[float, float]:
    """Events per second through ``ReportingProjection.apply_batch``, BATCH per transaction,
    with partner feeds queued, as the live consumer applies them; and this process's CPU
    time per event (µs), which sealing adds to and a busy machine disturbs less."""
    projection = ReportingProjection(schema, feeds=FeedPublisher("bench", schema=f"{schema}_feeds"))
    items = [(e, CloudEventEnvelope.wrap(e, source=SOURCES[e.producer])) for e in events]
    async with pool.acquire() as conn:
        await apply_migrations(conn, schema, MIGRATIONS)
        await apply_migrations(conn, f"{schema}_feeds", event_store_migrations())
        started, cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(items), BATCH):
            async with conn.transaction():
                await projection.apply_batch(conn, items[start : start + BATCH])
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return len(items) / elapsed, cpu / len(items) * 1e6


async def run(clients: int, repeat: int, admin_url: str) -> dict[str, Any]:
    async with fresh_database(admin_url) as url:
        pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
        try:
            async with pool.acquire() as conn:
                await apply_migrations(conn, erasure.KEYS_SCHEMA, erasure.key_vault_migrations())
            sealed_runs: list[tuple[float, float]] = []
            plain_runs: list[tuple[float, float]] = []
            for r in range(repeat):
                events = interleaved(stories(clients))
                async with pool.acquire() as conn:
                    for client_id in sorted({e.stream_id for e in events}):
                        await erasure.set_legal_hold(conn, client_id, False)
                # alternate which goes first, so neither always meets a warmer server
                for sealing in (r % 2 == 0, r % 2 == 1):
                    if sealing:
                        sealed_runs.append(await project(pool, events, f"sealed_{r}"))
                    else:
                        with unsealed():
                            plain_runs.append(await project(pool, events, f"plain_{r}"))
                print(
                    f"  run {r + 1}: {len(events)} events, unsealed {plain_runs[-1][0]:,.0f}/s "
                    f"({plain_runs[-1][1]:,.0f} µs CPU each), sealed {sealed_runs[-1][0]:,.0f}/s "
                    f"({sealed_runs[-1][1]:,.0f} µs CPU each)"
                )
        finally:
            await pool.close()
    sealed, plain = (statistics.median(r for r, _ in runs) for runs in (sealed_runs, plain_runs))
    sealed_cpu, plain_cpu = (statistics.median(c for _, c in runs) for runs in (sealed_runs, plain_runs))
    return {
        "events": len(events),
        "sealed": sealed,
        "unsealed": plain,
        "ratio": sealed / plain,
        "sealed_cpu_us": sealed_cpu,
        "unsealed_cpu_us": plain_cpu,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    opts = parser.parse_args(argv)
    with servers() as found:
        result = asyncio.run(run(opts.clients, opts.repeat, found.admin_url))
    print(
        f"reporting apply_batch over {result['events']} events, {BATCH} per transaction (medians): "
        f"unsealed {result['unsealed']:,.0f}/s, sealed {result['sealed']:,.0f}/s, "
        f"ratio {result['ratio']:.2f}; CPU of this process per event: unsealed "
        f"{result['unsealed_cpu_us']:,.0f} µs, sealed {result['sealed_cpu_us']:,.0f} µs, "
        f"ratio {result['unsealed_cpu_us'] / result['sealed_cpu_us']:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
