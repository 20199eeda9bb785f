"""Sealing and revealing personal fields (docs/adr/0011), without servers."""

from __future__ import annotations

import os

from contracts.envelope import CloudEventEnvelope
from contracts.intake import AreaFinding, AssessmentArea, ClientReferred
from contracts.registry import decode_event
from runtime.erasure import (
    ERASED,
    PREFIX,
    envelope_sealed,
    may_hold_personal_data,
    reveal,
    reveal_data,
    seal,
    seal_in_place,
)
from tests.support.factories import client_referred, of_kind
from tests.unit.test_guidance_domain import assessment

KEY = os.urandom(32)


def sealed(event, key=KEY) -> CloudEventEnvelope:
    envelope = CloudEventEnvelope.wrap(event, source="/test")
    return envelope.model_copy(update={"data": seal(event, dict(envelope.data), key)})


def test_personal_fields_are_sealed_and_revealed_with_the_clients_key_and_the_rest_stays_plain() -> None:
    event = client_referred()
    envelope = sealed(event)
    client = envelope.data["client"]
    assert all(str(v).startswith(PREFIX) for v in client.values())
    assert "Maija" not in envelope.to_bytes().decode() and "010190-123M" not in envelope.to_bytes().decode()
    assert envelope.data["municipality"] == "Mikkeli", "only personal fields are sealed"
    assert decode_event(reveal(envelope, {event.stream_id: KEY})) == event


def test_a_deleted_key_or_a_wrong_one_reads_every_personal_field_as_erased_and_still_validates() -> None:
    event = client_referred()
    envelope = sealed(event)
    for keys in ({}, {event.stream_id: None}, {event.stream_id: os.urandom(32)}):
        revealed = of_kind(ClientReferred, decode_event(reveal(envelope, keys)))
        assert revealed.client.model_dump() == {
            "first_name": ERASED,
            "last_name": ERASED,
            "personal_identity_code": ERASED,
        }
        assert revealed.municipality == event.municipality


def test_a_ciphertext_moved_to_another_field_or_event_does_not_open() -> None:
    event = client_referred()
    envelope = sealed(event)
    data = envelope.data
    swapped = {**data, "client": {**data["client"], "first_name": data["client"]["last_name"]}}
    revealed = of_kind(
        ClientReferred,
        decode_event(reveal(envelope.model_copy(update={"data": swapped}), {event.stream_id: KEY})),
    )
    assert revealed.client.first_name == ERASED
    assert revealed.client.last_name == "Meikäläinen"
    other = client_referred(event.stream_id)
    moved = sealed(other)
    moved_data = {**moved.data, "client": data["client"]}
    revealed = of_kind(
        ClientReferred,
        decode_event(reveal(moved.model_copy(update={"data": moved_data}), {event.stream_id: KEY})),
    )
    assert revealed.client.personal_identity_code == ERASED


def test_notes_inside_a_tuple_of_findings_are_sealed_one_by_one_and_empty_ones_are_left_alone() -> None:
    base = assessment()
    findings = tuple(
        AreaFinding(area=a, support_need="some", notes="velkoja" if a is AssessmentArea.COMPETENCE else "")
        for a in AssessmentArea
    )
    event = base.model_copy(update={"findings": findings, "summary": "yhteenveto"})
    envelope = sealed(event)
    notes = [f["notes"] for f in envelope.data["findings"]]
    assert notes[0].startswith(PREFIX) and notes[1:] == [""] * (len(notes) - 1)
    assert envelope.data["summary"].startswith(PREFIX)
    assert decode_event(reveal(envelope, {event.stream_id: KEY})) == event


def test_an_erased_clients_new_events_carry_the_marker_and_non_client_streams_carry_nothing_sealed() -> None:
    event = client_referred()
    envelope = sealed(event, key=None)
    assert set(envelope.data["client"].values()) == {ERASED}
    session = client_referred("info-session-1")
    assert not may_hold_personal_data(session)
    assert may_hold_personal_data(event)


def test_sealing_counts_only_non_empty_personal_values() -> None:
    event = client_referred()
    data = event.data()
    assert seal_in_place(event, data, KEY) == 3  # first name, last name, identity code
    nothing = event.model_copy(update={"client": event.client.model_copy(update={"first_name": ""})})
    empty = nothing.data()
    assert seal_in_place(nothing, empty, KEY) == 2 and empty["client"]["first_name"] == ""


def test_revealing_where_the_contract_puts_personal_fields_equals_searching_the_whole_event() -> None:
    """Reveal looks only at the contract's personal paths when the envelope is of the
    current schema version; an older version is searched whole. Both must agree, and the
    sealed envelope itself must stay sealed (the projection gets it as the log holds it)."""
    base = assessment()
    findings = tuple(AreaFinding(area=a, support_need="some", notes=f"n-{a.value}") for a in AssessmentArea)
    events = [client_referred(), base.model_copy(update={"findings": findings, "summary": "yhteenveto"})]
    for event in events:
        envelope = sealed(event)
        before = envelope.model_dump()
        for key in (KEY, None, os.urandom(32)):
            fast = reveal(envelope, {event.stream_id: key})
            whole = reveal_data(envelope.data, str(envelope.id), key)
            assert fast.data == whole
            older = envelope.model_copy(update={"schemaversion": envelope.schemaversion + 1})
            assert reveal(older, {event.stream_id: key}).data == whole, "the whole-event search"
        assert envelope.model_dump() == before
        assert envelope_sealed(envelope)
        assert not envelope_sealed(CloudEventEnvelope.wrap(event, source="/test"))
    assert decode_event(reveal(sealed(events[1]), {events[1].stream_id: KEY})) == events[1]
