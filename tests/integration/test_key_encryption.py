"""Client keys wrapped under a key-encryption key outside PostgreSQL, and its rotation
(architecture decision 14, docs/adr/0021), against real PostgreSQL: no key reaches the
database raw; after erasure and rotation, no copy of an erased client's key opens; a
rotation is safe beside appends, other processes and a stale writer."""

from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import date
from pathlib import Path

import asyncpg
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from contracts.intake import ClientReferred
from runtime import erasure, keyvault
from runtime.config import Settings
from runtime.eventstore import EventStore
from tests.support.apps import eventually
from tests.support.factories import client_referred, of_kind

pytestmark = pytest.mark.integration

PERSONAL_CODE = "010190-123M"  # the factory's


def store(pool: asyncpg.Pool, settings: Settings) -> EventStore:
    return EventStore(pool, schema="intake", namespace=settings.namespace, source="/test")


def new_client() -> str:
    return f"client-{uuid.uuid4()}"


async def vault_rows(pool: asyncpg.Pool) -> dict[str, asyncpg.Record]:
    rows = await pool.fetch("SELECT client_id, key, kek_id FROM keys.client_keys")
    return {r["client_id"]: r for r in rows}


async def opens(es: EventStore, client: str) -> bool:
    [event] = await es.load_events(client)
    assert isinstance(event, ClientReferred)
    return event.client.personal_identity_code == PERSONAL_CODE


def opens_with_any_kek_file(directory: Path, kek_id: uuid.UUID, client: str, wrapped: bytes) -> bool:
    """Whether any KEK file in ``directory`` opens ``wrapped``: what an attacker holding
    the directory (and a copy of the vault row) would try."""
    files = list(directory.glob("kek-*.key"))
    assert files, "the current KEK is there"
    for path in files:
        kek = base64.b64decode(path.read_text().strip().removeprefix("reitti-kek-v1:"))
        try:
            AESGCM(kek).decrypt(wrapped[:12], wrapped[12:], f"reitti-kek:{kek_id}:{client}".encode())
        except InvalidTag:
            continue
        return True
    return False


async def test_every_key_reaches_the_database_only_wrapped(pool, settings) -> None:
    es = store(pool, settings)
    appended, held, closed = new_client(), new_client(), new_client()
    await es.append(appended, 0, [client_referred(appended, 1)])
    async with pool.acquire() as conn:
        await erasure.set_legal_hold(conn, held, True)
        await erasure.record_closure(conn, closed, date(2020, 1, 1))
    rows = await vault_rows(pool)
    raw = await erasure.fetch_keys(pool, [appended, held, closed])
    current = await pool.fetchval("SELECT kek_id FROM keys.kek_current")
    ring = keyvault.default_ring()
    assert ring.has(current) and ring.path(current).stat().st_mode & 0o077 == 0
    for client in (appended, held, closed):
        key, stored = raw[client], bytes(rows[client]["key"])
        assert key is not None and len(key) == 32
        assert rows[client]["kek_id"] == current
        assert key not in stored, "the raw key must never be stored"
        assert ring.unwrap(current, client, stored) == key
    assert await opens(es, appended)
    # A wrapped key is bound to its client: moved to another row, it does not open.
    with pytest.raises(keyvault.KekError):
        ring.unwrap(current, held, bytes(rows[appended]["key"]))


