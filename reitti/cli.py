"""The ``reitti`` command."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import signal
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from contracts.names import SOCIAL_SERVICES, canonical_organisation, social_services_of
from runtime.access import Role
from runtime.config import (
    DEFAULT_EMBEDDED_NATS_PORT,
    DEFAULT_EMBEDDED_POSTGRES_PORT,
    SERVICE_PORTS,
    ConfigError,
    Settings,
    default_data_dir,
    load_connection,
    municipalities_from_env,
)
from runtime.supervision import DEFAULT_MAX_RESTARTS, DEFAULT_RESTART_WINDOW

if TYPE_CHECKING:
    import asyncpg
    from nats.js import JetStreamContext

    from runtime.consumer import ExactlyOnceConsumer

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
    up.add_argument(
        "--demo",
        action="store_true",
        help="once the services answer, load the demo year 2010 through the APIs (as `reitti demo`)",
    )
    up.add_argument(
        "--max-restarts",
        type=int,
        default=DEFAULT_MAX_RESTARTS,
        help="restarts of one crashed process allowed within --restart-window; "
        "one more crash stops everything (default: %(default)s)",
    )
    up.add_argument(
        "--restart-window",
        type=float,
        default=DEFAULT_RESTART_WINDOW,
        help="seconds over which --max-restarts counts (default: %(default)s)",
    )

    demo = sub.add_parser(
        "demo",
        help="load the seed's year 2010 (139 new clients to closures) into a running system via its APIs",
    )
    for name, port in SERVICE_PORTS.items():
        demo.add_argument(
            f"--{name}-url",
            default=f"http://127.0.0.1:{port}",
            help=f"the {name} service (default: %(default)s)",
        )
    demo.add_argument("--data-dir", type=Path, default=None, help="where `reitti up` keeps its signing key")
    demo.add_argument("--concurrency", type=int, default=8, help="clients at once (default: %(default)s)")

    shot = sub.add_parser(
        "screenshot",
        help="save the dashboard of a running system as a PNG (docs/dashboard.png), in headless chromium",
    )
    shot.add_argument(
        "--reporting-url",
        default=f"http://127.0.0.1:{SERVICE_PORTS['reporting']}",
        help="the reporting service (default: %(default)s)",
    )
    shot.add_argument("--data-dir", type=Path, default=None, help="where `reitti up` keeps its signing key")
    shot.add_argument("--year", type=int, default=None, help="the year shown (default: the latest)")
    shot.add_argument("--municipality", default=None, help="one municipality (default: all)")
    shot.add_argument("--output", type=Path, default=Path("docs/dashboard.png"))
    shot.add_argument("--chromium", type=Path, default=Path("/usr/bin/chromium"), help="the browser")

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
    replay.add_argument(
        "--patience",
        type=float,
        default=180.0,
        help="seconds to wait for a broker that makes no progress before failing (180)",
    )

    expire = sub.add_parser(
        "erase-expired",
        help="erase the personal data of clients whose relationship closed over four years ago "
        "(unless under a legal hold)",
    )
    expire.add_argument(
        "--today", type=date.fromisoformat, default=None, help="the day to count from (default: today)"
    )

    sub.add_parser(
        "rotate-keys",
        help="wrap every client key under a new key-encryption key and destroy the old one "
        "(run after erasures; docs/adr/0021)",
    )

    info = sub.add_parser("import-info-list", help="import the TE-office info list (CSV or JSON Lines)")
    info.add_argument("file", type=Path)
    info.add_argument("--url", default=f"http://127.0.0.1:{SERVICE_PORTS['intake']}", help="intake's URL")
    info.add_argument("--token", default=None, help="your bearer token (default: $REITTI_TOKEN)")
    info.add_argument("--chunk", type=int, default=200, help="rows per request (default: %(default)s)")

    token = sub.add_parser("token", help="sign a development token with the embedded mode's key")
    token.add_argument("--role", required=True, choices=[r.value for r in Role])
    token.add_argument("--person", required=True, help="the person's (or machine client's) id")
    token.add_argument(
        "--organisation",
        default=None,
        help="default: te-office for the TE side's roles, centre for the centre's staff, the "
        "steering group and auditors; required for a social worker (social_services:<municipality>, "
        "or just the municipality) and a partner system (its partner: te-office, kela, "
        "social_services:<municipality>)",
    )
    token.add_argument("--hours", type=float, default=12.0, help="validity (default: %(default)s)")
    token.add_argument("--data-dir", type=Path, default=None, help="where `reitti up` keeps its data")

    feed = sub.add_parser("feed-credentials", help="a partner organisation's credentials for its broker feed")
    feed.add_argument("organisation", help="te-office, or a municipality (mikkeli, social_services:mikkeli)")
    feed.add_argument("--data-dir", type=Path, default=None, help="where `reitti up` keeps its data")
    feed.add_argument("--url", action="store_true", help="also print the URL with the password in it")

    openapi = sub.add_parser("openapi", help="write each service's OpenAPI document to docs/openapi/")
    openapi.add_argument("--output", type=Path, default=Path("docs/openapi"))
    perms = sub.add_parser("permissions", help="write the endpoint x role permission matrix (Markdown)")
    perms.add_argument("--output", type=Path, default=Path("docs/permissions.md"))

    dlq = sub.add_parser("dead-letters", help="list messages in the dead-letter stream")
    dlq.add_argument("--limit", type=int, default=20)

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

    verify = sub.add_parser(
        "audit-verify",
        help="verify every audit hash chain against the events in JetStream, or against an export",
    )
    verify.add_argument("file", type=Path, nargs="?", default=None, help="an audit-export file (JSON Lines)")

    export = sub.add_parser("audit-export", help="export a range of the audit log as CloudEvents JSON Lines")
    export.add_argument("--from-seq", type=int, default=None, help="first stream sequence")
    export.add_argument("--to-seq", type=int, default=None, help="last stream sequence")
    export.add_argument(
        "--since", type=_aware_time, default=None, help="events that occurred at or after (ISO)"
    )
    export.add_argument("--until", type=_aware_time, default=None, help="events before (ISO time)")
    export.add_argument("--output", type=Path, default=None, help="file to write (default: standard output)")
    return parser


def _aware_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO time: {text!r}") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError("give a time zone, for example 2010-01-01T00:00:00+02:00")
    return value


#: commands that work on a running system: without external URLs they use the
#: connection `reitti up` recorded in its data directory (REITTI_DATA_DIR, or the default)
OPERATOR_COMMANDS = {
    "migrate",
    "relay",
    "replay",
    "dead-letters",
    "redrive",
    "reconcile",
    "audit-verify",
    "audit-export",
    "erase-expired",
    "rotate-keys",
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in OPERATOR_COMMANDS:
        data_dir = Path(os.environ.get("REITTI_DATA_DIR") or default_data_dir()).expanduser()
        load_connection(data_dir)
    try:
        return int(COMMANDS[args.command](args) or 0)
    except ConfigError as exc:
        print(f"reitti: {exc}", file=sys.stderr)
        return 2


def cmd_up(args: argparse.Namespace) -> int:
    from reitti.launcher import Launcher, LaunchError
    from runtime.embedded import EmbeddedServerError
    from runtime.supervision import RestartPolicy

    launcher = Launcher(
        data_dir=(args.data_dir or default_data_dir()).expanduser().resolve(),
        nats_port=args.nats_port,
        postgres_port=args.postgres_port,
        service_ports={name: getattr(args, f"{name}_port") for name in SERVICE_PORTS},
        host=args.host,
        demo=args.demo,
        restart_policy=RestartPolicy(max_restarts=args.max_restarts, window=args.restart_window),
    )
    try:
        return launcher.run()
    except (EmbeddedServerError, LaunchError) as exc:
        print(f"reitti up: {exc}", file=sys.stderr)
        return 1


def cmd_screenshot(args: argparse.Namespace) -> int:
    """The dashboard as a signed-in steering group member sees it, saved as a PNG."""
    from reitti.demo import load_issuer
    from reitti.screenshot import ScreenshotError, main

    try:
        saved = main(
            args.reporting_url,
            load_issuer((args.data_dir or default_data_dir()).expanduser()),
            args.output,
            year=args.year,
            municipality=args.municipality,
            chromium=args.chromium,
        )
    except ScreenshotError as exc:
        print(f"reitti screenshot: {exc}", file=sys.stderr)
        return 1
    print(f"saved {saved}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Load the demo year through the running services' APIs, with a progress bar, and
    print reporting's 2010 statistics beside the seed's shares."""
    from reitti.demo import DemoError, Endpoints, main

    endpoints = Endpoints(intake=args.intake_url, guidance=args.guidance_url, reporting=args.reporting_url)
    try:
        return main(
            endpoints,
            (args.data_dir or default_data_dir()).expanduser(),
            concurrency=max(1, args.concurrency),
        )
    except DemoError as exc:
        print(f"reitti demo: {exc}", file=sys.stderr)
        return 1


