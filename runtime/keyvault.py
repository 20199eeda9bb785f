"""Key-encryption keys: client keys are stored only wrapped, under a key kept outside
PostgreSQL, and that key is rotated after erasures (architecture decision 14, ADR 0021).

A client's key (``keys.client_keys.key``, ADR 0011) is AES-GCM-wrapped under a
key-encryption key (*avaimen salausavain*, KEK). A KEK is 256 random bits in a file of
its own, ``kek-<id>.key`` (mode 0600), in the directory
``REITTI_KEY_ENCRYPTION_KEY_DIR`` (``reitti up``: ``<data-dir>/keys/kek``), never in the
database. The database only names the KEKs (``keys.key_encryption_keys``), records
which one is current (``keys.kek_current``, one row) and, for each client key, which KEK
wraps it (``client_keys.kek_id``).

- **Wrapping.** Every new client key is made in Python (:func:`runtime.erasure.new_key`)
  and reaches PostgreSQL only wrapped under the current KEK. The statement that inserts
  it holds ``kek_current`` ``FOR SHARE`` and inserts only if that KEK is still current:
  a key wrapped under a KEK that a rotation has just retired is never written.
- **Rotation** (:func:`rotate`): make a new KEK, make it current (that update waits for
  every transaction that holds ``kek_current`` shared, so every key inserted under the old
  KEK is committed and visible afterwards), re-wrap every live key under the new one, and
  then destroy the old KEK's file. A copy of an erased client's key (a dead tuple, WAL, a
  backup) is wrapped under a KEK that no longer exists anywhere, so nothing opens it.
- **Several processes.** Each reads a KEK's file when it needs it and keeps it only while
  the file exists (checked on every use), so a destroyed KEK stops working everywhere.
  A key still wrapped under the old KEK is readable until its row is re-wrapped.
"""

from __future__ import annotations

import base64
import contextlib
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from runtime.operator_config import kek_directory
from runtime.sql import SqlStatements

#: where the KEK files are (``reitti up`` sets it to ``<data-dir>/keys/kek``)
KEK_DIR_VARIABLE = "REITTI_KEY_ENCRYPTION_KEY_DIR"
_FILE_PREFIX = "reitti-kek-v1:"
_NONCE = 12
#: rows re-wrapped per transaction
REWRAP_BATCH = 1000

#: the vault's schema: the client keys and the KEKs' names (runtime/erasure.py)
KEYS_SCHEMA = "keys"


class KekSql(SqlStatements):
    """The statements on the KEKs and the wrapping of the client keys (the vault's schema)."""

    current = "SELECT kek_id FROM {schema}.kek_current"
    bootstrap_lock = "SELECT pg_advisory_xact_lock(hashtext('reitti.kek'))"
    rotation_lock = "SELECT pg_try_advisory_lock(hashtext('reitti.kek-rotation'))"
    rotation_unlock = "SELECT pg_advisory_unlock(hashtext('reitti.kek-rotation'))"
    add_kek = """
INSERT INTO {schema}.key_encryption_keys (id, generation)
SELECT $1, coalesce(max(generation), 0) + 1 FROM {schema}.key_encryption_keys
"""
    make_current = "INSERT INTO {schema}.kek_current (kek_id) VALUES ($1)"
    to_rewrap = """
SELECT client_id, key, kek_id FROM {schema}.client_keys
WHERE key IS NOT NULL AND kek_id IS DISTINCT FROM $1
ORDER BY client_id LIMIT $2 FOR UPDATE
"""
    rewrap = """
UPDATE {schema}.client_keys k SET key = u.key, kek_id = $3
FROM unnest($1::text[], $2::bytea[]) AS u(client_id, key) WHERE k.client_id = u.client_id
"""
    unwrapped = "SELECT 1 FROM {schema}.client_keys WHERE key IS NOT NULL AND kek_id IS NULL LIMIT 1"
    retire_others = (
        "UPDATE {schema}.key_encryption_keys SET retired_at = now() WHERE retired_at IS NULL AND id <> $1"
    )
    switch_current = "UPDATE {schema}.kek_current SET kek_id = $1, since = now()"
    others = "SELECT id FROM {schema}.key_encryption_keys WHERE id <> $1 AND destroyed_at IS NULL"
    left_under_others = (
        "SELECT count(*) FROM {schema}.client_keys WHERE key IS NOT NULL AND kek_id IS DISTINCT FROM $1"
    )
    destroyed = "UPDATE {schema}.key_encryption_keys SET destroyed_at = now() WHERE id = $1"
    #: the KEK is still current, held so that no rotation switches it before commit
    still_current = "SELECT 1 FROM {schema}.kek_current WHERE kek_id = $1 FOR SHARE"
    erased_since_rotation = (
        "SELECT EXISTS (SELECT 1 FROM {schema}.client_keys k, {schema}.kek_current c "
        "WHERE k.erased_at >= c.since)"
    )


_SQL = KekSql(KEYS_SCHEMA)


class KekError(RuntimeError):
    """A key-encryption key is missing or does not open a client key."""


def _aad(kek_id: uuid.UUID, client_id: str) -> bytes:
    return f"reitti-kek:{kek_id}:{client_id}".encode()


