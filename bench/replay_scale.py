"""Replay at scale (ADR 0014): a log of at least 200,000 events of whole client stories,
personal fields sealed under each client's key, is projected live and then replayed with
``runtime.replay.rebuild_and_switch`` (what ``reitti replay reporting`` runs); the
replayed projections must equal the live ones table by table. Prints the replay's
events/s and its ratio to a raw ordered read of the same stream in the same run.

Run from the repository root::

    python -m bench.replay_scale [--events N] [--json PATH]

Servers as in ``bench.foundation`` (embedded by default, or both REITTI_* URLs), with a
fresh database and namespace, removed at the end. Exits 1 if the replay differs.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy

from bench.foundation import bench_settings, delete_streams, fresh_database, servers
from contracts.subjects import events_wildcard
from reitti.preparation import prepare_everything
from runtime.config import Settings
from runtime.db import create_pool
from runtime.log_reader import LogReader
from runtime.replay import last_sequence, rebuild_and_switch
from runtime.streams import connect_nats
from services.reporting.projections import MIGRATIONS, ReportingProjection
from tests.support.replay_logs import (
    client_keys,
    client_stories,
    differing,
    log_of,
    project_live,
    publish_log,
    store_keys,
    table_digests,
)

#: clients generated, published and projected at a time (memory stays bounded)
CHUNK_CLIENTS = 2_000


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def versions_of(nc: Any, pool: Any) -> dict[str, str]:
    info: dict[str, Any] = getattr(nc, "_server_info", {}) or {}
    found = {"python": platform.python_version()}
    found.update({name: importlib.metadata.version(name) for name in ("asyncpg", "nats-py")})
    found["postgresql"] = str(await pool.fetchval("SHOW server_version"))
    found["nats-server"] = str(info.get("version", "?"))
    return found


async def raw_ordered_read(js: JetStreamContext, settings: Settings, total: int) -> float:
    """The whole stream through an ordered consumer and ``next_msg``, nothing done with
    the messages; the pending limit is above the stream's size, so nothing is dropped."""
    started = time.perf_counter()
    sub = await js.subscribe(
        events_wildcard(settings.namespace),
        stream=settings.events_stream,
        ordered_consumer=True,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
        pending_msgs_limit=total + 1_000,
        pending_bytes_limit=-1,
    )
    try:
        for _ in range(total):
            await sub.next_msg(timeout=30)
    finally:
        await sub.unsubscribe()
    return total / (time.perf_counter() - started)


async def raw_bounded_read(js: JetStreamContext, settings: Settings, total: int) -> float:
    """Replay's own read (``runtime.log_reader.LogReader``), nothing done with the
    messages: what the flow-controlled, checked read costs by itself (informative)."""
    started = time.perf_counter()
    reader = LogReader(
        js,
        stream=settings.events_stream,
        subject=events_wildcard(settings.namespace),
        after_seq=0,
        until_seq=total,
    )
    async for _ in reader.batches():
        pass
    if reader.counts.read != total:
        raise RuntimeError(f"the bounded read read {reader.counts.read} of {total}")
    return total / (time.perf_counter() - started)


async def build_log(pool: Any, js: JetStreamContext, settings: Settings, events: int) -> tuple[int, int]:
    """Publish whole, sealed client stories until ``events`` and project them live; the
    number of clients and of events."""
    clients = published = 0
    started = time.perf_counter()
    while published < events:
        stories = client_stories(CHUNK_CLIENTS)
        keys = client_keys(stories)
        await store_keys(pool, keys)
        items = await publish_log(js, settings, log_of(stories), keys)
        await project_live(pool, settings, items, batch_size=500)
        clients += len(stories)
        published += len(items)
        say(
            f"  {published:,} events of {clients:,} clients published and projected live "
            f"({time.perf_counter() - started:.0f} s)"
        )
    return clients, published