class RedactTokens(logging.Filter):
    """Keeps ``?token=...`` out of the HTTP access log: no endpoint accepts a token in its URL
    (the dashboard signs in with a form), but an old bookmark may still send one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                TOKEN_IN_URL.sub(r"\1token=***", a) if isinstance(a, str) else a for a in record.args
            )
        return True


TOKEN_IN_URL = re.compile(r"([?&])token=[^&\s]*")


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    Settings.from_env()  # fail early, with a clear message, if the URLs are missing
    logging.getLogger("uvicorn.access").addFilter(RedactTokens())
    uvicorn.run(
        f"services.{args.service}.app:create_app",
        factory=True,
        host=args.host,
        port=args.port or SERVICE_PORTS[args.service],
        log_level="info",
    )
    return 0


def cmd_relay(args: argparse.Namespace) -> int:
    from reitti.preparation import service_migrations
    from runtime.db import create_pool
    from runtime.relay import OutboxRelay
    from runtime.streams import connect_nats, ensure_streams

    settings = Settings.from_env()
    schema, _ = service_migrations(args.service)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        pool = await create_pool(
            settings.database_url, max_size=3, application_name=f"reitti-relay-{args.service}"
        )
        nc = await connect_nats(settings.nats_url, name=f"reitti-{args.service}-relay")
        try:
            await ensure_streams(nc.jetstream(), settings)
            relay = OutboxRelay(
                pool,
                nc.jetstream(),
                schema=schema,
                stream=settings.events_stream,
                ack_timeout=settings.relay_ack_timeout,
            )
            await relay.run(stop)
        finally:
            await nc.close()
            await pool.close()

    asyncio.run(run())
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from reitti.preparation import prepare_everything

    asyncio.run(prepare_everything(Settings.from_env()))
    print("migrations applied; streams ready")
    return 0


def cmd_schemas(args: argparse.Namespace) -> int:
    from contracts.schema_export import SCHEMA_DIR, write_schemas

    for path in write_schemas(args.output or SCHEMA_DIR):
        print(path)
    return 0


def cmd_asyncapi(args: argparse.Namespace) -> int:
    from reitti.asyncapi import asyncapi_document

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(asyncapi_document(), indent=2, sort_keys=True) + "\n")
    print(args.output)
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """Rebuild every reporting projection (referral counts, side partitions, audit log)
    into a fresh schema and switch over once it has caught up and proven complete; exits
    1, with the live projections untouched, if it cannot prove that."""
    import time

    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from runtime.db import create_pool
    from runtime.replay import ReplayIncomplete, ReplayReport, rebuild_and_switch
    from runtime.streams import connect_nats
    from services.reporting.projections import MIGRATIONS, ReportingProjection

    settings = Settings.from_env()

    async def run() -> None:
        pool = await create_pool(settings.database_url, max_size=3)
        nc = await connect_nats(settings.nats_url, name="reitti-replay")
        try:
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
                    pool,
                    nc.jetstream(),
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
        finally:
            await nc.close()
            await pool.close()

    try:
        asyncio.run(run())
    except ReplayIncomplete as exc:
        print(f"reitti replay: {exc}; the live projections are unchanged", file=sys.stderr)
        return 1
    return 0


def operator_consumers(
    settings: Settings, pool: asyncpg.Pool, js: JetStreamContext
) -> dict[str, ExactlyOnceConsumer]:
    """Every service's consumers by name, as the operator commands run them."""
    import importlib

    from reitti.preparation import SERVICE_MODULES

    found: dict[str, ExactlyOnceConsumer] = {}
    for module_name in SERVICE_MODULES.values():
        factory = getattr(importlib.import_module(module_name), "operator_consumers", None)
        if factory is not None:
            found.update({c.name: c for c in factory(settings, pool, js)})
    return found


