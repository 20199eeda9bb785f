"""The FastStream decision, measured (issue 13, ADR 0034): reporting's live consumer
(``ExactlyOnceConsumer`` over ``ReportingProjection`` with partner feeds, ADR 0002)
behind FastStream's batch pull subscriber (``PullSub(batch=True)``, ``AckPolicy.MANUAL``)
against today's nats-py path (``runtime.subscribers.DurableSubscription``), on the same
backlog of whole, sealed client stories. A raw nats-py pull fetch with acks, nothing
applied, is the baseline of the same run.

Run from the repository root::

    python -m bench.faststream_batch [--events N] [--repeat R] [--json PATH]

Servers as in ``bench.foundation`` (embedded by default, or both REITTI_* URLs), with a
fresh database and namespace, removed at the end. Each run applies the whole backlog into
a reporting schema of its own (and a feeds schema of its own), through a durable consumer
of its own; the two paths alternate which goes first. Exits 1 if a path did not apply
every event exactly once or the two paths' tables differ.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import importlib.metadata
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import asyncpg
from faststream import AckPolicy, Context
from faststream.nats import ConsumerConfig, DeliverPolicy, JStream, NatsBroker, PullSub
from nats.js import JetStreamContext

from bench.foundation import bench_settings, delete_streams, fresh_database, servers
from contracts.subjects import events_wildcard
from reitti.preparation import prepare_everything
from runtime.config import Settings
from runtime.consumer import BATCH_SIZE, ExactlyOnceConsumer, jetstream_max_deliver
from runtime.db import apply_migrations, create_pool
from runtime.heartbeat import heartbeat_interval, heartbeats
from runtime.sql import quote_ident
from runtime.streams import connect_nats
from runtime.subscribers import MAX_ACK_PENDING, DurableSubscription
from services.reporting.app import OTHER_SCHEMAS
from services.reporting.feeds import FEEDS_SCHEMA, FeedPublisher
from services.reporting.projections import MIGRATIONS, ReportingProjection
from tests.support.replay_logs import (
    client_keys,
    differing,
    log_of,
    publish_log,
    store_keys,
    stories_of_at_least,
    table_digests,
)

#: how long FastStream's batch subscriber waits to fill a batch (its default is 5 s,
#: which a live consumer cannot afford: the last events of a burst would wait that long)
BATCH_TIMEOUT = 0.05
#: how often the bench looks whether a run has applied everything
POLL = 0.005


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def pull_config(settings: Settings, durable: str) -> ConsumerConfig:
    """The live consumer's settings (runtime/subscribers.py) as a pull consumer, which
    has no deliver group: replicas share a pull consumer by fetching from it."""
    return ConsumerConfig(
        durable_name=durable,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=settings.ack_wait,
        max_deliver=jetstream_max_deliver(settings.max_deliver),
        max_ack_pending=MAX_ACK_PENDING,
    )


def faststream_batch_broker(settings: Settings, durable: str, consumer: ExactlyOnceConsumer) -> NatsBroker:
    """A FastStream broker whose batch pull subscriber hands each fetched batch, in
    order, to ``consumer.handle_batch`` under the same heartbeats as the nats-py worker.
    Acks are manual: the consumer acks, NAKs or dead-letters each delivery itself. The
    decoder passes the bodies through (the consumer parses the envelopes itself), so
    FastStream does not JSON-decode every message only for it to be thrown away."""
    broker = NatsBroker(settings.nats_servers, logger=None)
    every = heartbeat_interval(settings.ack_wait)

    async def raw_bodies(msg: Any, original: Callable[..., Awaitable[Any]] | None = None) -> Any:
        return msg.body

    @broker.subscriber(
        events_wildcard(settings.namespace),
        stream=JStream(settings.events_stream, declare=False),
        durable=durable,
        config=pull_config(settings, durable),
        pull_sub=PullSub(batch_size=BATCH_SIZE, timeout=BATCH_TIMEOUT, batch=True),
        ack_policy=AckPolicy.MANUAL,
        decoder=raw_bodies,
    )
    async def apply(bodies: list[bytes], message: Annotated[Any, Context("message")]) -> None:
        batch = list(message.raw_message)
        async with heartbeats(functools.partial(list, batch), every=every):
            await consumer.handle_batch(batch)

    return broker


async def fresh_schemas(pool: asyncpg.Pool, run: str) -> tuple[str, str]:
    """A reporting schema and a feeds schema of this run's own, migrated."""
    schema, feeds = f"reporting_{run}", f"feeds_{run}"
    async with pool.acquire() as conn:
        await apply_migrations(conn, schema, MIGRATIONS)
        await apply_migrations(conn, feeds, OTHER_SCHEMAS[FEEDS_SCHEMA])
    return schema, feeds


