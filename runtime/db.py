"""Postgres connections and idempotent, ordered migrations."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import asyncpg

from runtime.sql import SqlStatements, substitute_schema

RUNTIME_MIGRATIONS = "runtime.migrations"


@dataclass(frozen=True)
class Migration:
    """One migration: a stable name and SQL in which ``{schema}`` is the target schema."""

    name: str
    sql: str

    @classmethod
    def from_package(cls, package: str, filename: str) -> Migration:
        sql = resources.files(package).joinpath(filename).read_text(encoding="utf-8")
        return cls(name=filename, sql=sql)


def event_store_migrations() -> list[Migration]:
    """The event store, outbox and consumer tracking tables of a write service."""
    return [
        Migration.from_package(RUNTIME_MIGRATIONS, "0001_event_store.sql"),
        *consumer_tracking_migrations(),
        Migration.from_package(RUNTIME_MIGRATIONS, "0005_envelope_written_once.sql"),
    ]


def consumer_tracking_migrations() -> list[Migration]:
    return [
        Migration.from_package(RUNTIME_MIGRATIONS, "0002_consumer_tracking.sql"),
        Migration.from_package(RUNTIME_MIGRATIONS, "0003_stream_positions.sql"),
    ]


async def _release(conn: asyncpg.Connection) -> None:
    """What a connection needs when it goes back to the pool. Reitti keeps no session
    state on pooled connections (no LISTEN, no session locks, no SET), so asyncpg's full
    reset (a round trip per release) is not needed; an open transaction is rolled back."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


#: Bounded waits on the database (docs/adr/0016), so that a caller never hangs on an
#: unreachable one: it gets a TimeoutError, which is an outage (runtime/outages.py: APIs
#: answer 503, consumers pause). A new connection is made within CONNECT_TIMEOUT (asyncpg's
#: own default is 60 s) in every pool.
CONNECT_TIMEOUT = 3.0
#: A service's pool (:data:`SERVICE_POOL`) also waits at most this long for a free
#: connection and for one command.
ACQUIRE_TIMEOUT = 5.0
COMMAND_TIMEOUT = 30.0


@dataclass(frozen=True)
class PoolLimits:
    """How long a pool's callers wait; None: as long as it takes."""

    acquire_timeout: float | None = None
    command_timeout: float | None = None


#: the waits of a service process's pool: its API requests, consumers and relays
SERVICE_POOL = PoolLimits(acquire_timeout=ACQUIRE_TIMEOUT, command_timeout=COMMAND_TIMEOUT)


class _BoundedPool(asyncpg.Pool):  # type: ignore[misc]  # asyncpg has no type hints
    """asyncpg's pool, whose ``acquire`` waits at most its ``acquire_timeout`` unless the
    caller gives a timeout of its own."""

    acquire_timeout: float | None = None

    def acquire(self, *, timeout: float | None = None) -> Any:
        return super().acquire(timeout=self.acquire_timeout if timeout is None else timeout)


async def create_pool(
    url: str,
    *,
    min_size: int = 1,
    max_size: int = 10,
    limits: PoolLimits = PoolLimits(),
    application_name: str | None = None,
) -> asyncpg.Pool:
    """A pool on ``url``; ``application_name`` names its sessions in pg_stat_activity."""
    pool = _BoundedPool(
        url,
        min_size=min_size,
        max_size=max_size,
        max_queries=50000,
        max_inactive_connection_lifetime=300.0,
        reset=_release,
        loop=None,
        connection_class=asyncpg.Connection,
        record_class=asyncpg.Record,
        timeout=CONNECT_TIMEOUT,
        command_timeout=limits.command_timeout,
        server_settings={"application_name": application_name} if application_name else None,
    )
    pool.acquire_timeout = limits.acquire_timeout
    await pool
    return pool


class MigrationSql(SqlStatements):
    """The migrations' own bookkeeping in a schema (``schema_migrations``)."""

    lock = "SELECT pg_advisory_xact_lock(hashtext('reitti.migrate'), hashtext($1))"
    create_schema = "CREATE SCHEMA IF NOT EXISTS {schema}"
    create_log = (
        "CREATE TABLE IF NOT EXISTS {schema}.schema_migrations ("
        " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
    )
    applied = "SELECT 1 FROM {schema}.schema_migrations WHERE name = $1"
    record = "INSERT INTO {schema}.schema_migrations (name) VALUES ($1)"


#: each schema's bookkeeping statements, formatted once
_migration_sql = functools.cache(MigrationSql)


async def apply_migrations(
    conn: asyncpg.Connection, schema: str, migrations: Sequence[Migration]
) -> list[str]:
    """Apply the migrations not yet applied to ``schema``; safe to run from many processes.

    Each migration runs in its own transaction under a transaction-level advisory lock on
    the schema, so two services starting at once apply each migration exactly once.
    Returns the names applied now.
    """
    sql = _migration_sql(schema)
    applied_now: list[str] = []
    for migration in migrations:
        async with conn.transaction():
            await conn.execute(sql.lock, schema)
            await conn.execute(sql.create_schema)
            await conn.execute(sql.create_log)
            done = await conn.fetchval(sql.applied, migration.name)
            if done:
                continue
            await conn.execute(substitute_schema(migration.sql, schema))
            await conn.execute(sql.record, migration.name)
            applied_now.append(migration.name)
    return applied_now


async def wait_for_database(url: str, *, within: float = 30.0) -> None:
    """Wait until Postgres accepts connections at ``url``; raise with the last error."""
    deadline = asyncio.get_running_loop().time() + within
    last: Exception | None = None
    while asyncio.get_running_loop().time() < deadline:
        try:
            conn = await asyncpg.connect(url, timeout=2)
        except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
            last = exc
            await asyncio.sleep(0.2)
            continue
        await conn.close()
        return
    raise TimeoutError(f"PostgreSQL at {redact(url)} did not answer within {within:.0f}s: {last}")


def redact(url: str) -> str:
    """A URL without its password, for messages."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else f"{scheme}://{user}@{host}"
