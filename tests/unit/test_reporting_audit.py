"""The audit chain's pure parts: canonical bytes, links, and what a broken link says."""

from __future__ import annotations

import hashlib
import json
from datetime import date

from contracts.envelope import CloudEventEnvelope
from services.reporting.audit import (
    GENESIS,
    AuditEntry,
    canonical_bytes,
    export_line,
    link_hash,
)
from services.reporting.audit_verify import check_entry, check_links
from tests.support.reporting_events import Story, envelope


def chain(story: Story) -> list[AuditEntry]:
    entries, prev = [], GENESIS
    for position, event in enumerate(story.events, start=1):
        env = envelope(event)
        digest = link_hash(prev, canonical_bytes(env))
        entries.append(
            AuditEntry(
                source=env.source,
                stream_id=event.stream_id,
                position=position,
                event_id=event.event_id,
                stream_seq=position,
                event_type=event.event_type,
                stream_version=event.stream_version,
                occurred_at=event.occurred_at,
                actor_person_id=event.actor.person_id,
                actor_role=event.actor.role,
                actor_organisation=event.actor.organisation,
                correlation_id=event.correlation_id,
                causation_id=event.causation_id,
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
    return entries


def story() -> Story:
    s = Story()
    s.referred(date(2010, 3, 1))
    s.consent(date(2010, 3, 2))
    s.assessed(date(2010, 3, 20))
    return s


def test_a_link_is_the_sha256_of_the_previous_hash_and_the_canonical_envelope() -> None:
    env = envelope(story().events[0])
    canonical = canonical_bytes(env)
    assert (
        canonical
        == json.dumps(
            json.loads(env.to_bytes()), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    ), "an auditor recomputes it from the envelope with any JSON library"
    assert link_hash(GENESIS, canonical) == hashlib.sha256(bytes(32) + canonical).hexdigest()
    reparsed = CloudEventEnvelope.from_bytes(env.to_bytes())
    assert canonical_bytes(reparsed) == canonical


def test_an_intact_chain_has_no_broken_link() -> None:
    entries = chain(story())
    heads = {(entries[0].source, entries[0].stream_id): (entries[-1].position, entries[-1].hash)}
    assert check_links(entries, heads) == []


def test_a_changed_hash_breaks_the_link_after_it_and_is_named() -> None:
    entries = chain(story())
    heads = {(entries[0].source, entries[0].stream_id): (entries[-1].position, entries[-1].hash)}
    entries[1] = entries[1].model_copy(update={"hash": "ab" * 32})
    broken = check_links(entries, heads)
    assert [(b.position, b.reason) for b in broken] == [
        (3, "its previous hash is not the hash of the entry before")
    ]
    assert str(broken[0]).startswith(
        f"stream {entries[0].stream_id} of /reitti/intake position 3 (event {entries[2].event_id}"
    )


def test_a_missing_entry_is_named_by_the_position_expected() -> None:
    entries = chain(story())
    heads = {(entries[0].source, entries[0].stream_id): (entries[-1].position, entries[-1].hash)}
    broken = check_links([entries[0], entries[2]], heads)
    assert broken[0].position == 3 and "expected position 2" in broken[0].reason


def test_an_entry_whose_stored_metadata_was_changed_no_longer_matches_its_event() -> None:
    s = story()
    entries = chain(s)
    env = envelope(s.events[1])
    assert check_entry(entries[1], env) is None
    forged = entries[1].model_copy(update={"actor_person_id": "someone-else"})
    assert check_entry(forged, env) == "stored actor differ from the event"
    other = envelope(s.events[2])
    assert "differs from the recomputed" in (check_entry(entries[1], other) or "")


def test_an_exported_line_is_the_envelope_plus_the_chain_attributes() -> None:
    s = story()
    entries = chain(s)
    env = envelope(s.events[0])
    record = json.loads(export_line(env, entries[0]))
    assert record["audithash"] == entries[0].hash and record["auditprevhash"] == GENESIS
    assert record["specversion"] == "1.0" and record["type"] == "ClientReferred"
    for name in ("streamseq", "auditposition", "auditprevhash", "audithash"):
        record.pop(name)
    assert canonical_bytes(CloudEventEnvelope.model_validate(record)) == canonical_bytes(env)