async def drop_schemas(pool: asyncpg.Pool, *schemas: str) -> None:
    for schema in schemas:
        await pool.execute(f"DROP SCHEMA IF EXISTS {quote_ident(schema)} CASCADE")


async def until_applied(consumer: ExactlyOnceConsumer, total: int, limit: float) -> None:
    deadline = time.perf_counter() + limit
    while consumer.stats.applied + consumer.stats.duplicates < total:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{consumer.name}: {consumer.stats} after {limit:.0f} s, of {total}")
        await asyncio.sleep(POLL)


async def natspy_path(consumer: ExactlyOnceConsumer, settings: Settings, durable: str, total: int) -> float:
    """Today's path: a durable push subscription on a connection of its own, as a
    service host has one; the callback queues, the consumer's worker applies batches."""
    nc = await connect_nats(settings.nats_url, name="bench-natspy")
    subscription = DurableSubscription(settings, durable, lambda: consumer)
    try:
        started = time.perf_counter()
        await subscription.start(nc.jetstream())
        await until_applied(consumer, total, 600)
        seconds = time.perf_counter() - started
    finally:
        await subscription.stop()
        await nc.close()
    return seconds


async def faststream_path(
    consumer: ExactlyOnceConsumer, settings: Settings, durable: str, total: int
) -> float:
    broker = faststream_batch_broker(settings, durable, consumer)
    try:
        started = time.perf_counter()
        await broker.start()
        await until_applied(consumer, total, 600)
        seconds = time.perf_counter() - started
    finally:
        await broker.stop()
    return seconds


async def raw_pull(js: JetStreamContext, settings: Settings, durable: str, total: int) -> float:
    """The baseline: nats-py pull fetches of BATCH_SIZE, each message acked, nothing else."""
    started = time.perf_counter()
    sub = await js.pull_subscribe(
        events_wildcard(settings.namespace),
        durable=durable,
        stream=settings.events_stream,
        config=pull_config(settings, durable),
    )
    seen = 0
    while seen < total:
        msgs = await sub.fetch(batch=min(BATCH_SIZE, total - seen), timeout=5)
        for msg in msgs:
            await msg.ack()
        seen += len(msgs)
    seconds = time.perf_counter() - started
    await sub.unsubscribe()
    return seconds


PATHS = {"natspy": natspy_path, "faststream": faststream_path}


async def one_run(
    pool: asyncpg.Pool, js: JetStreamContext, settings: Settings, path: str, run: str, total: int
) -> tuple[float, dict[str, Any], dict[str, Any]]:
    schema, feeds = await fresh_schemas(pool, run)
    projection = ReportingProjection(schema, feeds=FeedPublisher(settings.namespace, schema=feeds))
    consumer = ExactlyOnceConsumer(pool=pool, js=js, settings=settings, projection=projection)
    durable = f"bench_{run}"
    try:
        seconds = await PATHS[path](consumer, settings, durable, total)
        stats = dict(vars(consumer.stats))
        digests = await table_digests(pool, schema)
    finally:
        await js.delete_consumer(settings.events_stream, durable)
        await drop_schemas(pool, schema, feeds)
    return total / seconds, stats, digests


