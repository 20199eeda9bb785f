"""Contracts: committed schemas match the models, upcasting, personal-data marks."""

from __future__ import annotations

import json
import uuid

import pytest
from pydantic import ValidationError

from contracts.base import Side, personal_fields
from contracts.envelope import CloudEventEnvelope
from contracts.guidance import ClientRelationshipClosed
from contracts.intake import ClientReferred, ReferralSource
from contracts.registry import EVENT_TYPES, UnknownEventType, decode_data, decode_event
from contracts.schema_export import SCHEMA_DIR, render_schemas
from contracts.subjects import SubjectName, dead_letter_subject, event_subject, organisation_slug
from contracts.upcasters import MissingUpcaster, upcast
from tests.support.factories import client_referred, of_kind


def test_committed_json_schemas_equal_the_models() -> None:
    rendered = render_schemas()
    committed = {p.name: p.read_text(encoding="utf-8") for p in SCHEMA_DIR.glob("*.json")}
    assert set(committed) == set(rendered), "run `reitti schemas` and commit contracts/schemas/"
    for name, text in rendered.items():
        assert committed[name] == text, f"{name} is stale: run `reitti schemas` and commit it"


def test_every_event_type_has_a_stable_name_version_and_producer() -> None:
    for name, cls in EVENT_TYPES.items():
        assert cls.event_type == name
        assert "." not in name, "a wire name is never a Python class path"
        assert cls.schema_version >= 1
        assert cls.producer in {"intake", "guidance", "reporting", "any"}


def test_personal_fields_are_marked_in_the_model_and_in_the_schema() -> None:
    assert personal_fields(ClientReferred) == [
        "source_description",
        "need_based_reason",
        "client.first_name",
        "client.last_name",
        "client.personal_identity_code",
    ]
    schema = json.loads(render_schemas()["ClientReferred.v3.json"])
    details = schema["$defs"]["ClientDetails"]["properties"]
    assert all(details[f]["x-personal-data"] for f in ("first_name", "last_name"))
    assert "x-personal-data" not in schema["properties"]["municipality"]


def test_events_are_frozen() -> None:
    event = client_referred()
    with pytest.raises(ValidationError):
        event.municipality = "Puumala"  # type: ignore[misc]  # frozen is the point


def test_the_envelope_round_trips_through_bytes_and_decodes_to_the_event() -> None:
    event = client_referred()
    envelope = CloudEventEnvelope.wrap(event, source="/reitti/intake")
    again = CloudEventEnvelope.from_bytes(envelope.to_bytes())
    assert again == envelope
    assert again.specversion == "1.0"
    assert again.type == "ClientReferred"
    assert again.subject == event.stream_id
    assert again.dataschema == "urn:reitti:contracts:ClientReferred:v3"
    assert decode_event(again) == event


def test_an_envelope_whose_id_differs_from_the_events_is_refused() -> None:
    envelope = CloudEventEnvelope.wrap(client_referred(), source="/x")
    forged = envelope.model_copy(update={"id": uuid.uuid4()})
    with pytest.raises(ValueError, match="differ"):
        decode_event(forged)


def test_a_version_1_client_referred_is_upcast_to_version_2() -> None:
    current = client_referred(source=ReferralSource.OTHER).model_dump(mode="json")
    v1 = dict(current)
    del v1["source"], v1["source_description"]
    v1["referral_source"] = "MUU:koulu"
    event = decode_data("ClientReferred", 1, v1)
    assert isinstance(event, ClientReferred)
    assert event.source is ReferralSource.OTHER
    assert event.source_description == "koulu"

    v1["referral_source"] = "TE"
    assert of_kind(ClientReferred, decode_data("ClientReferred", 1, v1)).source is ReferralSource.TE_OFFICE


@pytest.mark.parametrize(
    ("event_type", "field"), [("InfoSessionAttended", "attended_on"), ("InfoSessionMissed", "missed_on")]
)
def test_a_version_1_attendance_without_a_date_reads_as_version_2_with_no_date(
    event_type: str, field: str
) -> None:
    v1 = {
        "event_id": str(uuid.uuid4()),
        "stream_id": "client-1",
        "stream_version": 4,
        "occurred_at": "2016-06-04T09:00:00+00:00",
        "recorded_at": "2016-06-04T09:00:00+00:00",
        "actor": {"person_id": "advisor-1", "role": "employment_advisor", "organisation": "te-office"},
        "correlation_id": str(uuid.uuid4()),
        "municipality": "Mikkeli",
        "session_id": "info-session-1",
    }
    if event_type == "InfoSessionAttended":
        v1 |= {"initial_survey_form_given": True, "data_protection_leaflet_given": False}
    event = decode_data(event_type, 1, v1)
    assert type(event).schema_version == 2 and getattr(event, field) is None
    with pytest.raises(ValidationError, match=field):
        decode_data(event_type, 2, v1)  # a v2 event without its date is not valid


