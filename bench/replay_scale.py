"""Replay at scale (ADR 0014, ADR 0046): logs of whole client stories, personal fields
sealed under each client's key, projected live and then replayed with
``runtime.replay.rebuild_and_switch`` (what ``reitti replay reporting`` runs), at several
sizes up to at least 200,000 events. At each size the replayed projections must equal
the live ones table by table, and the replay's events/s is printed beside a raw ordered
read of the same stream in the same run, with the time of replay per event (so whether
it grows linearly shows).

Run from the repository root::

    python -m bench.replay_scale [--sizes 20000,80000,200000] [--json PATH]
    python -m bench.replay_scale --sizes 2000,5000,10000      # a smoke run, about a minute

The log grows from one size to the next: the events added are projected live onto the
projections the previous size's replay switched in (which equalled live). Servers as in
``bench.foundation`` (embedded by default, or both REITTI_* URLs), with a fresh database
and namespace, removed at the end. Exits 1 if a replay differs from live.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import itertools
import json
import os
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


async def grow_log(
    pool: Any, js: JetStreamContext, settings: Settings, events: int, *, clients: int, published: int
) -> tuple[int, int]:
    """Publish whole, sealed client stories until the log holds ``events`` and project them
    live; the number of clients and of events in the log after."""
    started = time.perf_counter()
    while published < events:
        wanted = min(CHUNK_CLIENTS, max(1, (events - published) // 9 + 1))
        stories = client_stories(wanted)
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


async def measure_size(pool: Any, js: JetStreamContext, settings: Settings) -> dict[str, Any]:
    """Raw ordered read, replay (rebuild and switch), raw ordered read again, replay's own
    read alone, and the replayed tables against the live ones."""
    live = await table_digests(pool)
    total = await last_sequence(js, settings)
    say(f"  raw ordered read of {total:,} messages ...")
    raw_before = await raw_ordered_read(js, settings, total)
    say(f"  raw ordered read {raw_before:,.0f}/s; replay ...")
    cpu = time.process_time()
    report = await rebuild_and_switch(
        pool, js, settings, live_schema="reporting", migrations=MIGRATIONS, projection=ReportingProjection
    )
    cpu = time.process_time() - cpu
    say(f"  replay {report.events_per_second:,.0f}/s; raw ordered read again ...")
    raw_after = await raw_ordered_read(js, settings, total)
    bounded = await raw_bounded_read(js, settings, total)
    replayed = await table_digests(pool)
    raw = (raw_before + raw_after) / 2
    return {
        "events": report.events,
        "replay": {
            "seconds": report.seconds,
            "events_per_second": report.events_per_second,
            "us_per_event": report.seconds / report.events * 1e6,
            "process_cpu_us_per_event": cpu / report.events * 1e6,
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


def growth(sizes: list[dict[str, Any]]) -> list[float | None]:
    """The replay's time per event added since the previous size (µs); None for the first."""
    out: list[float | None] = [None]
    for before, after in itertools.pairwise(sizes):
        added = after["events"] - before["events"]
        out.append(
            (after["replay"]["seconds"] - before["replay"]["seconds"]) / added * 1e6 if added else None
        )
    return out


async def measure(sizes: Sequence[int], settings: Settings) -> dict[str, Any]:
    load_before = list(os.getloadavg())
    await prepare_everything(settings)
    pool = await create_pool(settings.database_url, min_size=2, max_size=4)
    nc = await connect_nats(settings.nats_url, name="reitti-bench-replay")
    try:
        js = nc.jetstream()
        clients = published = 0
        results: list[dict[str, Any]] = []
        for size in sorted(sizes):
            say(f"size {size:,}:")
            clients, published = await grow_log(
                pool, js, settings, size, clients=clients, published=published
            )
            result = await measure_size(pool, js, settings)
            result["clients"] = clients
            results.append(result)
        for result, added in zip(results, growth(results), strict=True):
            result["replay"]["us_per_event_added"] = added
        return {
            "command": " ".join([Path(sys.executable).name, "-m", "bench.replay_scale", *sys.argv[1:]]),
            "versions": await versions_of(nc, pool),
            "load_average": {"before": load_before, "after": list(os.getloadavg())},
            "cpus": os.cpu_count(),
            "sizes": results,
        }
    finally:
        await delete_streams(nc.jetstream(), settings)
        await nc.close()
        await pool.close()


def render(result: dict[str, Any]) -> str:
    head = [
        "Reitti replay at scale: whole client stories, sealed personal fields; "
        "replay = rebuild_and_switch(ReportingProjection)",
        "versions: " + ", ".join(f"{k} {v}" for k, v in result["versions"].items()),
        "load average before / after: "
        + " / ".join(", ".join(f"{x:.2f}" for x in result["load_average"][k]) for k in ("before", "after"))
        + f"; {result['cpus']} cpus",
        "",
        f"{'events':>9} {'clients':>8} {'replay/s':>9} {'raw read/s':>10} {'ratio':>6} "
        f"{'us/event':>9} {'us/added':>9} {'cpu us/ev':>9} {'bounded/s':>9}  tables",
    ]
    rows = []
    for r in result["sizes"]:
        rp = r["replay"]
        added = rp["us_per_event_added"]
        same = "equal" if not r["differing_tables"] else f"DIFFERENT: {sorted(r['differing_tables'])}"
        rows.append(
            f"{r['events']:>9,} {r['clients']:>8,} {rp['events_per_second']:>9,.0f} "
            f"{r['raw_ordered_read_per_second']['mean']:>10,.0f} {r['ratio_to_raw_ordered_read']:>6.3f} "
            f"{rp['us_per_event']:>9,.0f} {'-' if added is None else f'{added:,.0f}':>9} "
            f"{rp['process_cpu_us_per_event']:>9,.0f} {r['raw_bounded_read_per_second']:>9,.0f}  "
            f"{r['tables']} {same}"
        )
        rows.append(
            f"{'':>9} counts: {rp['read']:,} read, {rp['applied']:,} applied, {rp['invalid']} invalid, "
            f"{rp['duplicates']} duplicate, {rp['deleted']} deleted, {rp['resumed']} resumed; raw read "
            f"before / after {r['raw_ordered_read_per_second']['before']:,.0f} / "
            f"{r['raw_ordered_read_per_second']['after']:,.0f}"
        )
    return "\n".join(head + rows)


def sizes_of(text: str) -> list[int]:
    sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError("sizes are positive event counts, e.g. 20000,80000,200000")
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.replay_scale", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--sizes",
        type=sizes_of,
        default=[20_000, 80_000, 200_000],
        help="the log's sizes, at least N events each (20000,80000,200000)",
    )
    p.add_argument("--json", type=Path, default=None, help="also write the figures as JSON here")
    args = p.parse_args(argv)

    async def run(nats_url: str, admin_url: str) -> dict[str, Any]:
        async with fresh_database(admin_url) as database_url:
            return await measure(args.sizes, bench_settings(nats_url, database_url))

    with servers() as found:
        result = asyncio.run(run(found.nats_url, found.admin_url))
    result["servers"] = found.kind
    print(render(result))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    return 0 if not any(r["differing_tables"] for r in result["sizes"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