def cmd_redrive(args: argparse.Namespace) -> int:
    from runtime.db import create_pool
    from runtime.deadletters import redrive
    from runtime.streams import connect_nats

    settings = Settings.from_env()

    async def run() -> int:
        pool = await create_pool(settings.database_url, max_size=2)
        nc = await connect_nats(settings.nats_url, name="reitti-redrive")
        try:
            consumers = operator_consumers(settings, pool, nc.jetstream())
            consumer = consumers.get(args.consumer)
            if consumer is None:
                names = ", ".join(sorted(consumers))
                print(f"reitti: no consumer {args.consumer!r}; the consumers are: {names}", file=sys.stderr)
                return 2
            only = set(args.seq) if args.seq else None
            report = await redrive(nc.jetstream(), settings, pool, consumer, only=only)
        finally:
            await nc.close()
            await pool.close()
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
    from runtime.db import create_pool
    from runtime.reconcile import Reconciler
    from runtime.relay import OutboxRelay
    from runtime.streams import connect_nats
    from services.reporting.app import EVENTS_SCHEMA

    # each store that publishes events: the service named in its subjects -> its schema
    stores = {"intake": "intake", "guidance": "guidance", "reporting": EVENTS_SCHEMA}
    unknown = sorted(set(args.service) - set(stores))
    if unknown:
        print(
            f"reitti: no service {', '.join(unknown)}; the services are: {', '.join(stores)}", file=sys.stderr
        )
        return 2
    settings = Settings.from_env()

    async def run() -> None:
        pool = await create_pool(settings.database_url, max_size=2)
        nc = await connect_nats(settings.nats_url, name="reitti-reconcile")
        js = nc.jetstream()
        try:
            for service in args.service or ALL_SERVICES:
                schema = stores[service]
                reconciler = Reconciler(pool, js, settings, schema=schema, service=service)
                report = await reconciler.check(full=args.full)
                print(report.summary())
                for m in report.missing:
                    print(f"  {m.stream_id} version {m.stream_version}: {m.event_type} {m.event_id}")
                # the service's own relay would publish them too; this one does it now
                published = await OutboxRelay(pool, js, schema=schema, stream=settings.events_stream).drain()
                if published:
                    print(f"{service}: published {published} events from the outbox")
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


