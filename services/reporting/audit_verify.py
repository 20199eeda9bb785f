"""Verifying the audit log (auditointiloki): every hash chain checked link by link, and
every entry against its event in the log (JetStream) or in an exported file
(:mod:`services.reporting.audit` writes and exports the chains)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import asyncpg
from nats.js import JetStreamContext
from pydantic import ValidationError

from contracts.envelope import CloudEventEnvelope
from runtime.config import Settings
from runtime.consumer import InvalidEvent, parse_delivery
from services.reporting.audit import (
    EXPORT_ATTRIBUTES,
    GENESIS,
    AuditEntry,
    AuditTrail,
    ChainId,
    canonical_bytes,
    last_sequence,
    link_hash,
    read_log,
)


@dataclass(frozen=True)
class BrokenLink:
    source: str
    stream_id: str
    position: int | None
    event_id: UUID | None
    event_type: str | None
    stream_seq: int | None
    reason: str

    def __str__(self) -> str:
        where = f"stream {self.stream_id} of {self.source}"
        if self.position is not None:
            where += f" position {self.position}"
        what = []
        if self.event_id is not None:
            what.append(f"event {self.event_id}")
        if self.event_type:
            what.append(self.event_type)
        if self.stream_seq:
            what.append(f"stream seq {self.stream_seq}")
        return f"{where} ({', '.join(what)}): {self.reason}" if what else f"{where}: {self.reason}"

    @classmethod
    def at(cls, entry: AuditEntry, reason: str) -> BrokenLink:
        return cls(
            entry.source,
            entry.stream_id,
            entry.position,
            entry.event_id,
            entry.event_type,
            entry.stream_seq,
            reason,
        )


@dataclass(frozen=True)
class VerifyReport:
    chains: int
    entries: int
    events_checked: int
    broken: tuple[BrokenLink, ...]

    @property
    def ok(self) -> bool:
        return not self.broken

    @property
    def first_broken(self) -> BrokenLink | None:
        return self.broken[0] if self.broken else None


def check_links(entries: Iterable[AuditEntry], heads: Mapping[ChainId, tuple[int, str]]) -> list[BrokenLink]:
    """Each chain (``entries`` ordered by source, stream and position) links entry to entry
    from the genesis to its head: positions 1, 2, ... and each previous hash the hash before."""
    broken: list[BrokenLink] = []
    current: ChainId | None = None
    expected_position, expected_prev = 1, GENESIS
    last: AuditEntry | None = None

    def close_chain(entry: AuditEntry | None) -> None:
        if entry is None:
            return
        head = heads.get((entry.source, entry.stream_id))
        if head != (entry.position, entry.hash):
            broken.append(BrokenLink.at(entry, "the chain's head does not point at its last entry"))

    for entry in entries:
        if (entry.source, entry.stream_id) != current:
            close_chain(last)
            current, expected_position, expected_prev = (entry.source, entry.stream_id), 1, GENESIS
        if entry.position != expected_position:
            broken.append(BrokenLink.at(entry, f"expected position {expected_position}: an entry is missing"))
        elif entry.prev_hash != expected_prev:
            broken.append(BrokenLink.at(entry, "its previous hash is not the hash of the entry before"))
        expected_position, expected_prev, last = entry.position + 1, entry.hash, entry
    close_chain(last)
    return broken


def check_entry(entry: AuditEntry, envelope: CloudEventEnvelope) -> str | None:
    """Why ``entry`` does not match ``envelope`` (its event as the log holds it), or None."""
    recomputed = link_hash(entry.prev_hash, canonical_bytes(envelope))
    if recomputed != entry.hash:
        return f"stored hash {entry.hash[:16]}... differs from the recomputed {recomputed[:16]}..."
    actor = envelope.data.get("actor") or {}
    differs = [
        name
        for name, stored, actual in (
            ("type", entry.event_type, envelope.type),
            ("source", entry.source, envelope.source),
            ("stream", entry.stream_id, envelope.subject),
            ("stream version", entry.stream_version, envelope.streamversion),
            ("time", entry.occurred_at, envelope.time),
            ("actor", entry.actor_person_id, actor.get("person_id")),
            ("actor's role", entry.actor_role, actor.get("role")),
            ("actor's organisation", entry.actor_organisation, actor.get("organisation")),
            ("correlation id", entry.correlation_id, envelope.correlationid),
            ("causation id", entry.causation_id, envelope.causationid),
        )
        if stored != actual
    ]
    return f"stored {', '.join(differs)} differ from the event" if differs else None


def _ordered(broken: Iterable[BrokenLink]) -> tuple[BrokenLink, ...]:
    return tuple(sorted(broken, key=lambda b: (b.stream_seq or 0, b.source, b.stream_id, b.position or 0)))


async def verify_against_log(
    conn: asyncpg.Connection, trail: AuditTrail, js: JetStreamContext, settings: Settings
) -> VerifyReport:
    """Recompute every stored chain from the events in JetStream."""
    entries = await trail.all_entries(conn)
    heads = await trail.heads(conn)
    applied_up_to = await trail.consumed_up_to(conn)
    broken = check_links(entries, heads)
    by_id = {e.event_id: e for e in entries}
    seen: set[UUID] = set()
    checked = 0
    async for seq, raw in read_log(js, settings, first_seq=1, last_seq=await last_sequence(js, settings)):
        try:
            envelope, _ = parse_delivery(raw)
        except InvalidEvent:
            continue  # dead-lettered by the consumer, never applied
        checked += 1
        entry = by_id.get(envelope.id)
        if entry is None:
            if seq <= applied_up_to and envelope.id not in seen:
                broken.append(
                    BrokenLink(
                        envelope.source,
                        envelope.subject,
                        None,
                        envelope.id,
                        envelope.type,
                        seq,
                        "no audit entry",
                    )
                )
            continue
        seen.add(envelope.id)
        if (reason := check_entry(entry, envelope)) is not None:
            broken.append(BrokenLink.at(entry, reason))
    broken.extend(BrokenLink.at(e, "its event is not in the log") for e in entries if e.event_id not in seen)
    return VerifyReport(len(heads), len(entries), checked, _ordered(broken))


async def verify_against_file(conn: asyncpg.Connection, trail: AuditTrail, path: Path) -> VerifyReport:
    """Recompute the chain links in an export (JSON Lines) and compare them with the stored chains."""
    entries = await trail.all_entries(conn)
    heads = await trail.heads(conn)
    broken = check_links(entries, heads)
    by_id = {e.event_id: e for e in entries}
    last_in_file: dict[ChainId, tuple[int, str]] = {}
    checked = 0
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            checked += 1
            problem, link = _check_line(raw, number, by_id, last_in_file)
            if problem is not None:
                broken.append(problem)
            if link is not None:
                chain, position, digest = link
                last_in_file[chain] = (position, digest)
    return VerifyReport(len(heads), len(entries), checked, _ordered(broken))


def _check_line(
    raw: bytes,
    number: int,
    by_id: Mapping[UUID, AuditEntry],
    last_in_file: Mapping[ChainId, tuple[int, str]],
) -> tuple[BrokenLink | None, tuple[ChainId, int, str] | None]:
    try:
        record = json.loads(raw)
        attributes = {name: record.pop(name) for name in EXPORT_ATTRIBUTES}
        envelope = CloudEventEnvelope.model_validate(record)
        position, prev_hash, declared = (
            int(attributes["auditposition"]),
            str(attributes["auditprevhash"]),
            str(attributes["audithash"]),
        )
        recomputed = link_hash(prev_hash, canonical_bytes(envelope))
    except (ValueError, KeyError, TypeError, ValidationError) as exc:
        reason = f"line {number} is not an exported audit record: {type(exc).__name__}"
        return BrokenLink("?", "?", None, None, None, None, reason), None
    seq = int(attributes["streamseq"])
    chain = (envelope.source, envelope.subject)
    here = BrokenLink(envelope.source, envelope.subject, position, envelope.id, envelope.type, seq, "")
    link = (chain, position, declared)

    def broken(reason: str) -> tuple[BrokenLink, tuple[ChainId, int, str]]:
        return BrokenLink(**{**here.__dict__, "reason": f"line {number}: {reason}"}), link

    if recomputed != declared:
        return broken("the envelope does not hash to its audithash (the line was changed)")
    before = last_in_file.get(chain)
    if before is not None and before[0] + 1 == position and before[1] != prev_hash:
        return broken("its auditprevhash is not the hash of the stream's line before")
    entry = by_id.get(envelope.id)
    if entry is None:
        return broken("no stored audit entry for this event")
    if (entry.position, entry.prev_hash, entry.hash) != (position, prev_hash, declared):
        return broken(f"differs from the stored chain (stored hash {entry.hash[:16]}...)")
    if (mismatch := check_entry(entry, envelope)) is not None:
        return broken(mismatch)
    return None, link
