"""The ``reitti`` command."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path

from runtime.config import (
    DEFAULT_EMBEDDED_NATS_PORT,
    DEFAULT_EMBEDDED_POSTGRES_PORT,
    SERVICE_PORTS,
    ConfigError,
    Settings,
    default_data_dir,
)

WRITE_SERVICES = ("intake", "guidance")
ALL_SERVICES = ("intake", "guidance", "reporting")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reitti",
        description="Reitti: event-sourced case management for joint employment service centres.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = sub.add_parser("up", help="start NATS, PostgreSQL and the three services")
    up.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"where data and logs live (default: {default_data_dir()})",
    )
    up.add_argument(
        "--nats-port",
        type=int,
        default=DEFAULT_EMBEDDED_NATS_PORT,
        help="port of the embedded NATS server (default: %(default)s)",
    )
    up.add_argument(
        "--postgres-port",
        type=int,
        default=DEFAULT_EMBEDDED_POSTGRES_PORT,
        help="port of the embedded PostgreSQL server (default: %(default)s)",
    )
    up.add_argument("--host", default="127.0.0.1", help="address the services listen on")
    for name, port in SERVICE_PORTS.items():
        up.add_argument(
            f"--{name}-port",
            type=int,
            default=port,
            help=f"port of the {name} API (default: %(default)s)",
        )

    serve = sub.add_parser("serve", help="run one service (needs REITTI_NATS_URL and REITTI_DATABASE_URL)")
    serve.add_argument("service", choices=ALL_SERVICES)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=None, help="default: 8001/8002/8003")

    relay = sub.add_parser("relay", help="run one service's outbox relay on its own")
    relay.add_argument("service", choices=WRITE_SERVICES)

    sub.add_parser("migrate", help="run all migrations and create the streams, then exit")

    schemas = sub.add_parser("schemas", help="write the events' JSON Schemas to contracts/schemas/")
    schemas.add_argument("--output", type=Path, default=None, help="directory (default: contracts/schemas)")

    asyncapi = sub.add_parser("asyncapi", help="write the AsyncAPI document of the event contracts")
    asyncapi.add_argument("--output", type=Path, default=Path("docs/asyncapi.json"))

    replay = sub.add_parser("replay", help="rebuild a projection from the start of the log")
    replay.add_argument("service", choices=("reporting",))

    info = sub.add_parser("import-info-list", help="import the TE-office info list (CSV or JSON Lines)")
    info.add_argument("file", type=Path)
    info.add_argument("--url", default=f"http://127.0.0.1:{SERVICE_PORTS['intake']}", help="intake's URL")
    info.add_argument("--person", required=True, help="your person id (who registers the referrals)")
    info.add_argument("--role", default="employment_advisor")
    info.add_argument("--organisation", default="te-office")
    info.add_argument("--chunk", type=int, default=200, help="rows per request (default: %(default)s)")

    dlq = sub.add_parser("dead-letters", help="list messages in the dead-letter stream")
    dlq.add_argument("--limit", type=int, default=20)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(COMMANDS[args.command](args) or 0)
    except ConfigError as exc:
        print(f"reitti: {exc}", file=sys.stderr)
        return 2


def cmd_up(args: argparse.Namespace) -> int:
    from runtime.embedded import EmbeddedServerError
    from runtime.launcher import Launcher, LaunchError

    launcher = Launcher(
        data_dir=(args.data_dir or default_data_dir()).expanduser().resolve(),
        nats_port=args.nats_port,
        postgres_port=args.postgres_port,
        service_ports={name: getattr(args, f"{name}_port") for name in SERVICE_PORTS},
        host=args.host,
    )
    try:
        return launcher.run()
    except (EmbeddedServerError, LaunchError) as exc:
        print(f"reitti up: {exc}", file=sys.stderr)
        return 1


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    Settings.from_env()  # fail early, with a clear message, if the URLs are missing
    uvicorn.run(
        f"services.{args.service}.app:create_app",
        factory=True,
        host=args.host,
        port=args.port or SERVICE_PORTS[args.service],
        log_level="info",
    )
    return 0


def cmd_relay(args: argparse.Namespace) -> int:
    from runtime.db import create_pool
    from runtime.preparation import service_migrations
    from runtime.relay import OutboxRelay
    from runtime.streams import connect_nats, ensure_streams

    settings = Settings.from_env()
    schema, _ = service_migrations(args.service)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        pool = await create_pool(settings.database_url, max_size=3)
        nc = await connect_nats(settings.nats_url, name=f"reitti-{args.service}-relay")
        try:
            await ensure_streams(nc.jetstream(), settings)
            relay = OutboxRelay(pool, nc.jetstream(), schema=schema, stream=settings.events_stream)
            await relay.run(stop)
        finally:
            await nc.close()
            await pool.close()

    asyncio.run(run())
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from runtime.preparation import prepare_everything

    asyncio.run(prepare_everything(Settings.from_env()))
    print("migrations applied; streams ready")
    return 0


def cmd_schemas(args: argparse.Namespace) -> int:
    from contracts.schema_export import SCHEMA_DIR, write_schemas

    for path in write_schemas(args.output or SCHEMA_DIR):
        print(path)
    return 0


def cmd_asyncapi(args: argparse.Namespace) -> int:
    from runtime.asyncapi import asyncapi_document

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(asyncapi_document(), indent=2, sort_keys=True) + "\n")
    print(args.output)
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from runtime.db import create_pool
    from runtime.replay import rebuild_and_switch
    from runtime.streams import connect_nats
    from services.reporting.projections import MIGRATIONS, ReferralStatistics

    settings = Settings.from_env()

    async def run() -> None:
        pool = await create_pool(settings.database_url, max_size=3)
        nc = await connect_nats(settings.nats_url, name="reitti-replay")
        try:
            with Progress(
                TextColumn("replaying reporting"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total} events"),
                TimeRemainingColumn(),
            ) as bar:
                task = bar.add_task("replay", total=None)

                def progress(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                report = await rebuild_and_switch(
                    pool,
                    nc.jetstream(),
                    settings,
                    live_schema="reporting",
                    migrations=MIGRATIONS,
                    projection=ReferralStatistics,
                    progress=progress,
                )
            print(
                f"replayed {report.events} events ({report.invalid} invalid, skipped) "
                f"in {report.seconds:.2f}s: {report.events_per_second:,.0f} events/s; "
                "switched over to the rebuilt projections"
            )
        finally:
            await nc.close()
            await pool.close()

    asyncio.run(run())
    return 0


def cmd_dead_letters(args: argparse.Namespace) -> int:
    from runtime.deadletters import list_dead_letters
    from runtime.streams import connect_nats

    settings = Settings.from_env()

    async def run() -> None:
        nc = await connect_nats(settings.nats_url, name="reitti-dead-letters")
        try:
            letters = await list_dead_letters(nc.jetstream(), settings, limit=args.limit)
        finally:
            await nc.close()
        if not letters:
            print("no dead letters")
        for letter in letters:
            print(json.dumps(letter, ensure_ascii=False))

    asyncio.run(run())
    return 0


def cmd_import_info_list(args: argparse.Namespace) -> int:
    from runtime.info_list_cli import import_file

    headers = {
        "X-Reitti-Person": args.person,
        "X-Reitti-Role": args.role,
        "X-Reitti-Organisation": args.organisation,
    }
    summary = import_file(args.file, url=args.url, headers=headers, chunk_size=max(1, args.chunk))
    print(
        f"{summary['rows']} rows: {summary['new_cases']} new cases, "
        f"{summary['recorded_on_existing']} recorded on existing cases, "
        f"{summary['already_present']} already present, {len(summary['errors'])} errors"
    )
    for error in summary["errors"]:
        print(f"  line {error['line']}: {error['field']}: {error['reason']}", file=sys.stderr)
    return 1 if summary["errors"] else 0


COMMANDS = {
    "up": cmd_up,
    "serve": cmd_serve,
    "relay": cmd_relay,
    "migrate": cmd_migrate,
    "schemas": cmd_schemas,
    "asyncapi": cmd_asyncapi,
    "replay": cmd_replay,
    "dead-letters": cmd_dead_letters,
    "import-info-list": cmd_import_info_list,
}

if __name__ == "__main__":
    sys.exit(main())