async def measure(events: int, settings: Settings) -> dict[str, Any]:
    await prepare_everything(settings)
    pool = await create_pool(settings.database_url, min_size=2, max_size=4)
    nc = await connect_nats(settings.nats_url, name="reitti-bench-replay")
    try:
        js = nc.jetstream()
        clients, published = await build_log(pool, js, settings, events)
        live = await table_digests(pool)
        total = await last_sequence(js, settings)
        say(f"  raw ordered read of {total:,} messages ...")
        raw_before = await raw_ordered_read(js, settings, total)
        say(f"  raw ordered read {raw_before:,.0f}/s; replay ...")
        report = await rebuild_and_switch(
            pool, js, settings, live_schema="reporting", migrations=MIGRATIONS, projection=ReportingProjection
        )
        say(f"  replay {report.events_per_second:,.0f}/s; raw ordered read again ...")
        raw_after = await raw_ordered_read(js, settings, total)
        bounded = await raw_bounded_read(js, settings, total)
        replayed = await table_digests(pool)
        raw = (raw_before + raw_after) / 2
        return {
            "command": " ".join([Path(sys.executable).name, "-m", "bench.replay_scale", *sys.argv[1:]]),
            "versions": await versions_of(nc, pool),
            "clients": clients,
            "events": published,
            "replay": {
                "seconds": report.seconds,
                "events_per_second": report.events_per_second,
                "read": report.events,
                "applied": report.applied,
                "invalid": report.invalid,
                "duplicates": report.duplicates,
                "deleted": report.deleted,
                "resumed": report.resumed,
            },
            "raw_ordered_read_per_second": {"before": raw_before, "after": raw_after, "mean": raw},
            "raw_bounded_read_per_second": bounded,
            "ratio_to_raw_ordered_read": report.events_per_second / raw,
            "tables": len(live),
            "differing_tables": differing(live, replayed),
        }
    finally:
        await delete_streams(nc.jetstream(), settings)
        await nc.close()
        await pool.close()


def render(result: dict[str, Any]) -> str:
    r = result["replay"]
    raw = result["raw_ordered_read_per_second"]
    same = "equal" if not result["differing_tables"] else f"DIFFERENT: {sorted(result['differing_tables'])}"
    return "\n".join(
        [
            f"Reitti replay at scale: {result['events']:,} events of {result['clients']:,} clients "
            "(sealed personal fields)",
            "versions: " + ", ".join(f"{k} {v}" for k, v in result["versions"].items()),
            f"replay (rebuild_and_switch, ReportingProjection)  {r['events_per_second']:>9,.0f} events/s"
            f"  in {r['seconds']:.1f} s",
            f"raw ordered read (before / after)                 {raw['mean']:>9,.0f} msgs/s"
            f"  ({raw['before']:,.0f} / {raw['after']:,.0f})",
            f"replay's bounded read alone (informative)         "
            f"{result['raw_bounded_read_per_second']:>9,.0f} msgs/s",
            f"ratio replay / raw ordered read                   {result['ratio_to_raw_ordered_read']:>9.3f}",
            f"counts: {r['read']:,} read, {r['applied']:,} applied, {r['invalid']} invalid, "
            f"{r['duplicates']} duplicate, {r['deleted']} deleted, {r['resumed']} resumed",
            f"replayed projections against live, table by table ({result['tables']} tables): {same}",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.replay_scale", description=__doc__.split("\n\n")[0])
    p.add_argument("--events", "-n", type=int, default=200_000, help="at least N events (200000)")
    p.add_argument("--json", type=Path, default=None, help="also write the figures as JSON here")
    args = p.parse_args(argv)

    async def run(nats_url: str, admin_url: str) -> dict[str, Any]:
        async with fresh_database(admin_url) as database_url:
            return await measure(args.events, bench_settings(nats_url, database_url))

    with servers() as found:
        result = asyncio.run(run(found.nats_url, found.admin_url))
    result["servers"] = found.kind
    print(render(result))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    return 0 if not result["differing_tables"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
