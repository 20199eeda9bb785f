"""What every service process holds: its Postgres pool, its NATS connections, its
FastStream broker and its background tasks, started and stopped in order by the
service's composition root (its FastAPI lifespan)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from faststream.nats import NatsBroker
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from runtime.auth import TokenVerifier
from runtime.config import ConfigError, Settings
from runtime.db import Migration, apply_migrations, create_pool, wait_for_database
from runtime.erasure import KEYS_SCHEMA, key_vault_migrations
from runtime.keyvault import ensure_vault
from runtime.relay import OutboxRelay, OutboxSignal
from runtime.streams import connect_nats, ensure_streams
from runtime.subscribers import DurableSubscription

log = logging.getLogger(__name__)

BackgroundTask = Callable[["ServiceHost", asyncio.Event], Awaitable[None]]


@dataclass
class ServiceHost:
    """The connections and tasks of one service; built in that service's composition root."""

    name: str
    settings: Settings
    schema: str
    migrations: Sequence[Migration]
    broker: NatsBroker
    background: Sequence[BackgroundTask] = ()
    #: further schemas this service owns (schema -> migrations), migrated at start
    other_schemas: Mapping[str, Sequence[Migration]] = field(default_factory=dict)
    #: run after connecting and before the broker starts consuming
    on_connected: Sequence[Callable[[ServiceHost], Awaitable[None]]] = ()
    #: the service's durable consumers, started after ``on_connected`` (runtime/subscribers.py)
    subscriptions: Sequence[DurableSubscription] = ()
    _pool: asyncpg.Pool | None = None
    _nc: NatsClient | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

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

    async def start(self) -> None:
        await wait_for_database(self.settings.database_url)
        self._pool = await create_pool(self.settings.database_url)
        async with self._pool.acquire() as conn:
            await apply_migrations(conn, self.schema, self.migrations)
            for schema, migrations in self.other_schemas.items():
                await apply_migrations(conn, schema, migrations)
            # Every service reads (and writers create) clients' keys (docs/adr/0011).
            await apply_migrations(conn, KEYS_SCHEMA, key_vault_migrations())
            await ensure_vault(conn)  # a KEK, and every key wrapped under one (ADR 0021)
        self._nc = await connect_nats(self.settings.nats_url, name=f"reitti-{self.name}")
        await ensure_streams(self.js, self.settings)
        for hook in self.on_connected:
            await hook(self)
        await self.broker.start()
        for subscription in self.subscriptions:
            await subscription.start(self.js)
        for task in self.background:
            self._tasks.append(asyncio.create_task(self._supervise(task)))

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
        await self.broker.stop()
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.drain()
        if self._pool is not None:
            await self._pool.close()

    async def health(self) -> dict[str, Any]:
        checks: dict[str, str] = {}
        try:
            async with self.pool.acquire(timeout=2) as conn:
                await conn.fetchval("SELECT 1", timeout=2)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unreachable: {type(exc).__name__}"
        try:
            await asyncio.wait_for(self.js.stream_info(self.settings.events_stream), timeout=2)
            checks["broker"] = "ok"
        except Exception as exc:
            checks["broker"] = f"unreachable: {type(exc).__name__}"
        healthy = all(v == "ok" for v in checks.values())
        return {"service": self.name, "status": "ok" if healthy else "unhealthy", **checks}


def service_app(host: ServiceHost, *, title: str, description: str, version: str) -> FastAPI:
    """A FastAPI app whose lifespan starts and stops ``host``; ``GET /healthz`` included."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await host.start()
        try:
            yield
        finally:
            await host.stop()

    if not host.settings.jwt_public_key:
        raise ConfigError(
            "REITTI_JWT_PUBLIC_KEY is not set: services verify callers' tokens with the issuer's public "
            "key (`reitti up` makes a development key pair under its data directory)"
        )
    app = FastAPI(title=title, description=description, version=version, lifespan=lifespan)
    app.state.host = host
    app.state.verifier = TokenVerifier.from_pem(
        host.settings.jwt_public_key, issuer=host.settings.jwt_issuer, audience=host.settings.jwt_audience
    )

    @app.get("/healthz", tags=["operations"], summary="Broker and database reachable?")
    async def healthz(request: Request) -> JSONResponse:
        report = await host.health()
        return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)

    return app


def relay_task(
    schema: str, signal: OutboxSignal | None = None, *, stream: Callable[[Settings], str] | None = None
) -> BackgroundTask:
    """The background task that relays ``schema``'s outbox to JetStream (to the events
    stream unless ``stream`` names another); ``signal`` is the one the service's event
    store fires on each append."""

    async def relay(host: ServiceHost, stop: asyncio.Event) -> None:
        target = stream(host.settings) if stream else host.settings.events_stream
        relay = OutboxRelay(host.pool, host.js, schema=schema, stream=target, signal=signal)
        await relay.run(stop)

    return relay
