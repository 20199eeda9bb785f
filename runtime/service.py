"""What every service process holds: its Postgres pool, its NATS connection, its durable
subscriptions and its background tasks, started and stopped in order by the service's
composition root (its FastAPI lifespan).

A host starts only the FastStream brokers it is given (``brokers``), and only one that
carries traffic is given: reporting's partner-feed publishers (docs/adr/0043). The
consumers run on nats-py (runtime/subscribers.py; the batch pull subscriber was measured
at about 0.85 of it, ADR 0034), and the brokers that declare the rest of the AsyncAPI
document (``reitti asyncapi``) are built and never connected."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from faststream.nats import NatsBroker
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from runtime.auth import TokenVerifier
from runtime.config import ConfigError, Settings
from runtime.db import (
    CONNECT_TIMEOUT,
    SERVICE_POOL,
    Migration,
    apply_migrations,
    create_pool,
    wait_for_database,
)
from runtime.erasure import KEYS_SCHEMA, key_vault_migrations
from runtime.health import HealthReport, consumer_lag, outbox_delay
from runtime.keyvault import ensure_vault
from runtime.openapi import install_openapi
from runtime.outages import BrokerUnavailable
from runtime.relay import OutboxRelay, OutboxSignal, StreamPublisher
from runtime.request_limits import FORM_BODIES, IMPORT_BODIES, BodyLimits, RequestLimits
from runtime.stalls import STALL_ACK_WAITS, watch_subscription
from runtime.streams import connect_nats, ensure_streams
from runtime.subscribers import DurableSubscription

log = logging.getLogger(__name__)

#: seconds each health probe may take (the database, the broker, each outbox, each consumer)
HEALTH_TIMEOUT = 1.0

BackgroundTask = Callable[["ServiceHost", asyncio.Event], Awaitable[None]]


@dataclass
class ServiceHost:
    """The connections and tasks of one service; built in that service's composition root."""

    name: str
    settings: Settings
    schema: str
    migrations: Sequence[Migration]
    background: Sequence[BackgroundTask] = ()
    #: further schemas this service owns (schema -> migrations), migrated at start
    other_schemas: Mapping[str, Sequence[Migration]] = field(default_factory=dict)
    #: run after connecting and before the subscriptions start consuming
    on_connected: Sequence[Callable[[ServiceHost], Awaitable[None]]] = ()
    #: the service's durable consumers, started after ``on_connected`` (runtime/subscribers.py)
    subscriptions: Sequence[DurableSubscription] = ()
    #: FastStream brokers that carry traffic (publishers only): connected after NATS and
    #: before the background tasks start, stopped after they have stopped
    brokers: Sequence[NatsBroker] = ()
    _pool: asyncpg.Pool | None = None
    _nc: NatsClient | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    #: this process's relays by schema (registered by :func:`relay_task`), for health
    relays: dict[str, OutboxRelay] = field(default_factory=dict)

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError(f"{self.name} is not started")
        return self._pool

    @property
    def nats(self) -> NatsClient:
        if self._nc is None:
            raise RuntimeError(f"{self.name} is not started")
        return self._nc

    @property
    def js(self) -> JetStreamContext:
        return self.nats.jetstream()

    def require_broker(self) -> JetStreamContext:
        """JetStream, for a request that needs the broker now: :class:`BrokerUnavailable`
        (an API answers 503) at once while the connection is down, instead of a request
        that waits for a reconnect."""
        if self._nc is None or not self._nc.is_connected:
            raise BrokerUnavailable("the broker connection is down")
        return self.js

    async def start(self) -> None:
        await wait_for_database(self.settings.database_url)
        # Migrations may run long: on a connection of their own, without the pool's
        # command timeout.
        conn = await asyncpg.connect(self.settings.database_url, timeout=CONNECT_TIMEOUT)
        try:
            await apply_migrations(conn, self.schema, self.migrations)
            for schema, migrations in self.other_schemas.items():
                await apply_migrations(conn, schema, migrations)
            # Every service reads (and writers create) clients' keys (docs/adr/0011).
            await apply_migrations(conn, KEYS_SCHEMA, key_vault_migrations())
            await ensure_vault(conn)  # a KEK, and every key wrapped under one (ADR 0021)
        finally:
            await conn.close()
        self._pool = await create_pool(
            self.settings.database_url, limits=SERVICE_POOL, application_name=f"reitti-{self.name}"
        )
        self._nc = await connect_nats(self.settings.nats_url, name=f"reitti-{self.name}")
        await ensure_streams(self.js, self.settings)
        for hook in self.on_connected:
            await hook(self)
        for subscription in self.subscriptions:
            await subscription.start(self.js)
        for broker in self.brokers:
            await broker.start()
        for task in self.background:
            self._tasks.append(asyncio.create_task(self._supervise(task)))
        for subscription in self.subscriptions:
            self._tasks.append(asyncio.create_task(self._watch(subscription)))

    async def _watch(self, subscription: DurableSubscription) -> None:
        """Resubscribe ``subscription`` if it stalls (runtime/stalls.py, ADR 0051)."""
        ack_wait = self.settings.ack_wait
        await watch_subscription(
            lambda: self.js,
            self.settings.events_stream,
            subscription,
            self._stop,
            every=ack_wait,
            stall_after=STALL_ACK_WAITS * ack_wait,
        )

    async def _supervise(self, task: BackgroundTask) -> None:
        # A background task that crashes is restarted: the relay must keep relaying.
        while not self._stop.is_set():
            try:
                await task(self, self._stop)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s: background task %s crashed; restarting", self.name, task)
                await asyncio.sleep(1.0)

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=5)
        for subscription in self.subscriptions:
            with contextlib.suppress(Exception):
                await subscription.stop()
        for broker in self.brokers:
            with contextlib.suppress(Exception):
                await broker.stop()
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.drain()
        if self._pool is not None:
            await self._pool.close()

    async def health(self) -> dict[str, Any]:
        """Reachable broker and database, outboxes that drain, consumers that keep up:
        "ok"; else "unhealthy" (unreachable) or "degraded", with the reasons."""
        report = HealthReport(self.name, lag_limit=self.settings.lag_limit)
        try:
            async with self.pool.acquire(timeout=HEALTH_TIMEOUT) as conn:
                await conn.fetchval("SELECT 1", timeout=HEALTH_TIMEOUT)
            report.reachable("database")
            for schema, relay in self.relays.items():
                await outbox_delay(report, schema, relay, within=HEALTH_TIMEOUT)
        except Exception as exc:
            report.unreachable("database", exc)
        try:
            if self._nc is None or not self._nc.is_connected:
                raise BrokerUnavailable("not connected")
            await asyncio.wait_for(self.js.stream_info(self.settings.events_stream), timeout=HEALTH_TIMEOUT)
            report.reachable("broker")
            for subscription in self.subscriptions:
                await consumer_lag(report, self.js, self.settings, subscription, within=HEALTH_TIMEOUT)
        except Exception as exc:
            report.unreachable("broker", exc)
        return report.as_dict()