def cmd_erase_expired(args: argparse.Namespace) -> int:
    """Key deletion when the retention period ends (docs/adr/0011). Writes through intake's
    event store; intake's relay publishes the ``ClientDataErased`` events."""
    from runtime import clock
    from runtime.db import apply_migrations, create_pool
    from runtime.erasure import KEYS_SCHEMA, RETENTION_YEARS, key_vault_migrations
    from runtime.keyvault import ensure_vault
    from services.intake.application import erase_expired
    from services.intake.bootstrap import bootstrap
    from services.intake.retention import retention_context, rotate_if_due

    settings = Settings.from_env()
    today = args.today or clock.today()

    async def run() -> list[str]:
        pool = await create_pool(settings.database_url, max_size=2)
        try:
            intake = bootstrap(settings, pool)
            async with pool.acquire() as conn:
                await apply_migrations(conn, KEYS_SCHEMA, key_vault_migrations())
                await ensure_vault(conn)
                erased = await erase_expired(conn, intake.repository, today, ctx=retention_context())
                await rotate_if_due(conn)  # so no old copy of their keys opens (ADR 0021)
                return erased
        finally:
            await pool.close()

    erased = asyncio.run(run())
    print(
        f"erased the personal data of {len(erased)} clients "
        f"({RETENTION_YEARS} years after closure, counted to {today})"
    )
    for client_id in erased:
        print(f"  {client_id}")
    return 0


def cmd_rotate_keys(args: argparse.Namespace) -> int:
    """Rotate the key-encryption key (docs/adr/0021): afterwards no copy of an erased
    client's key (dead tuples, WAL, backups) can be unwrapped."""
    from runtime.db import apply_migrations, create_pool
    from runtime.erasure import KEYS_SCHEMA, key_vault_migrations
    from runtime.keyvault import kek_directory, rotate

    settings = Settings.from_env()

    async def run() -> str:
        pool = await create_pool(settings.database_url, max_size=1)
        try:
            async with pool.acquire() as conn:
                await apply_migrations(conn, KEYS_SCHEMA, key_vault_migrations())
                done = await rotate(conn)
        finally:
            await pool.close()
        return (
            f"re-wrapped {done.rewrapped} client keys under the key-encryption key {done.new} "
            f"({kek_directory()}); destroyed {len(done.destroyed)} old one(s)"
        )

    print(asyncio.run(run()))
    return 0


