"""The connections an operator command holds while it runs, opened and closed in one place.

Each command that works on a running system opens a PostgreSQL pool, a NATS connection, or
both, and must close them however it ends; :func:`connected`, :func:`database` and
:func:`broker` do that once for all of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from runtime.config import Settings

if TYPE_CHECKING:
    import asyncpg
    from nats.aio.client import Client as NatsClient
    from nats.js import JetStreamContext


@dataclass(frozen=True)
class Connections:
    """A command's pool on the database and its connection to the broker."""

    pool: asyncpg.Pool
    nc: NatsClient

    @property
    def js(self) -> JetStreamContext:
        return self.nc.jetstream()


@asynccontextmanager
async def database(
    settings: Settings, *, max_size: int = 2, application_name: str | None = None
) -> AsyncIterator[asyncpg.Pool]:
    """A pool on ``REITTI_DATABASE_URL``, closed on the way out."""
    from runtime.db import create_pool

    pool = await create_pool(settings.database_url, max_size=max_size, application_name=application_name)
    try:
        yield pool
    finally:
        await pool.close()


@asynccontextmanager
async def broker(settings: Settings, *, name: str) -> AsyncIterator[NatsClient]:
    """A connection to ``REITTI_NATS_URL`` named ``name``, closed on the way out."""
    from runtime.streams import connect_nats

    nc = await connect_nats(settings.nats_url, name=name)
    try:
        yield nc
    finally:
        await nc.close()


@asynccontextmanager
async def connected(
    settings: Settings, *, name: str, max_size: int = 2, application_name: str | None = None
) -> AsyncIterator[Connections]:
    """Both: the pool opened first and closed last."""
    async with (
        database(settings, max_size=max_size, application_name=application_name) as pool,
        broker(settings, name=name) as nc,
    ):
        yield Connections(pool, nc)