def service_app(
    host: ServiceHost,
    *,
    title: str,
    description: str,
    version: str,
    import_paths: tuple[str, ...] = (),
    token_in_body: tuple[str, ...] = (),
) -> FastAPI:
    """A FastAPI app whose lifespan starts and stops ``host``; ``GET /healthz`` included.
    Every request with a body is authenticated and bounded before it is read
    (runtime/request_limits.py); ``import_paths`` take bodies up to the import limit;
    ``token_in_body`` paths (a sign-in form) are bounded but verify their token themselves."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await host.start()
        # What start-up made (modules, the app) lives as long as the process: frozen out of
        # the cyclic collector, a full collection walks only what requests made since, in
        # milliseconds, not the 100 ms that stopped the loop during a large import
        # (docs/adr/0026). Unfrozen at the end, so a process that starts apps again and
        # again (the tests) collects what each left.
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            await host.stop()

    if not host.settings.jwt_public_key:
        raise ConfigError(
            "REITTI_JWT_PUBLIC_KEY is not set: services verify callers' tokens with the issuer's public "
            "key (`reitti up` makes a development key pair under its data directory)"
        )
    # FastAPIOffline: Swagger UI and ReDoc from files shipped in the package, no CDN.
    app = FastAPIOffline(title=title, description=description, version=version, lifespan=lifespan)
    app.state.host = host
    app.state.verifier = TokenVerifier.from_pem(
        host.settings.jwt_public_key, issuer=host.settings.jwt_issuer, audience=host.settings.jwt_audience
    )

    limits = BodyLimits(
        default=host.settings.max_body_bytes,
        by_path=dict.fromkeys(import_paths, host.settings.max_import_bytes),
        media_by_path={
            **dict.fromkeys(import_paths, IMPORT_BODIES),
            **dict.fromkeys(token_in_body, FORM_BODIES),
        },
    )

    app.add_middleware(
        RequestLimits,
        verifier=lambda: app.state.verifier,
        limits=limits,
        token_in_body=frozenset(token_in_body),
    )
    install_openapi(app, raw_body_paths=import_paths)

    @app.get(
        "/healthz",
        tags=["operations"],
        summary="Broker and database reachable, outboxes draining, consumers keeping up?",
        description="200 with status ok; else 503 with status unhealthy (broker or database "
        "unreachable) or degraded (an outbox or consumer lags past REITTI_LAG_LIMIT), and the "
        "reasons.",
        responses={
            503: {
                "description": "Unhealthy or degraded, with the reasons (the same report as the 200)",
                "content": {"application/json": {}},
            }
        },
    )
    async def healthz(request: Request) -> JSONResponse:
        report = await host.health()
        return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)

    return app


def relay_task(
    schema: str,
    signal: OutboxSignal | None = None,
    *,
    stream: Callable[[Settings], str] | None = None,
    publisher: StreamPublisher | None = None,
    batch_size: int = 500,
) -> BackgroundTask:
    """The background task that relays ``schema``'s outbox to JetStream (to the events
    stream unless ``stream`` names another); ``signal`` is the one the service's event
    store fires on each append. ``publisher``: how it publishes (nats-py's pipelined
    publish on the host's connection unless given); ``batch_size``: rows per batch."""

    async def relay(host: ServiceHost, stop: asyncio.Event) -> None:
        target = stream(host.settings) if stream else host.settings.events_stream
        relay = OutboxRelay(
            host.pool,
            host.js,
            schema=schema,
            stream=target,
            signal=signal,
            ack_timeout=host.settings.relay_ack_timeout,
            publisher=publisher,
            batch_size=batch_size,
        )
        host.relays[schema] = relay
        await relay.run(stop)

    return relay