def test_a_version_1_closure_reads_as_deciding_no_proposal() -> None:
    v1 = {
        "event_id": str(uuid.uuid4()),
        "stream_id": "client-1",
        "stream_version": 9,
        "occurred_at": "2011-06-04T09:00:00+00:00",
        "recorded_at": "2011-06-04T09:00:00+00:00",
        "actor": {"person_id": "guide-1", "role": "service_guide", "organisation": "centre"},
        "correlation_id": str(uuid.uuid4()),
        "municipality": "Mikkeli",
        "closed_on": "2011-06-03",
        "outcome": "education",
        "services_continue": "none",
        "final_assessment": {"text": "x", "work_ability_clarified": True, "competence_improved": False},
        "rule_set": "Seed 2010-2014",
        "months_in_relationship": 5,
    }
    event = decode_data("ClientRelationshipClosed", 1, v1)
    assert type(event).schema_version == 2
    assert isinstance(event, ClientRelationshipClosed)
    assert (event.proposed_on, event.proposed_by_person_id) == (None, None)


def test_upcasting_refuses_unknown_paths_and_future_versions() -> None:
    with pytest.raises(MissingUpcaster):
        upcast("NoSuchEvent", 1, {}, target=2)
    with pytest.raises(ValueError, match="newer"):
        upcast("ClientReferred", 3, {}, target=2)
    with pytest.raises(UnknownEventType):
        decode_data("NoSuchEvent", 1, {})


def test_subjects_carry_service_side_organisation_and_type() -> None:
    subject = event_subject(
        "reitti", "intake", Side.CENTRE, organisation_slug("Mäntyharju"), "ClientReferred"
    )
    assert subject == "reitti.events.intake.centre.mantyharju.ClientReferred"
    parsed = SubjectName.parse(subject)
    assert (parsed.service, parsed.side, parsed.organisation) == ("intake", Side.CENTRE, "mantyharju")
    assert dead_letter_subject("reitti", "reporting") == "reitti.dlq.reporting"
    with pytest.raises(ValueError):
        event_subject("reitti", "in take", Side.TE, "x", "ClientReferred")
    with pytest.raises(ValueError):
        SubjectName.parse("reitti.dlq.reporting")


def test_a_referral_from_other_sources_needs_a_description() -> None:
    data = client_referred().model_dump(mode="json")
    data["source"] = "other"
    data["source_description"] = None
    with pytest.raises(ValidationError, match="source_description"):
        ClientReferred.model_validate(data)


def test_the_committed_asyncapi_document_is_current() -> None:
    from pathlib import Path

    from reitti.asyncapi import asyncapi_document

    committed = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.json"
    current = json.dumps(asyncapi_document(), indent=2, sort_keys=True) + "\n"
    assert committed.read_text(encoding="utf-8") == current, "run `reitti asyncapi` and commit it"
    assert "ClientReferred" in current


def test_a_recorded_versions_personal_fields_never_change_and_old_versions_are_kept() -> None:
    """Events are sealed and revealed at their version's personal paths: changing them
    in place would leave ciphertexts nobody opens. The record refuses it and keeps the
    paths of versions no longer current."""
    from contracts.schema_export import PersonalFieldsChanged, personal_fields_manifest

    current = personal_fields_manifest({})
    assert current["ClientReferred"]["3"] == [
        "client.first_name",
        "client.last_name",
        "client.personal_identity_code",
        "need_based_reason",
        "source_description",
    ]
    assert personal_fields_manifest(current) == current
    older = {**current, "ClientReferred": {"1": ["client.name"], **current["ClientReferred"]}}
    assert personal_fields_manifest(older)["ClientReferred"]["1"] == ["client.name"]
    tampered = {**current, "ClientReferred": {"3": ["client.first_name"]}}
    with pytest.raises(PersonalFieldsChanged, match=r"ClientReferred v3.*make this v4"):
        personal_fields_manifest(tampered)


#: The free-text fields about a client that were not marked personal before v2/v3
#: (docs/adr/0020): the type, the version that marks them, the personal path.
NEWLY_PERSONAL = [
    ("ClientReferred", 3, "need_based_reason"),
    ("ClientReferred", 3, "source_description"),
    ("DuplicateReferralReceived", 2, "source_description"),
    ("AssessmentCompleted", 2, "destination"),
    ("GuideAssigned", 2, "over_limit_override_reason"),
    ("PlanRevised", 2, "measures.provider"),
    ("TransferredToSocialServices", 2, "activation_plan.place"),
    ("TransferAcknowledged", 2, "reason"),
]


@pytest.mark.parametrize(("event_type", "version", "path"), NEWLY_PERSONAL)
def test_free_text_about_a_client_is_personal_from_a_new_version_with_a_pure_upcaster(
    event_type: str, version: int, path: str
) -> None:
    from contracts.schema_export import recorded_personal_fields
    from contracts.upcasters import UPCASTERS, upcast

    cls = EVENT_TYPES[event_type]
    assert cls.schema_version >= version, "a later version may add fields"
    assert path in personal_fields(cls)
    recorded = recorded_personal_fields()[event_type]
    assert path in recorded[str(version)] and path not in recorded[str(version - 1)]
    data = {"some": "data", "nested": {"free": "text"}}
    assert upcast(event_type, version - 1, data, target=version) == data
    assert UPCASTERS[(event_type, version - 1)](data) is not data, "a copy: the stored data is not changed"