def cmd_import_info_list(args: argparse.Namespace) -> int:
    from reitti.info_list_cli import import_file

    token = args.token or os.environ.get("REITTI_TOKEN")
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


def cmd_token(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from runtime.auth import TokenIssuer

    organisation = token_organisation(args.role, args.organisation, municipalities_from_env())
    key = os.environ.get("REITTI_JWT_PRIVATE_KEY") or str(
        (args.data_dir or default_data_dir()).expanduser() / "keys" / "token-signing.key"
    )
    if not Path(key).is_file():
        raise ConfigError(f"no signing key at {key}: run `reitti up` first, or set REITTI_JWT_PRIVATE_KEY")
    issuer = TokenIssuer.load(Path(key), issuer=os.environ.get("REITTI_JWT_ISSUER", "reitti-embedded"))
    print(
        issuer.issue(
            person_id=args.person, role=args.role, organisation=organisation, ttl=timedelta(hours=args.hours)
        )
    )
    return 0


#: The organisation a development token names when ``--organisation`` is not given (None:
#: it must be given). A social worker works for one municipality's social services and a
#: partner system for its partner, so neither has a default: signing ``centre`` for them
#: would make a caller the code never meets (docs/adr/0033).
TOKEN_DEFAULT_ORGANISATION: dict[Role, str | None] = {
    Role.EMPLOYMENT_ADVISOR: "te-office",
    Role.LEAD_EMPLOYMENT_ADVISOR: "te-office",
    Role.PSYCHOLOGIST: "te-office",
    Role.SERVICE_COORDINATOR: "centre",
    Role.SERVICE_GUIDE: "centre",
    Role.NURSE: "centre",
    Role.OFFICE_SECRETARY: "centre",
    Role.SOCIAL_WORKER: None,
    Role.STEERING_GROUP_MEMBER: "centre",
    Role.AUDITOR: "centre",
    Role.PARTNER_SYSTEM: None,
}


def token_organisation(role: str, given: str | None, municipalities: tuple[str, ...]) -> str:
    """The organisation a development token names, in its canonical spelling (ADR 0027):
    a social worker's is their municipality's social services and must be given
    (``social_services:mikkeli``, or just ``Mikkeli``); a partner system's is its partner
    and must be given too; others default to :data:`TOKEN_DEFAULT_ORGANISATION`."""
    if role == Role.SOCIAL_WORKER:
        choices = ", ".join(social_services_of(municipalities))
        if not given:
            raise ConfigError(
                "a social worker works for a municipality's social services, so a token needs it: "
                f"give --organisation with one of {choices} (or just the municipality, e.g. Mikkeli)"
            )
        name = given if given.strip().casefold().startswith(SOCIAL_SERVICES) else SOCIAL_SERVICES + given
        try:
            return canonical_organisation(name, municipalities)
        except ValueError:
            raise ConfigError(
                f"--organisation {given!r} is no social services of the centre's; use one of: {choices}"
            ) from None
    if not given:
        default = TOKEN_DEFAULT_ORGANISATION[Role(role)]
        if default is None:
            partners = ", ".join(("te-office", "kela", *social_services_of(municipalities)))
            raise ConfigError(
                f"a {role} acts for one partner organisation, so a token needs it: "
                f"give --organisation with one of {partners}"
            )
        return default
    try:
        return canonical_organisation(given, municipalities)
    except ValueError as exc:
        raise ConfigError(f"--organisation {given!r}: {exc}") from None


def cmd_feed_credentials(args: argparse.Namespace) -> int:
    from runtime.broker_access import BrokerAccessError, read_feed_access

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


def cmd_permissions(args: argparse.Namespace) -> int:
    from reitti.permission_docs import render_permission_matrix

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render_permission_matrix(), encoding="utf-8")
    print(args.output)
    return 0