async def measure(events: int, repeat: int, settings: Settings) -> dict[str, Any]:
    await prepare_everything(settings)
    pool = await create_pool(settings.database_url, min_size=2, max_size=10)
    nc = await connect_nats(settings.nats_url, name="reitti-bench-faststream")
    try:
        js = nc.jetstream()
        stories = stories_of_at_least(events)
        keys = client_keys(stories)
        await store_keys(pool, keys)
        items = await publish_log(js, settings, log_of(stories), keys)
        total = len(items)
        say(f"  backlog: {total:,} sealed events of {len(stories):,} clients")
        rates: dict[str, list[float]] = {"raw_pull": [], "natspy": [], "faststream": []}
        problems: list[str] = []
        first_digests: dict[str, Any] | None = None
        for r in range(repeat):
            raw = await raw_pull(js, settings, f"bench_raw_{r}", total)
            await js.delete_consumer(settings.events_stream, f"bench_raw_{r}")
            rates["raw_pull"].append(total / raw)
            order = ["natspy", "faststream"] if r % 2 == 0 else ["faststream", "natspy"]
            for path in order:
                rate, stats, digests = await one_run(pool, js, settings, path, f"{path}_{r}", total)
                rates[path].append(rate)
                if stats["applied"] != total or stats["duplicates"] or stats["dead_lettered"]:
                    problems.append(f"{path} run {r}: {stats}")
                first_digests = first_digests or digests
                if diff := differing(first_digests, digests):
                    problems.append(f"{path} run {r}: tables differ: {sorted(diff)}")
                say(f"  run {r}: {path:<10} {rate:>8,.0f} events/s  (raw pull {total / raw:,.0f}/s)")
        medians = {k: statistics.median(v) for k, v in rates.items()}
        return {
            "command": " ".join([Path(sys.executable).name, "-m", "bench.faststream_batch", *sys.argv[1:]]),
            "versions": {
                name: importlib.metadata.version(name) for name in ("faststream", "nats-py", "asyncpg")
            }
            | {
                "postgresql": str(await pool.fetchval("SHOW server_version")),
                "nats-server": str((getattr(nc, "_server_info", {}) or {}).get("version", "?")),
            },
            "events": total,
            "clients": len(stories),
            "batch_size": BATCH_SIZE,
            "batch_timeout": BATCH_TIMEOUT,
            "runs": rates,
            "medians": medians,
            "faststream_vs_natspy": medians["faststream"] / medians["natspy"],
            "natspy_vs_raw_pull": medians["natspy"] / medians["raw_pull"],
            "faststream_vs_raw_pull": medians["faststream"] / medians["raw_pull"],
            "problems": problems,
        }
    finally:
        await delete_streams(nc.jetstream(), settings)
        await nc.close()
        await pool.close()


def render(result: dict[str, Any]) -> str:
    runs, med = result["runs"], result["medians"]

    def row(label: str, key: str, ratio: str) -> str:
        figures = " / ".join(f"{r:,.0f}" for r in runs[key])
        return f"{label:<48} {med[key]:>9,.0f} events/s  {ratio:>6}  ({figures})"

    verdict = "MOVE MAY GO AHEAD" if result["faststream_vs_natspy"] >= 0.90 else "KEEP nats-py"
    return "\n".join(
        [
            f"FastStream batch pull vs nats-py: {result['events']:,} events of "
            f"{result['clients']:,} clients, batches of {result['batch_size']}",
            "versions: " + ", ".join(f"{k} {v}" for k, v in result["versions"].items()),
            row("raw nats-py pull fetch + ack (baseline)", "raw_pull", ""),
            row("reporting consumer, nats-py push (today)", "natspy", f"{result['natspy_vs_raw_pull']:.2f}"),
            row(
                "reporting consumer, FastStream PullSub(batch)",
                "faststream",
                f"{result['faststream_vs_raw_pull']:.2f}",
            ),
            f"FastStream / nats-py: {result['faststream_vs_natspy']:.3f} (threshold 0.90): {verdict}",
            "problems: " + ("; ".join(result["problems"]) or "none (every event applied once, tables equal)"),
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.faststream_batch", description=__doc__.split("\n\n")[0])
    p.add_argument("--events", "-n", type=int, default=30_000, help="at least N events (30000)")
    p.add_argument("--repeat", "-r", type=int, default=3, help="repetitions; medians reported (3)")
    p.add_argument("--json", type=Path, default=None, help="also write the figures as JSON here")
    args = p.parse_args(argv)

    async def run(nats_url: str, admin_url: str) -> dict[str, Any]:
        async with fresh_database(admin_url) as database_url:
            return await measure(args.events, max(1, args.repeat), bench_settings(nats_url, database_url))

    with servers() as found:
        result = asyncio.run(run(found.nats_url, found.admin_url))
    result["servers"] = found.kind
    print(render(result))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    return 0 if not result["problems"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
