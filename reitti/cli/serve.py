"""``reitti up``, ``reitti serve`` and ``reitti relay``: running the system."""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import signal
import sys
from pathlib import Path

from reitti.cli.connections import connected
from reitti.cli.parsing import Subparsers
from runtime.config import (
    DEFAULT_EMBEDDED_NATS_PORT,
    DEFAULT_EMBEDDED_POSTGRES_PORT,
    DESK_PORT,
    SERVICE_PORTS,
    default_data_dir,
)
from runtime.supervision import DEFAULT_MAX_RESTARTS, DEFAULT_RESTART_WINDOW
from services.settings import ReittiConfig

WRITE_SERVICES = ("intake", "guidance")
ALL_SERVICES = ("intake", "guidance", "reporting")
#: what `reitti serve` runs: the three services and the staff desk (services/desk/)
SERVABLE = (*ALL_SERVICES, "desk")


def register(sub: Subparsers) -> None:
    up = sub.add_parser("up", help="start NATS, PostgreSQL, the three services and the staff desk")
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
        "--desk-port",
        type=int,
        default=DESK_PORT,
        help="port of the staff desk (default: %(default)s)",
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
    up.set_defaults(run=cmd_up)

    serve = sub.add_parser(
        "serve",
        help="run one service (needs REITTI_NATS_URL and REITTI_DATABASE_URL), or the staff desk "
        "(needs the services' URLs: REITTI_DESK_INTAKE_URL, REITTI_DESK_GUIDANCE_URL, "
        "REITTI_DESK_REPORTING_URL)",
    )
    serve.add_argument("service", choices=SERVABLE)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=None, help="default: 8001/8002/8003, the desk 8004")

    relay = sub.add_parser("relay", help="run one service's outbox relay on its own")
    relay.add_argument("service", choices=WRITE_SERVICES)
    serve.set_defaults(run=cmd_serve)
    relay.set_defaults(run=cmd_relay, operator=True)


def cmd_up(args: argparse.Namespace) -> int:
    from reitti.launcher import Launcher, LaunchError
    from runtime.embedded import EmbeddedServerError
    from runtime.supervision import RestartPolicy

    launcher = Launcher(
        data_dir=(args.data_dir or default_data_dir()).expanduser().resolve(),
        nats_port=args.nats_port,
        postgres_port=args.postgres_port,
        service_ports={name: getattr(args, f"{name}_port") for name in SERVICE_PORTS},
        desk_port=args.desk_port,
        host=args.host,
        demo=args.demo,
        restart_policy=RestartPolicy(max_restarts=args.max_restarts, window=args.restart_window),
    )
    try:
        return launcher.run()
    except (EmbeddedServerError, LaunchError) as exc:
        print(f"reitti up: {exc}", file=sys.stderr)
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

    # fail early, with a clear message, if a setting is wrong or a URL is missing (the
    # app reads the model again, in its own process's composition root); the desk
    # connects to no broker or database, only to the services' APIs
    config = ReittiConfig.from_env()
    if args.service != "desk":
        config.settings()
    logging.getLogger("uvicorn.access").addFilter(RedactTokens())
    uvicorn.run(
        f"services.{args.service}.app:create_app",
        factory=True,
        host=args.host,
        port=args.port or (DESK_PORT if args.service == "desk" else SERVICE_PORTS[args.service]),
        log_level="info",
    )
    return 0


def cmd_relay(args: argparse.Namespace) -> int:
    from reitti.preparation import service_migrations
    from runtime.relay import OutboxRelay
    from runtime.streams import ensure_streams

    settings = args.config.settings()
    schema, _ = service_migrations(args.service)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with connected(
            settings,
            name=f"reitti-{args.service}-relay",
            max_size=3,
            application_name=f"reitti-relay-{args.service}",
        ) as c:
            await ensure_streams(c.js, settings)
            relay = OutboxRelay(
                c.pool,
                c.js,
                schema=schema,
                stream=settings.events_stream,
                ack_timeout=settings.relay_ack_timeout,
            )
            await relay.run(stop)

    asyncio.run(run())
    return 0
