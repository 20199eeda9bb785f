"""Operating a running system: migrations, replay, dead letters, reconciliation, the info
list, a partner's feed credentials (retention is :mod:`reitti.cli.retention`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from reitti.cli.connections import broker, connected
from reitti.cli.parsing import Subparsers
from reitti.cli.serve import ALL_SERVICES
from runtime.config import SERVICE_PORTS, ConfigError, Settings, default_data_dir
from services.settings import ReittiConfig

if TYPE_CHECKING:
    import asyncpg
    from nats.js import JetStreamContext

    from runtime.consumer import ExactlyOnceConsumer


def register(sub: Subparsers) -> None:
    sub.add_parser("migrate", help="run all migrations and create the streams, then exit").set_defaults(
        run=cmd_migrate, operator=True
    )

    replay = sub.add_parser("replay", help="rebuild a projection from the start of the log")
    replay.add_argument("service", choices=("reporting",))
    replay.add_argument(
        "--patience",
        type=float,
        default=180.0,
        help="seconds to wait for a broker that makes no progress before failing (180)",
    )

    replay.set_defaults(run=cmd_replay, operator=True)

    info = sub.add_parser("import-info-list", help="import the TE-office info list (CSV or JSON Lines)")
    info.add_argument("file", type=Path)
    info.add_argument("--url", default=f"http://127.0.0.1:{SERVICE_PORTS['intake']}", help="intake's URL")
    info.add_argument("--token", default=None, help="your bearer token (default: $REITTI_TOKEN)")
    info.add_argument("--chunk", type=int, default=200, help="rows per request (default: %(default)s)")
    info.set_defaults(run=cmd_import_info_list)

    feed = sub.add_parser("feed-credentials", help="a partner organisation's credentials for its broker feed")
    feed.add_argument("organisation", help="te-office, or a municipality (mikkeli, social_services:mikkeli)")
    feed.add_argument("--data-dir", type=Path, default=None, help="where `reitti up` keeps its data")
    feed.add_argument("--url", action="store_true", help="also print the URL with the password in it")
    feed.set_defaults(run=cmd_feed_credentials)

    dlq = sub.add_parser("dead-letters", help="list messages in the dead-letter stream")
    dlq.add_argument("--limit", type=int, default=20)
    dlq.set_defaults(run=cmd_dead_letters, operator=True)

    again = sub.add_parser(
        "redrive",
        help="send a consumer's dead letters through it again, once their cause is fixed",
        description="Send a consumer's dead letters through it again, oldest first, each exactly "
        "once by its event id. Each is applied after the events of its stream that came since "
        "(for reporting, `reitti replay reporting` applies everything in the log's order instead). "
        "A letter applied, or found already applied, leaves the dead-letter stream; one that "
        "still fails stays, and its reason is printed.",
    )
    again.add_argument("consumer", help="the consumer's name, as `reitti dead-letters` shows it")
    again.add_argument(
        "--seq", type=int, action="append", default=None, help="only this dead letter (dlq_seq); repeatable"
    )

    again.set_defaults(run=cmd_redrive, operator=True)

    heal = sub.add_parser(
        "reconcile",
        help="re-publish from PostgreSQL the events that JetStream lacks",
        description="Compare each write service's event store with the events stream and "
        "re-publish, with the original event id, every event the stream lacks (JetStream can "
        "lose acknowledged messages on a power failure; PostgreSQL is the truth, docs/adr/0015). "
        "Event types whose counts agree are not scanned unless --full is given.",
    )
    heal.add_argument(
        "service",
        nargs="*",
        metavar="SERVICE",
        help="only these services' stores: intake, guidance, reporting",
    )
    heal.add_argument("--full", action="store_true", help="scan every event type, whatever the counts say")
    heal.set_defaults(run=cmd_reconcile, operator=True)


def cmd_migrate(args: argparse.Namespace) -> int:
    from reitti.preparation import prepare_everything

    asyncio.run(prepare_everything(args.config.settings()))
    print("migrations applied; streams ready")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """Rebuild every reporting projection (referral counts, side partitions, audit log)
    into a fresh schema and switch over once it has caught up and proven complete; exits
    1, with the live projections untouched, if it cannot prove that."""
    import time

    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from runtime.replay import ReplayIncomplete, ReplayReport, rebuild_and_switch
    from services.reporting.projections import MIGRATIONS, ReportingProjection

    settings = args.config.settings()

    async def run() -> None:
        async with connected(settings, name="reitti-replay", max_size=3) as c:
            with Progress(
                TextColumn("replaying reporting"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total} sequences"),
                TextColumn("{task.fields[counts]}"),
                TextColumn("{task.fields[rate]}"),
                TimeRemainingColumn(),
            ) as bar:
                task = bar.add_task("replay", total=None, rate="", counts="")
                started = time.perf_counter()

                def progress(done: ReplayReport, until: int) -> None:
                    covered = done.events + done.deleted
                    rate = done.events / max(time.perf_counter() - started, 1e-6)
                    bar.update(
                        task,
                        completed=covered,
                        total=until - done.first_seq + 1,
                        counts=done.counts(),
                        rate=f"{rate:,.0f} events/s",
                    )

                report = await rebuild_and_switch(
                    c.pool,
                    c.js,
                    settings,
                    live_schema="reporting",
                    migrations=MIGRATIONS,
                    projection=ReportingProjection,
                    progress=progress,
                    patience=args.patience,
                )
            print(
                f"replayed {report.events} events ({report.invalid} invalid, skipped) "
                f"in {report.seconds:.2f}s: {report.events_per_second:,.0f} events/s; "
                f"{report.counts()} of sequences {report.first_seq}..{report.last_seq}; "
                "switched over to the rebuilt projections"
            )

    try:
        asyncio.run(run())
    except ReplayIncomplete as exc:
        print(f"reitti replay: {exc}; the live projections are unchanged", file=sys.stderr)
        return 1
    return 0


def operator_consumers(
    settings: Settings, pool: asyncpg.Pool, js: JetStreamContext, config: ReittiConfig
) -> dict[str, ExactlyOnceConsumer]:
    """Every service's consumers by name, as the operator commands run them, built with
    the settings model the command read once (``args.config``)."""
    import importlib

    from reitti.preparation import SERVICE_MODULES

    found: dict[str, ExactlyOnceConsumer] = {}
    for module_name in SERVICE_MODULES.values():
        factory = getattr(importlib.import_module(module_name), "operator_consumers", None)
        if factory is not None:
            found.update({c.name: c for c in factory(settings, pool, js, config)})
    return found


def cmd_redrive(args: argparse.Namespace) -> int:
    from runtime.deadletters import redrive

    settings = args.config.settings()

    async def run() -> int:
        async with connected(settings, name="reitti-redrive", max_size=2) as c:
            consumers = operator_consumers(settings, c.pool, c.js, args.config)
            consumer = consumers.get(args.consumer)
            if consumer is None:
                names = ", ".join(sorted(consumers))
                print(f"reitti: no consumer {args.consumer!r}; the consumers are: {names}", file=sys.stderr)
                return 2
            only = set(args.seq) if args.seq else None
            report = await redrive(c.js, settings, c.pool, consumer, only=only)
        for seq in report.applied:
            print(f"dead letter {seq}: applied")
        for seq in report.duplicates:
            print(f"dead letter {seq}: had already been applied; removed")
        for seq, reason in report.not_removed:
            print(f"dead letter {seq}: applied, but not removed (running this again is harmless): {reason}")
        for seq, reason in report.still_failing:
            print(f"dead letter {seq}: still fails, kept: {reason}")
        if report.unknown:
            unknown = ", ".join(str(seq) for seq in report.unknown)
            print(f"reitti: not dead letters of {args.consumer}: {unknown}", file=sys.stderr)
            return 2
        if not (report.applied or report.duplicates or report.still_failing):
            print(f"no dead letters of {args.consumer}")
        return 1 if report.still_failing or report.not_removed else 0

    return asyncio.run(run())


def cmd_reconcile(args: argparse.Namespace) -> int:
    from runtime.reconcile import Reconciler
    from runtime.relay import OutboxRelay
    from services.reporting.app import EVENTS_SCHEMA

    # each store that publishes events: the service named in its subjects -> its schema
    stores = {"intake": "intake", "guidance": "guidance", "reporting": EVENTS_SCHEMA}
    unknown = sorted(set(args.service) - set(stores))
    if unknown:
        print(
            f"reitti: no service {', '.join(unknown)}; the services are: {', '.join(stores)}", file=sys.stderr
        )
        return 2
    settings = args.config.settings()

    async def run() -> None:
        async with connected(settings, name="reitti-reconcile", max_size=2) as c:
            for service in args.service or ALL_SERVICES:
                schema = stores[service]
                reconciler = Reconciler(c.pool, c.js, settings, schema=schema, service=service)
                report = await reconciler.check(full=args.full)
                print(report.summary())
                for m in report.missing:
                    print(f"  {m.stream_id} version {m.stream_version}: {m.event_type} {m.event_id}")
                # the service's own relay would publish them too; this one does it now
                relay = OutboxRelay(c.pool, c.js, schema=schema, stream=settings.events_stream)
                published = await relay.drain()
                if published:
                    print(f"{service}: published {published} events from the outbox")

    asyncio.run(run())
    return 0


def cmd_dead_letters(args: argparse.Namespace) -> int:
    from runtime.deadletters import list_dead_letters

    settings = args.config.settings()

    async def run() -> None:
        async with broker(settings, name="reitti-dead-letters") as nc:
            letters = await list_dead_letters(nc.jetstream(), settings, limit=args.limit)
        if not letters:
            print("no dead letters")
        for letter in letters:
            print(json.dumps(letter, ensure_ascii=False))

    asyncio.run(run())
    return 0


def cmd_import_info_list(args: argparse.Namespace) -> int:
    from reitti.info_list_cli import import_file

    token = args.token or ReittiConfig.from_env().operator.token
    if not token:
        raise ConfigError("give your token with --token or REITTI_TOKEN (`reitti token` makes one)")
    headers = {"Authorization": f"Bearer {token}"}
    chunk = max(1, args.chunk)
    summary = import_file(args.file, url=args.url, headers=headers, chunk_size=chunk)
    print(
        f"{summary['rows']} rows: {summary['new_cases']} new cases, "
        f"{summary['recorded_on_existing']} recorded on existing cases, "
        f"{summary['already_present']} already present, "
        f"{summary['possible_duplicates']} possible duplicates held, "
        f"{summary['rejected']} rows rejected with {summary['errors_total']} errors"
    )
    for error in summary["errors"]:
        print(f"  line {error['line']}: {error['field']}: {error['reason']}", file=sys.stderr)
    if summary["errors_total"] > len(summary["errors"]):
        print(f"  (the first errors of each part of {chunk} rows are listed)", file=sys.stderr)
    return 1 if summary["errors_total"] or summary["errors"] else 0


def cmd_feed_credentials(args: argparse.Namespace) -> int:
    from runtime.broker_access import BrokerAccessError
    from runtime.broker_credentials import read_feed_access

    nats_dir = (args.data_dir or default_data_dir()).expanduser() / "nats"
    try:
        access = read_feed_access(nats_dir, args.organisation)
    except (BrokerAccessError, OSError) as exc:
        print(f"reitti feed-credentials: {exc}", file=sys.stderr)
        return 2
    print(f"organisation: {access.organisation}")
    print(f"user:         {access.user}")
    print(f"password:     {access.password}")
    print(f"servers:      {access.servers}")
    print(f"stream:       {access.stream}")
    print(f"consumer:     {access.consumer} (bind to it: pull_subscribe_bind)")
    print(f"subjects:     {access.filter_subject}")
    if args.url:
        print(f"url:          {access.url}")
    return 0