@dataclass
class _Loaded:
    inode: tuple[int, int]
    aead: AESGCM


class KekRing:
    """The KEK files of one directory. A KEK is read from its file on first use and kept
    only while that file exists: every use checks it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._loaded: dict[uuid.UUID, _Loaded] = {}

    def path(self, kek_id: uuid.UUID) -> Path:
        return self.directory / f"kek-{kek_id}.key"

    def _file(self, kek_id: uuid.UUID) -> str:
        return os.path.join(self.directory, f"kek-{kek_id}.key")

    def _aead(self, kek_id: uuid.UUID) -> AESGCM:
        try:
            st = os.stat(self._file(kek_id))
        except FileNotFoundError:
            self._loaded.pop(kek_id, None)
            raise KekError(
                f"the key-encryption key {kek_id} is not in {self.directory}: it was destroyed by a "
                f"rotation, or {KEK_DIR_VARIABLE} names the wrong directory"
            ) from None
        inode = (st.st_dev, st.st_ino)
        loaded = self._loaded.get(kek_id)
        if loaded is None or loaded.inode != inode:
            path = self.path(kek_id)
            text = path.read_text(encoding="ascii").strip()
            if not text.startswith(_FILE_PREFIX):
                raise KekError(f"{path} is not a key-encryption key")
            loaded = _Loaded(inode, AESGCM(base64.b64decode(text[len(_FILE_PREFIX) :], validate=True)))
            self._loaded[kek_id] = loaded
        return loaded.aead

    def has(self, kek_id: uuid.UUID) -> bool:
        return os.path.isfile(self._file(kek_id))

    def unwrap_rows(self, rows: Iterable[tuple[str, bytes | None, object]]) -> dict[str, bytes | None]:
        """:func:`unwrap_row` of each (client id, key, KEK id), checking each KEK's file
        once for the whole call rather than once per key."""
        aeads: dict[uuid.UUID, AESGCM] = {}
        out: dict[str, bytes | None] = {}
        for client_id, key, kek in rows:
            if key is None or kek is None:
                out[client_id] = None if key is None else bytes(key)
                continue
            kek_id = uuid.UUID(str(kek))
            aead = aeads.get(kek_id) or aeads.setdefault(kek_id, self._aead(kek_id))
            wrapped = bytes(key)
            try:
                out[client_id] = aead.decrypt(wrapped[:_NONCE], wrapped[_NONCE:], _aad(kek_id, client_id))
            except InvalidTag:
                raise KekError(f"the key of {client_id!r} does not open under the KEK {kek_id}") from None
        return out

    def wrap(self, kek_id: uuid.UUID, client_id: str, key: bytes) -> bytes:
        """``key`` wrapped under the KEK ``kek_id``, bound to ``client_id``."""
        nonce = os.urandom(_NONCE)
        return nonce + self._aead(kek_id).encrypt(nonce, key, _aad(kek_id, client_id))

    def unwrap(self, kek_id: uuid.UUID, client_id: str, wrapped: bytes) -> bytes:
        try:
            return self._aead(kek_id).decrypt(wrapped[:_NONCE], wrapped[_NONCE:], _aad(kek_id, client_id))
        except InvalidTag:
            raise KekError(
                f"the key of {client_id!r} does not open under the key-encryption key {kek_id}"
            ) from None

    def create(self) -> uuid.UUID:
        """A new KEK: 256 random bits in a file of its own (0600, written atomically)."""
        kek_id = uuid.uuid4()
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(OSError):
            self.directory.chmod(0o700)
        body = _FILE_PREFIX + base64.b64encode(AESGCM.generate_key(bit_length=256)).decode() + "\n"
        tmp = self.directory / f".kek-{kek_id}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, body.encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path(kek_id))
        _fsync_dir(self.directory)
        return kek_id

    def destroy(self, kek_id: uuid.UUID) -> None:
        """Overwrite the KEK's file, then remove it. (On a copy-on-write or journalling
        file system the old blocks may survive on the device: keep the directory out of
        backups and off snapshots, docs/adr/0021.)"""
        self._loaded.pop(kek_id, None)
        path = self.path(kek_id)
        try:
            fd = os.open(path, os.O_WRONLY)
        except FileNotFoundError:
            return
        try:
            size = os.fstat(fd).st_size
            os.write(fd, os.urandom(max(size, 64)))
            os.fsync(fd)
        finally:
            os.close(fd)
        path.unlink(missing_ok=True)
        _fsync_dir(self.directory)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_RINGS: dict[Path, KekRing] = {}


def default_ring() -> KekRing:
    """The ring of :func:`runtime.operator_config.kek_directory` (read from the environment
    with the settings model on each call, so a process that changes it gets the new
    directory)."""
    directory = kek_directory()
    ring = _RINGS.get(directory)
    if ring is None:
        ring = _RINGS[directory] = KekRing(directory)
    return ring


# --- the database side -------------------------------------------------------------------


async def current_kek(conn: asyncpg.Connection, ring: KekRing | None = None) -> uuid.UUID:
    """The database's current KEK; the first one is made here (once, whoever asks first).
    Made inside a transaction of the caller's, it is held (and others wait) until that
    ends: services make it at start (:func:`ensure_vault`), outside any."""
    found = await conn.fetchval(_SQL.current)
    if found is not None:
        return uuid.UUID(str(found))
    ring = ring or default_ring()
    async with conn.transaction():
        await conn.execute(_SQL.bootstrap_lock)
        found = await conn.fetchval(_SQL.current)
        if found is not None:
            return uuid.UUID(str(found))
        kek_id = ring.create()
        await conn.execute(_SQL.add_kek, kek_id)
        await conn.execute(_SQL.make_current, kek_id)
    return kek_id


def unwrap_row(ring: KekRing, client_id: str, key: bytes | None, kek_id: object) -> bytes | None:
    """A vault row's usable key: None when erased; a key from before wrapping (no KEK)
    as it is, until :func:`ensure_vault` wraps it."""
    if key is None:
        return None
    if kek_id is None:
        return bytes(key)
    return ring.unwrap(uuid.UUID(str(kek_id)), client_id, bytes(key))


async def _rewrap(conn: asyncpg.Connection, ring: KekRing, target: uuid.UUID, *, hold: bool) -> int:
    """Re-wrap, a batch per transaction, every live key not under ``target``; with
    ``hold``, only while ``target`` stays current (held shared in each batch)."""
    done = 0
    while True:
        try:
            batch = await _rewrap_batch(conn, ring, target, hold=hold)
        except asyncpg.DeadlockDetectedError:
            continue  # with an append that held some of the batch's rows: again
        if not batch:
            return done
        done += batch


async def _rewrap_batch(conn: asyncpg.Connection, ring: KekRing, target: uuid.UUID, *, hold: bool) -> int:
    async with conn.transaction():
        if hold and await conn.fetchval(_SQL.still_current, target) is None:
            return 0  # a rotation took over; it re-wraps everything itself
        rows = await conn.fetch(_SQL.to_rewrap, target, REWRAP_BATCH)
        if not rows:
            return 0
        ids = [r["client_id"] for r in rows]
        wrapped = [
            ring.wrap(target, r["client_id"], unwrap_row(ring, r["client_id"], r["key"], r["kek_id"]) or b"")
            for r in rows
        ]
        await conn.execute(_SQL.rewrap, ids, wrapped, target)
        return len(rows)


async def ensure_vault(conn: asyncpg.Connection, ring: KekRing | None = None) -> int:
    """At start (after the vault's migrations): a current KEK exists, and every key from
    before wrapping is wrapped under it. Returns how many were wrapped now."""
    ring = ring or default_ring()
    kek_id = await current_kek(conn, ring)
    if not ring.has(kek_id):
        raise KekError(
            f"the database's current key-encryption key {kek_id} is not in {ring.directory}: "
            f"set {KEK_DIR_VARIABLE} to the directory that holds it"
        )
    if await conn.fetchval(_SQL.unwrapped):
        return await _rewrap(conn, ring, kek_id, hold=True)
    return 0


@dataclass(frozen=True)
class Rotation:
    """What :func:`rotate` did."""

    new: uuid.UUID
    destroyed: tuple[uuid.UUID, ...]
    rewrapped: int


class RotationBusy(RuntimeError):
    """Another process is rotating the KEK right now."""


async def rotate(conn: asyncpg.Connection, ring: KekRing | None = None) -> Rotation:
    """Make a new KEK current, re-wrap every live key under it, destroy the old ones.

    Safe beside appends and other processes (module docstring); one rotation at a time
    (:class:`RotationBusy` otherwise). Interrupted anywhere, it leaves every live key
    readable, and the next rotation finishes the job."""
    ring = ring or default_ring()
    if not await conn.fetchval(_SQL.rotation_lock):
        raise RotationBusy("another process is rotating the key-encryption key; try again later")
    try:
        await ensure_vault(conn, ring)
        new = ring.create()
        async with conn.transaction():
            await conn.execute(_SQL.add_kek, new)
            await conn.execute(_SQL.retire_others, new)
            # Waits for every transaction holding kek_current shared (an insert of a key
            # wrapped under the old KEK): those keys are committed, so re-wrapped below.
            await conn.execute(_SQL.switch_current, new)
        rewrapped = await _rewrap(conn, ring, new, hold=False)
        old = [uuid.UUID(str(r["id"])) for r in await conn.fetch(_SQL.others, new)]
        left = await conn.fetchval(_SQL.left_under_others, new)
        if left:
            raise KekError(f"{left} client keys are still under an old key-encryption key; rotate again")
        for kek_id in old:
            ring.destroy(kek_id)
            await conn.execute(_SQL.destroyed, kek_id)
        return Rotation(new=new, destroyed=tuple(old), rewrapped=rewrapped)
    finally:
        await conn.execute(_SQL.rotation_unlock)


async def erased_since_rotation(conn: asyncpg.Connection) -> bool:
    """Whether a client was erased after the current KEK became current (a rotation is
    due: copies of their key are still wrapped under a KEK that exists)."""
    return bool(await conn.fetchval(_SQL.erased_since_rotation))
