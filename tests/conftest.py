"""Fixtures: real servers once per session, a fresh database and namespace per test.

Isolation is cheap: each test's database is cloned from a migrated template
(``CREATE DATABASE ... TEMPLATE``) one test ahead and dropped one test behind, on a
thread of its own (``tests.support.databases``), and each test's streams and subjects carry a fresh
namespace, so tests neither see nor clean up after each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from reitti.preparation import SERVICE_MODULES, all_service_schemas
from runtime.config import Settings
from runtime.db import apply_migrations
from runtime.streams import connect_nats, ensure_streams
from tests.support.auth import ISSUER
from tests.support.databases import DatabaseSupply, with_database
from tests.support.servers import Servers, real_servers

# Intake's retention sweep erases clients closed over four years ago (ADR 11). Tests
# that record such closures decide themselves when erasure runs; the sweep's own test
# starts intake with a sweep interval of its own.
os.environ["REITTI_RETENTION_SWEEP_HOURS"] = "0"
# The key-encryption keys (docs/adr/0021): one private directory for the session. Each
# test database makes its own KEK there on first use (the template makes none), so a test
# that rotates its KEK touches no other test's.
os.environ.setdefault("REITTI_KEY_ENCRYPTION_KEY_DIR", tempfile.mkdtemp(prefix="reitti-kek-"))


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    base = Path(tmp_path_factory.mktemp("servers"))
    with real_servers(base) as found:
        yield found


@pytest.fixture(scope="session")
def template_database(servers: Servers) -> Iterator[str]:
    name = f"reitti_template_{uuid.uuid4().hex[:8]}"

    async def create() -> None:
        admin = await asyncpg.connect(servers.database_url)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        conn = await asyncpg.connect(with_database(servers.database_url, name))
        try:
            for service in SERVICE_MODULES:
                for schema, migrations in all_service_schemas(service):
                    await apply_migrations(conn, schema, migrations)
        finally:
            await conn.close()

    async def drop() -> None:
        admin = await asyncpg.connect(servers.database_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    asyncio.run(create())
    yield name
    asyncio.run(drop())


@pytest.fixture(scope="session")
def database_supply(servers: Servers, template_database: str) -> Iterator[DatabaseSupply]:
    supply = DatabaseSupply(servers.database_url, template_database)
    yield supply
    supply.close()


@pytest.fixture
def database_url(database_supply: DatabaseSupply) -> Iterator[str]:
    url = database_supply.take()
    yield url
    database_supply.give_back(url)


@pytest.fixture
async def settings(servers: Servers, database_url: str) -> AsyncIterator[Settings]:
    namespace = f"t{uuid.uuid4().hex[:10]}"
    settings = Settings(
        nats_url=servers.nats_url,
        database_url=database_url,
        namespace=namespace,
        jwt_public_key=ISSUER.public_pem(),
    )
    nc = await connect_nats(settings.nats_url, name="reitti-tests")
    js = nc.jetstream()
    await ensure_streams(js, settings)
    yield settings
    for stream in (settings.events_stream, settings.dead_letter_stream, settings.feeds_stream):
        with contextlib.suppress(Exception):
            await js.delete_stream(stream)
    await nc.close()


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=20)
    assert pool is not None
    yield pool
    await pool.close()


@pytest.fixture
async def nats_client(settings: Settings) -> AsyncIterator[object]:
    nc = await connect_nats(settings.nats_url, name="reitti-test-client")
    yield nc
    await nc.close()