async def test_after_erasure_and_rotation_no_copy_of_the_erased_key_opens(pool, settings) -> None:
    es = store(pool, settings)
    erased, kept = new_client(), new_client()
    for client in (erased, kept):
        await es.append(client, 0, [client_referred(client, 1)])
    before = await vault_rows(pool)
    copy, kept_copy = before[erased], before[kept]  # what a dead tuple, the WAL or a backup keeps
    old_kek = copy["kek_id"]
    assert opens_with_any_kek_file(keyvault.default_ring().directory, old_kek, erased, bytes(copy["key"]))
    async with pool.acquire() as conn:
        assert await erasure.delete_key(conn, erased, "test")
        assert await keyvault.erased_since_rotation(conn)
        done = await keyvault.rotate(conn)
        assert not await keyvault.erased_since_rotation(conn)
    assert done.destroyed == (old_kek,) and done.rewrapped == 1
    ring = keyvault.default_ring()
    assert not ring.path(old_kek).exists()
    with pytest.raises(keyvault.KekError):
        ring.unwrap(old_kek, erased, bytes(copy["key"]))
    assert not opens_with_any_kek_file(ring.directory, old_kek, erased, bytes(copy["key"]))
    assert not opens_with_any_kek_file(ring.directory, old_kek, kept, bytes(kept_copy["key"]))
    # The live client's key was re-wrapped and still opens its events; its old copy does not.
    row = (await vault_rows(pool))[kept]
    assert row["kek_id"] == done.new
    assert await opens(es, kept)
    [event] = await es.load_events(erased)
    assert of_kind(ClientReferred, event).client.personal_identity_code == erasure.ERASED


async def test_a_writer_with_a_retired_kek_wraps_again_under_the_current_one(pool, settings) -> None:
    """A process that made keys under the KEK before a rotation (and still has it in
    mind) must not write a key under it afterwards: its old KEK is destroyed."""
    es = store(pool, settings)
    first = new_client()
    await es.append(first, 0, [client_referred(first, 1)])  # the store now knows the KEK
    async with pool.acquire() as conn:
        done = await keyvault.rotate(conn)  # another process rotates
    late = new_client()
    await es.append(late, 0, [client_referred(late, 1)])
    assert (await vault_rows(pool))[late]["kek_id"] == done.new
    assert await opens(es, late) and await opens(es, first)


async def test_a_rotation_waits_for_an_append_under_the_old_kek_then_rewraps_its_key(pool, settings) -> None:
    es = store(pool, settings)
    async with pool.acquire() as conn:
        old = await keyvault.current_kek(conn)
    client = new_client()
    async with pool.acquire() as writer, pool.acquire() as rotator:
        tx = writer.transaction()
        await tx.start()
        await es.append(client, 0, [client_referred(client, 1)], conn=writer)  # wrapped under old
        rotation = asyncio.ensure_future(keyvault.rotate(rotator))
        pid = rotator.get_server_pid()

        async def waiting() -> str | None:
            return await pool.fetchval("SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1", pid)

        await eventually(waiting, lambda w: w == "Lock", within=10)
        assert not rotation.done()
        await tx.commit()
        done = await rotation
    assert done.destroyed == (old,)
    assert (await vault_rows(pool))[client]["kek_id"] == done.new
    assert await opens(es, client)


async def test_a_key_under_the_old_kek_stays_readable_until_the_rotation_has_rewrapped_it(
    pool, settings, tmp_path
) -> None:
    """Mid-rotation (one row held by an append, so the re-wrap waits on it), another
    process still opens a key not yet re-wrapped, with its own ring; the old KEK is
    destroyed only once every key is re-wrapped."""
    es = store(pool, settings)
    clients = sorted(new_client() for _ in range(3))
    for client in clients:
        await es.append(client, 0, [client_referred(client, 1)])
    old = (await vault_rows(pool))[clients[0]]["kek_id"]
    other_process = keyvault.KekRing(keyvault.default_ring().directory)
    async with pool.acquire() as holder, pool.acquire() as rotator:
        tx = holder.transaction()
        await tx.start()
        await holder.execute("SELECT 1 FROM keys.client_keys WHERE client_id = $1 FOR SHARE", clients[0])
        rotation = asyncio.ensure_future(keyvault.rotate(rotator))
        pid = rotator.get_server_pid()

        async def waiting() -> str | None:
            return await pool.fetchval("SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1", pid)

        await eventually(waiting, lambda w: w == "Lock", within=10)
        row = (await vault_rows(pool))[clients[2]]
        assert row["kek_id"] == old, "not yet re-wrapped"
        # A writer that still has the old KEK in mind (its file still exists) makes a key:
        # the statement sees the KEK was retired and the writer wraps under the new one.
        late = new_client()
        await es.append(late, 0, [client_referred(late, 1)])
        current = await pool.fetchval("SELECT kek_id FROM keys.kek_current")
        assert current != old and (await vault_rows(pool))[late]["kek_id"] == current
        assert other_process.unwrap(old, clients[2], bytes(row["key"]))
        assert other_process.has(old)
        await tx.commit()
        done = await rotation
    assert not other_process.has(old)
    with pytest.raises(keyvault.KekError):
        other_process.unwrap(old, clients[2], bytes(row["key"]))
    for client in clients:
        assert (await vault_rows(pool))[client]["kek_id"] == done.new
        assert await opens(es, client)


