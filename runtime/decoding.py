"""Reading a delivery (a JetStream message) into its envelope and event: the contract
check of every consumer. What does not validate is :class:`InvalidEvent`, which retrying
cannot mend, and its reason names fields, never the rejected values (they may be personal
data: henkilötiedot)."""

from __future__ import annotations

import asyncpg
from pydantic import ValidationError

from contracts.base import EventBase
from contracts.envelope import CloudEventEnvelope
from contracts.registry import UnknownEventType, decode_event
from contracts.upcasters import MissingUpcaster, NewerSchemaVersion
from runtime import erasure


class InvalidEvent(ValueError):
    """The message does not satisfy its contract; retrying cannot help."""

    def __init__(self, reason: str, envelope: CloudEventEnvelope | None = None) -> None:
        super().__init__(reason)
        #: the envelope, when it parsed and only the event inside did not
        self.envelope = envelope


def read_envelope(data: bytes) -> CloudEventEnvelope:
    """The delivery's envelope; :class:`InvalidEvent` if it is not one."""
    try:
        return CloudEventEnvelope.from_bytes(data)
    except (ValidationError, ValueError) as exc:
        raise InvalidEvent(describe(exc)) from exc


def decode_delivery(envelope: CloudEventEnvelope, keys: erasure.Keys) -> EventBase:
    """The event inside ``envelope``, its personal fields revealed with ``keys`` (the
    clients' keys read for this batch; a client missing from them reads as erased)."""
    try:
        return decode_event(erasure.reveal(envelope, keys))
    except (
        ValidationError,
        UnknownEventType,
        MissingUpcaster,
        NewerSchemaVersion,
        ValueError,
        KeyError,
    ) as exc:
        raise InvalidEvent(describe(exc), envelope) from exc


def parse_delivery(data: bytes, keys: erasure.Keys | None = None) -> tuple[CloudEventEnvelope, EventBase]:
    """Envelope and event of a delivery. Without ``keys`` personal fields read as erased."""
    envelope = read_envelope(data)
    return envelope, decode_delivery(envelope, keys or {})


async def keys_for(
    conn: asyncpg.Connection | asyncpg.Pool, envelopes: list[CloudEventEnvelope]
) -> dict[str, bytes | None]:
    """The keys the sealed ``envelopes`` need, read now (never kept across batches)."""
    sealed = [e.subject for e in envelopes if erasure.envelope_sealed(e)]
    return await erasure.fetch_keys(conn, sealed) if sealed else {}


def describe(exc: BaseException) -> str:
    """One line naming what is wrong, without the rejected values (they may be personal data)."""
    if isinstance(exc, ValidationError):
        parts = [
            f"{'.'.join(str(p) for p in e['loc']) or '-'}: {e['msg']}"
            for e in exc.errors(include_input=False, include_url=False)
        ]
        return f"{exc.title}: " + "; ".join(parts)
    text = f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())
