"""The embedded servers are locked down (docs/adr/0022): PostgreSQL wants its generated
password (SCRAM) over loopback TCP, with no ``trust`` line and no Unix socket, also for a
data directory made before passwords; NATS has no unauthenticated user; and another OS
user on the machine can read none of the credentials or keys under the data directory."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from runtime.auth import ensure_dev_keys
from runtime.config import write_connection
from runtime.embedded import EmbeddedNats, EmbeddedPostgres, free_port
from runtime.keyvault import KekRing
from tests.support.private_files import assert_nobody_reads_no_secret

pytestmark = pytest.mark.integration

REFUSED = (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError)


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[EmbeddedPostgres]:
    postgres = EmbeddedPostgres(tmp_path / "postgres", free_port())
    postgres.start()
    try:
        yield postgres
    finally:
        postgres.stop()


async def connect(port: int, password: str | None, tmp_path: Path) -> asyncpg.Connection:
    """As a local user would: no PGPASSWORD, no ~/.pgpass (an empty passfile)."""
    passfile = tmp_path / "empty-pgpass"
    passfile.write_text("")
    passfile.chmod(0o600)
    return await asyncpg.connect(
        host="127.0.0.1",
        port=port,
        user="postgres",
        database="reitti",
        password=password,
        passfile=str(passfile),
        timeout=10,
    )


def assert_locked(postgres: EmbeddedPostgres) -> None:
    hba = (postgres.pgdata / "pg_hba.conf").read_text()
    rules = [line.split() for line in hba.splitlines() if line.strip() and not line.startswith("#")]
    assert rules == [["host", "all", "all", "127.0.0.1/32", "scram-sha-256"]], hba
    assert postgres.password_file.stat().st_mode & 0o077 == 0


async def test_postgres_refuses_a_connection_without_the_password_or_with_a_wrong_one(
    own_postgres: EmbeddedPostgres, tmp_path: Path
) -> None:
    assert_locked(own_postgres)
    with pytest.raises(REFUSED):
        await connect(own_postgres.port, None, tmp_path)
    with pytest.raises(REFUSED):
        await connect(own_postgres.port, "not-the-password", tmp_path)
    conn = await connect(own_postgres.port, own_postgres.password(), tmp_path)
    try:
        assert await conn.fetchval("SHOW unix_socket_directories") == ""
        stored = await conn.fetchval("SELECT rolpassword FROM pg_authid WHERE rolname = 'postgres'")
        assert stored.startswith("SCRAM-SHA-256$")
    finally:
        await conn.close()
    # The URL the services get carries the password.
    conn = await asyncpg.connect(own_postgres.url())
    await conn.close()


def initdb_with_trust(postgres: EmbeddedPostgres) -> None:
    """A data directory as `reitti up` made them before passwords."""
    postgres.pgdata.mkdir(parents=True)
    postgres.pgdata.chmod(0o700)
    user = postgres._run_as()
    subprocess.run(
        [str(postgres._bin("initdb")), "-D", str(postgres.pgdata), "--auth=trust", "-U", "postgres"],
        user=user,
        capture_output=True,
        check=True,
    )


@pytest.mark.slow
async def test_a_data_directory_made_with_trust_is_locked_at_start(tmp_path: Path) -> None:
    """``reitti up`` before this change ran ``initdb --auth=trust``: the next start gives
    the superuser a password and removes the trust line."""
    postgres = EmbeddedPostgres(tmp_path / "postgres", free_port())
    initdb_with_trust(postgres)
    assert "trust" in (postgres.pgdata / "pg_hba.conf").read_text()
    postgres.start()
    try:
        assert_locked(postgres)
        with pytest.raises(REFUSED):
            await connect(postgres.port, None, tmp_path)
        conn = await connect(postgres.port, postgres.password(), tmp_path)
        await conn.close()
    finally:
        postgres.stop()


async def test_nats_has_no_unauthenticated_user(tmp_path: Path) -> None:
    import nats
    from nats.errors import NoServersError

    broker = EmbeddedNats(tmp_path / "nats", free_port())
    config = broker.config_text()
    assert "no_auth_user" not in config and "authorization" not in config
    broker.start()
    try:
        with pytest.raises((NoServersError, nats.errors.Error, OSError)):
            await nats.connect(f"nats://127.0.0.1:{broker.port}", allow_reconnect=False, connect_timeout=3)
        nc = await nats.connect(broker.url, allow_reconnect=False, connect_timeout=3)
        await nc.close()
    finally:
        broker.stop()


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("runuser") is None, reason="needs root and runuser to act as nobody"
)
def test_another_os_user_cannot_read_the_credentials_or_keys(tmp_path: Path) -> None:
    data_dir = tmp_path / "reitti"
    nats = EmbeddedNats(data_dir / "nats", free_port())
    postgres = EmbeddedPostgres(data_dir / "postgres", free_port())
    nats.start()
    try:
        postgres.start()
        try:
            ensure_dev_keys(data_dir / "keys")
            KekRing(data_dir / "keys" / "kek").create()
            write_connection(data_dir, {"REITTI_DATABASE_URL": postgres.url(), "REITTI_NATS_URL": nats.url})
            assert_nobody_reads_no_secret(data_dir)
        finally:
            postgres.stop()
    finally:
        nats.stop()