async def test_rotations_beside_concurrent_appends_lose_no_key(pool, settings) -> None:
    es = store(pool, settings)
    clients = [new_client() for _ in range(60)]
    stop = asyncio.Event()

    async def rotate_repeatedly() -> int:
        rotations = 0
        async with pool.acquire() as conn:
            while not stop.is_set():
                await keyvault.rotate(conn)
                rotations += 1
        return rotations

    rotating = asyncio.ensure_future(rotate_repeatedly())
    try:
        for start in range(0, len(clients), 10):
            batch = clients[start : start + 10]
            await asyncio.gather(*(es.append(c, 0, [client_referred(c, 1)]) for c in batch))
            await asyncio.gather(*(es.append(c, 1, [client_referred(c, 2)]) for c in batch))
    finally:
        stop.set()
        rotations = await rotating
    assert rotations >= 1
    current = await pool.fetchval("SELECT kek_id FROM keys.kek_current")
    rows = await vault_rows(pool)
    assert {rows[c]["kek_id"] for c in clients} == {current}
    for client in clients:
        events = await es.load_events(client)
        assert [of_kind(ClientReferred, e).client.personal_identity_code for e in events] == [
            PERSONAL_CODE
        ] * 2


async def test_keys_from_before_wrapping_are_wrapped_at_start(pool) -> None:
    client = new_client()
    raw = erasure.new_key()
    await pool.execute("INSERT INTO keys.client_keys (client_id, key) VALUES ($1, $2)", client, raw)
    async with pool.acquire() as conn:
        assert await keyvault.ensure_vault(conn) == 1
    row = (await vault_rows(pool))[client]
    assert row["kek_id"] is not None and raw not in bytes(row["key"])
    assert (await erasure.fetch_keys(pool, [client]))[client] == raw


async def test_a_kek_directory_without_the_current_kek_is_a_clear_error(pool, tmp_path) -> None:
    async with pool.acquire() as conn:
        await keyvault.current_kek(conn)
        with pytest.raises(keyvault.KekError, match="REITTI_KEY_ENCRYPTION_KEY_DIR"):
            await keyvault.ensure_vault(conn, keyvault.KekRing(tmp_path / "elsewhere"))


async def test_the_first_kek_is_made_outside_a_callers_transaction(pool, settings) -> None:
    """In a database without a KEK, an append inside a caller's open transaction makes the
    first one on a connection of its own: another writer does not wait for that caller."""
    await pool.execute("DELETE FROM keys.kek_current")
    await pool.execute("DELETE FROM keys.key_encryption_keys")
    es = store(pool, settings)
    inside, outside = new_client(), new_client()
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        await es.append(inside, 0, [client_referred(inside, 1)], conn=conn)
        other = EventStore(pool, schema="intake", namespace=settings.namespace, source="/test")
        appended = other.append(outside, 0, [client_referred(outside, 1)])
        assert await asyncio.wait_for(appended, timeout=15) == 1
        await tx.commit()
    assert await opens(es, inside) and await opens(es, outside)