def cmd_openapi(args: argparse.Namespace) -> int:
    from reitti.permission_docs import service_apps
    from runtime.openapi import openapi_json

    args.output.mkdir(parents=True, exist_ok=True)
    for name, app in service_apps().items():
        target = args.output / f"{name}.json"
        target.write_text(openapi_json(app.openapi()), encoding="utf-8")
        print(target)
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Recompute every audit hash chain; exit 1 naming the first broken link."""
    import asyncpg

    from runtime.streams import connect_nats
    from services.reporting.app import SCHEMA
    from services.reporting.audit import VerifyReport, verify_against_file, verify_against_log
    from services.reporting.projections import ReportingProjection

    settings = Settings.from_env()
    if args.file is not None and not args.file.is_file():
        print(f"reitti audit-verify: no such file: {args.file}", file=sys.stderr)
        return 2
    trail = ReportingProjection(SCHEMA).audit

    async def run() -> VerifyReport:
        conn = await asyncpg.connect(settings.database_url)
        try:
            if args.file is not None:
                return await verify_against_file(conn, trail, args.file)
            nc = await connect_nats(settings.nats_url, name="reitti-audit-verify")
            try:
                return await verify_against_log(conn, trail, nc.jetstream(), settings)
            finally:
                await nc.close()
        finally:
            await conn.close()

    from runtime.log_reader import IncompleteRead

    try:
        report = asyncio.run(run())
    except IncompleteRead as exc:
        print(f"reitti audit-verify: the log could not be read completely: {exc}", file=sys.stderr)
        return 1
    against = args.file or "the events in JetStream"
    if report.ok:
        print(
            f"audit log verified: {report.chains} chains, {report.entries} entries; "
            f"{report.events_checked} events checked against {against}"
        )
        return 0
    print(f"broken link: {report.first_broken}", file=sys.stderr)
    for more in report.broken[1:20]:
        print(f"  also: {more}", file=sys.stderr)
    if len(report.broken) > 20:
        print(f"  and {len(report.broken) - 20} more", file=sys.stderr)
    return 1


def cmd_audit_export(args: argparse.Namespace) -> int:
    """Write a range of the audit log as JSON Lines: each event's CloudEvents envelope,
    read back from JetStream, with the audit chain's extension attributes."""
    import asyncpg

    from runtime.streams import connect_nats
    from services.reporting.app import SCHEMA
    from services.reporting.audit import export_lines
    from services.reporting.projections import ReportingProjection

    settings = Settings.from_env()
    trail = ReportingProjection(SCHEMA).audit

    async def run() -> int:
        conn = await asyncpg.connect(settings.database_url)
        try:
            entries = await trail.entries(
                conn, from_seq=args.from_seq, to_seq=args.to_seq, since=args.since, until=args.until
            )
        finally:
            await conn.close()
        nc = await connect_nats(settings.nats_url, name="reitti-audit-export")
        written = 0
        out = args.output.open("wb") if args.output is not None else sys.stdout.buffer
        try:
            async for line in export_lines(nc.jetstream(), settings, entries):
                out.write(line)
                written += 1
        finally:
            if args.output is not None:
                out.close()
            else:
                out.flush()
            await nc.close()
        return written

    from runtime.log_reader import IncompleteRead

    try:
        written = asyncio.run(run())
    except IncompleteRead as exc:
        print(f"reitti audit-export: the log could not be read completely: {exc}", file=sys.stderr)
        return 1
    print(f"exported {written} events", file=sys.stderr)
    return 0


COMMANDS = {
    "up": cmd_up,
    "demo": cmd_demo,
    "screenshot": cmd_screenshot,
    "serve": cmd_serve,
    "relay": cmd_relay,
    "migrate": cmd_migrate,
    "schemas": cmd_schemas,
    "asyncapi": cmd_asyncapi,
    "replay": cmd_replay,
    "erase-expired": cmd_erase_expired,
    "rotate-keys": cmd_rotate_keys,
    "dead-letters": cmd_dead_letters,
    "redrive": cmd_redrive,
    "reconcile": cmd_reconcile,
    "import-info-list": cmd_import_info_list,
    "token": cmd_token,
    "openapi": cmd_openapi,
    "permissions": cmd_permissions,
    "feed-credentials": cmd_feed_credentials,
    "audit-verify": cmd_audit_verify,
    "audit-export": cmd_audit_export,
}

if __name__ == "__main__":
    sys.exit(main())
