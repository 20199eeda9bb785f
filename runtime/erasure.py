"""Erasure by key deletion (architecture decision 8, docs/adr/0011).

Every field a contract marks :class:`contracts.base.PersonalData` is encrypted inside the
event, with one random 256-bit key per client kept here, in the key vault
(``keys.client_keys``), outside the event log. Deleting the key erases the fields
everywhere at once: in the event store, in JetStream, in every replay. The rest of the
event (types, dates, routes, outcomes) stays readable, so statistics, ordering and the
audit trail survive.

- **Sealing** (:func:`seal`): each non-empty personal value becomes
  ``"enc:v1:" + base64(nonce || AES-GCM ciphertext)``. The associated data is the event
  id and the field's path, so a ciphertext cannot be moved to another event or field.
- **Revealing** (:func:`reveal`): every ``enc:v1:`` string is replaced by its plaintext,
  or by :data:`ERASED` when the client's key is gone.
- **Keys are read per call**, never cached across calls: an erased key stops working
  everywhere at once.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from functools import cache
from typing import Any

import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from contracts.base import ERASED, EventBase, personal_fields
from contracts.envelope import CloudEventEnvelope
from runtime import keyvault
from runtime.db import Migration
from runtime.sql import SqlStatements

__all__ = ["ERASED"]

PREFIX = "enc:v1:"
KEYS_SCHEMA = keyvault.KEYS_SCHEMA
#: Client streams are the only ones with personal data.
CLIENT_STREAM_PREFIX = "client-"
#: How long after the relationship closed a client's personal data is kept.
RETENTION_YEARS = 4
_NONCE = 12

Keys = Mapping[str, bytes | None]


class ClientKeySql(SqlStatements):
    """The statements on the client keys (the vault's schema)."""

    keys = "SELECT client_id, key, kek_id FROM {schema}.client_keys WHERE client_id = ANY($1::text[])"
    #: the same, holding the rows until the transaction ends
    keys_held = (
        "SELECT client_id, key, kek_id FROM {schema}.client_keys WHERE client_id = ANY($1::text[])"
        " ORDER BY client_id FOR SHARE"
    )
    erase = """
UPDATE {schema}.client_keys SET key = NULL, kek_id = NULL, erased_at = now(), reason = $2
WHERE client_id = $1 AND erased_at IS NULL RETURNING client_id
"""
    tombstone = """
INSERT INTO {schema}.client_keys (client_id, key, erased_at, reason) VALUES ($1, NULL, now(), $2)
ON CONFLICT (client_id) DO NOTHING RETURNING client_id
"""
    # A row made here gets a new key wrapped under the current KEK (docs/adr/0021): inserted
    # only while that KEK is current, held shared so that a rotation cannot retire it first.
    hold = """
WITH kek AS (SELECT kek_id FROM {schema}.kek_current WHERE kek_id = $4 FOR SHARE)
INSERT INTO {schema}.client_keys (client_id, key, kek_id, legal_hold) SELECT $1, $2, $4, $3 FROM kek
ON CONFLICT (client_id) DO UPDATE SET legal_hold = excluded.legal_hold RETURNING client_id
"""
    closed = """
WITH kek AS (SELECT kek_id FROM {schema}.kek_current WHERE kek_id = $4 FOR SHARE)
INSERT INTO {schema}.client_keys (client_id, key, kek_id, relationship_closed_on)
SELECT $1, $2, $4, $3 FROM kek
ON CONFLICT (client_id) DO UPDATE SET relationship_closed_on = excluded.relationship_closed_on
RETURNING client_id
"""
    expired = """
SELECT client_id FROM {schema}.client_keys
WHERE erased_at IS NULL AND NOT legal_hold AND relationship_closed_on IS NOT NULL
  AND relationship_closed_on + make_interval(years => $2) < $1
ORDER BY relationship_closed_on, client_id
"""
    still_expired = """
SELECT 1 FROM {schema}.client_keys
WHERE client_id = $1 AND erased_at IS NULL AND NOT legal_hold AND relationship_closed_on IS NOT NULL
  AND relationship_closed_on + make_interval(years => $3) < $2
FOR UPDATE
"""
    status = """
SELECT client_id, key IS NOT NULL AS has_key, created_at, erased_at, reason, legal_hold,
       relationship_closed_on
FROM {schema}.client_keys WHERE client_id = $1
"""


_SQL = ClientKeySql(KEYS_SCHEMA)


def key_vault_migrations() -> list[Migration]:
    """The vault's tables; applied (idempotently) by every service and by ``reitti migrate``.
    Then :func:`runtime.keyvault.ensure_vault` makes the first KEK and wraps older keys."""
    return [
        Migration.from_package("runtime.migrations", "0004_key_vault.sql"),
        Migration.from_package("runtime.migrations", "0006_key_encryption_keys.sql"),
    ]


class ClientErased(Exception):
    """The client's key was deleted; their personal data cannot be written again."""


# --- sealing and revealing ----------------------------------------------------------


@cache
def _paths(event_type: type[EventBase]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(p.split(".")) for p in personal_fields(event_type))


def may_hold_personal_data(event: EventBase) -> bool:
    """Whether ``event`` is a client's and its type has personal fields (which may be
    empty): a cheap test, on the type, before the key is looked up."""
    return event.stream_id.startswith(CLIENT_STREAM_PREFIX) and bool(_paths(type(event)))


def seal(event: EventBase, data: dict[str, Any], key: bytes | None) -> dict[str, Any]:
    """``data`` (the event's JSON, changed in place and returned) with every non-empty
    personal value encrypted under ``key``; with :data:`ERASED` instead when the client
    was erased (``key`` None)."""
    seal_in_place(event, data, key)
    return data


def seal_in_place(event: EventBase, data: dict[str, Any], key: bytes | None) -> int:
    """As :func:`seal`; returns how many values it sealed (0: nothing personal in it)."""
    event_id = str(event.event_id)
    aead = AESGCM(key) if key is not None else None
    sealed = 0

    def encrypt(path: str, value: str) -> str:
        nonlocal sealed
        sealed += 1
        if aead is None:
            return ERASED
        nonce = os.urandom(_NONCE)
        return (
            PREFIX
            + base64.b64encode(nonce + aead.encrypt(nonce, value.encode(), _aad(event_id, path))).decode()
        )

    for parts in _paths(type(event)):
        _walk(data, parts, "", encrypt)
    return sealed


def _walk(node: Any, parts: tuple[str, ...], prefix: str, change: Any) -> None:
    """Apply ``change(path, value)`` to every non-empty string at ``parts`` under
    ``node``, through lists and tuples of models."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            _walk(item, parts, f"{prefix}{i}.", change)
        return
    if not isinstance(node, dict) or parts[0] not in node:
        return
    name = parts[0]
    if len(parts) == 1:
        value = node[name]
        if isinstance(value, str) and value and value != ERASED:
            node[name] = change(f"{prefix}{name}", value)
        return
    _walk(node[name], parts[1:], f"{prefix}{name}.", change)


def _aad(event_id: str, path: str) -> bytes:
    return f"{event_id}:{path}".encode()


def is_sealed(data: Any) -> bool:
    """Whether any value inside ``data`` is an ``enc:v1:`` ciphertext."""
    if isinstance(data, str):
        return data.startswith(PREFIX)
    if isinstance(data, dict):
        return any(is_sealed(v) for v in data.values())
    if isinstance(data, list):
        return any(is_sealed(v) for v in data)
    return False


def _opener(event_id: str, key: bytes | None) -> Callable[[str, str], str]:
    """``open(path, ciphertext)``: the plaintext, or :data:`ERASED` when ``key`` is None
    (erased) or the ciphertext does not open under it."""
    aead = AESGCM(key) if key is not None else None

    def open_value(path: str, value: str) -> str:
        if aead is None:
            return ERASED
        try:
            raw = base64.b64decode(value[len(PREFIX) :], validate=True)
            return aead.decrypt(raw[:_NONCE], raw[_NONCE:], _aad(event_id, path)).decode()
        except (InvalidTag, ValueError):
            return ERASED

    return open_value


def reveal_data(data: dict[str, Any], event_id: str, key: bytes | None) -> dict[str, Any]:
    """A copy of ``data`` with every ``enc:v1:`` string anywhere in it decrypted, or
    :data:`ERASED` when ``key`` is None (erased) or the ciphertext does not open under it."""
    open_value = _opener(event_id, key)

    def open_(value: Any, path: str) -> Any:
        if isinstance(value, str):
            return open_value(path, value) if value.startswith(PREFIX) else value
        if isinstance(value, dict):
            return {k: open_(v, f"{path}.{k}" if path else k) for k, v in value.items()}
        if isinstance(value, list):
            return [open_(v, f"{path}.{i}") for i, v in enumerate(value)]
        return value

    revealed: dict[str, Any] = open_(data, "")
    return revealed


@cache
def _sealed_at(event_type: str, schema_version: int) -> tuple[tuple[str, ...], ...] | None:
    """Where an envelope's personal fields can be: the personal paths of its contract when
    the envelope is of the current schema version (sealing wrote exactly those); None for
    an older version or an unknown type, which are searched whole. A version's personal
    paths never change: ``reitti schemas`` records them in
    ``contracts/schemas/personal-fields.json`` and refuses a change in place."""
    from contracts.registry import EVENT_TYPES

    cls = EVENT_TYPES.get(event_type)
    if cls is None or cls.schema_version != schema_version:
        return None
    return _paths(cls)


def envelope_sealed(envelope: CloudEventEnvelope) -> bool:
    """Whether the envelope holds a ciphertext (looking only where its contract puts
    personal fields, when it can)."""
    paths = _sealed_at(envelope.type, envelope.schemaversion)
    if paths is None:
        return is_sealed(envelope.data)
    found: list[str] = []

    def note(path: str, value: str) -> str:
        if value.startswith(PREFIX):
            found.append(path)
        return value

    for parts in paths:
        _walk(envelope.data, parts, "", note)
    return bool(found)


def _open_at(node: Any, parts: tuple[str, ...], prefix: str, open_value: Callable[[str, str], str]) -> Any:
    """``node`` with the ciphertexts at ``parts`` opened: a copy of what changed, the same
    objects where nothing did."""
    if isinstance(node, list):
        items = [_open_at(item, parts, f"{prefix}{i}.", open_value) for i, item in enumerate(node)]
        return node if all(a is b for a, b in zip(items, node, strict=True)) else items
    if not isinstance(node, dict) or parts[0] not in node:
        return node
    name, value = parts[0], node[parts[0]]
    if len(parts) > 1:
        changed = _open_at(value, parts[1:], f"{prefix}{name}.", open_value)
    elif isinstance(value, str) and value.startswith(PREFIX):
        changed = open_value(f"{prefix}{name}", value)
    else:
        return node
    return node if changed is value else {**node, name: changed}


def reveal(envelope: CloudEventEnvelope, keys: Keys) -> CloudEventEnvelope:
    """``envelope`` with its personal fields readable (or :data:`ERASED`), using the
    client's key from ``keys`` (as fetched by :func:`fetch_keys` for this call)."""
    paths = _sealed_at(envelope.type, envelope.schemaversion)
    if paths is None:
        if not is_sealed(envelope.data):
            return envelope
        data = reveal_data(envelope.data, str(envelope.id), keys.get(envelope.subject))
    else:
        open_value = _opener(str(envelope.id), keys.get(envelope.subject))
        data = envelope.data
        for parts in paths:
            data = _open_at(data, parts, "", open_value)
        if data is envelope.data:
            return envelope
    return envelope.model_copy(update={"data": data})


# --- the vault ----------------------------------------------------------------------


async def fetch_keys(
    conn: asyncpg.Connection | asyncpg.Pool, client_ids: Iterable[str], *, hold: bool = False
) -> dict[str, bytes | None]:
    """The current keys of ``client_ids`` (None for an erased or unknown client). Read
    once per call or batch; never keep them. ``hold``: inside a transaction, hold the
    keys' rows until it ends, so an erasure waits for what is written with them."""
    wanted = sorted({c for c in client_ids if c.startswith(CLIENT_STREAM_PREFIX)})
    if not wanted:
        return {}
    ring = keyvault.default_ring()
    for attempt in (1, 2):
        rows = await conn.fetch(_SQL.keys_held if hold else _SQL.keys, wanted)
        try:
            found = ring.unwrap_rows((r["client_id"], r["key"], r["kek_id"]) for r in rows)
        except keyvault.KekError:
            if attempt == 2:
                raise
            continue  # read just before a rotation re-wrapped it and destroyed the old KEK
        return {c: found.get(c) for c in wanted}
    raise AssertionError("unreachable")


def new_key() -> bytes:
    """A new client key (random, 256 bits)."""
    return AESGCM.generate_key(bit_length=256)


async def delete_key(conn: asyncpg.Connection, client_id: str, reason: str) -> bool:
    """Erase: delete the client's key, keeping the row as a tombstone. False if the
    client was already erased."""
    if await conn.fetchval(_SQL.erase, client_id, reason) is not None:
        return True
    return await conn.fetchval(_SQL.tombstone, client_id, reason) is not None


async def _upsert_with_new_key(conn: asyncpg.Connection, sql: str, client_id: str, value: object) -> None:
    """Run ``sql`` (``hold``, ``closed``) with a new key wrapped under the current KEK,
    again if a rotation made another KEK current meanwhile."""
    ring = keyvault.default_ring()
    for _ in range(3):
        kek_id = await keyvault.current_kek(conn, ring)
        wrapped = ring.wrap(kek_id, client_id, new_key())
        if await conn.fetchval(sql, client_id, wrapped, value, kek_id) is not None:
            return
    raise RuntimeError(f"the key-encryption key kept changing while writing {client_id!r}; retry")


async def set_legal_hold(conn: asyncpg.Connection, client_id: str, hold: bool) -> None:
    await _upsert_with_new_key(conn, _SQL.hold, client_id, hold)


async def record_closure(conn: asyncpg.Connection, client_id: str, closed_on: date) -> None:
    """The relationship closed on ``closed_on``: the retention period runs from then."""
    await _upsert_with_new_key(conn, _SQL.closed, client_id, closed_on)


async def still_expired(conn: asyncpg.Connection, client_id: str, today: date) -> bool:
    """Inside the transaction that erases: whether ``client_id`` is still due (no legal
    hold set, not erased meanwhile), holding its vault row until the transaction ends."""
    return await conn.fetchval(_SQL.still_expired, client_id, today, RETENTION_YEARS) is not None


async def expired_clients(conn: asyncpg.Connection, today: date) -> list[str]:
    """Clients whose relationship closed more than four years before ``today``, not yet
    erased and not under a legal hold."""
    return [r["client_id"] for r in await conn.fetch(_SQL.expired, today, RETENTION_YEARS)]


async def vault_status(conn: asyncpg.Connection, client_id: str) -> dict[str, Any] | None:
    """The vault's row of a client, without the key."""
    row = await conn.fetchrow(_SQL.status, client_id)
    return dict(row) if row is not None else None
