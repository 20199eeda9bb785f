"""Personal values in read models and directories, sealed with the client's key
(architecture decision 14, docs/adr/0020).

Events are sealed field by field (:mod:`runtime.erasure`). A read model's row is a copy
of such a field; it is sealed the same way: ``"enc:v1:" + base64(nonce || AES-GCM
ciphertext)`` under the client's key, with associated data that binds it to its place
(``table.column`` and the row's key), so a ciphertext cannot be moved to another row or
column. Reads reveal with the key read for that call: once the key is deleted a value
reads :data:`ERASED`, and every copy on disk, dead tuples included, holds ciphertext only.

Nothing here is written in plaintext: with no key (an erased or unknown client), the
value is written as :data:`ERASED`.
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Iterable, Mapping, Sequence

import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from contracts.base import ERASED
from contracts.envelope import CloudEventEnvelope
from runtime.erasure import PREFIX, Keys, fetch_keys, reveal

_NONCE = 12
log = logging.getLogger(__name__)


def binding(place: str, *row: object) -> bytes:
    """The associated data of a sealed value: where it is (``"table.column"``, or
    ``"table.column.path"`` inside a JSON column) and the row's key."""
    return ":".join([place, *(str(part) for part in row)]).encode()


class Sealer:
    """Seals and opens values with the keys read for one call or batch. Keys are never
    kept beyond it (make a new sealer per call)."""

    def __init__(self, keys: Keys) -> None:
        self._keys = keys
        self._aeads: dict[str, AESGCM | None] = {}

    def _aead(self, client_id: str) -> AESGCM | None:
        if client_id not in self._aeads:
            key = self._keys.get(client_id)
            self._aeads[client_id] = AESGCM(key) if key is not None else None
        return self._aeads[client_id]

    def seal(self, client_id: str, value: str | None, aad: bytes) -> str | None:
        """``value`` sealed under the client's key; None stays None; :data:`ERASED` when
        the client has no key (erased) or the value is already erased."""
        if value is None or value == ERASED or value.startswith(PREFIX):
            return value
        aead = self._aead(client_id)
        if aead is None:
            return ERASED
        nonce = os.urandom(_NONCE)
        return PREFIX + base64.b64encode(nonce + aead.encrypt(nonce, value.encode(), aad)).decode()

    def open(self, client_id: str, value: str | None, aad: bytes) -> str | None:
        """The plaintext of a sealed ``value``; :data:`ERASED` when the key is gone or the
        ciphertext does not open here (moved from another row); anything else as it is."""
        if value is None or not value.startswith(PREFIX):
            return value
        aead = self._aead(client_id)
        if aead is None:
            return ERASED
        try:
            raw = base64.b64decode(value[len(PREFIX) :], validate=True)
            return aead.decrypt(raw[:_NONCE], raw[_NONCE:], aad).decode()
        except (InvalidTag, ValueError):
            return ERASED


def client_ids(rows: Iterable[Mapping[str, object]], column: str = "client_id") -> list[str]:
    """The distinct client ids of ``rows``, for one :func:`runtime.erasure.fetch_keys`."""
    return sorted({str(r[column]) for r in rows})


def open_column(
    sealer: Sealer,
    rows: Sequence[Mapping[str, object]],
    column: str,
    place: str,
    row_key: Sequence[str],
    *,
    client_column: str = "client_id",
) -> list[dict[str, object]]:
    """``rows`` as dicts with ``column`` revealed; the associated data is ``place`` and
    the values of ``row_key``."""
    out = []
    for r in rows:
        row = dict(r)
        value = row[column]
        if isinstance(value, str):
            aad = binding(place, *(row[k] for k in row_key))
            row[column] = sealer.open(str(row[client_column]), value, aad)
        out.append(row)
    return out


async def reveal_payloads(conn: asyncpg.Connection, payloads: Sequence[bytes]) -> list[bytes]:
    """Outbox payloads that wait sealed (a partner feed's copies, whose envelope is
    sealed as in the event store) revealed for the publish, with the keys read now in
    one query; :data:`ERASED` for a client erased meanwhile. Others are left as they are."""
    sealed: dict[int, CloudEventEnvelope] = {}
    for i, payload in enumerate(payloads):
        if PREFIX.encode() in payload:
            try:
                sealed[i] = CloudEventEnvelope.from_bytes(payload)
            except ValueError:
                # Not an envelope: published as it is (its ciphertext stays ciphertext),
                # rather than holding up every copy behind it.
                log.warning("an outbox payload with a ciphertext is not an envelope: sent as stored")
    if not sealed:
        return list(payloads)
    keys = await fetch_keys(conn, {e.subject for e in sealed.values()})
    return [reveal(sealed[i], keys).to_bytes() if i in sealed else p for i, p in enumerate(payloads)]
