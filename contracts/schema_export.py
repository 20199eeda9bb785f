"""Write the JSON Schema of every event contract to ``contracts/schemas/``, with the
record of which fields of each event type and schema version are personal data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from contracts.base import personal_fields
from contracts.envelope import CloudEventEnvelope, dataschema_uri
from contracts.registry import EVENT_TYPES

SCHEMA_DIR = Path(__file__).parent / "schemas"
#: every event type's personal fields per schema version, kept for old versions too
PERSONAL_FIELDS = "personal-fields.json"

Manifest = dict[str, dict[str, list[str]]]


class PersonalFieldsChanged(ValueError):
    """A recorded schema version's personal fields changed: that needs a new version."""


def personal_fields_manifest(recorded: Manifest) -> Manifest:
    """The personal fields of every event type by schema version: those ``recorded``
    before (kept: the log holds events of old versions) and the current contracts'.

    Events are sealed, and revealed, at the personal paths of their type and version
    (runtime/erasure.py). A version's paths therefore never change: marking a field
    personal, or no longer personal, is a new schema version of the event (with an
    upcaster). Raises :class:`PersonalFieldsChanged` otherwise."""
    out: Manifest = {t: dict(versions) for t, versions in recorded.items()}
    for event_type, cls in sorted(EVENT_TYPES.items()):
        version, paths = str(cls.schema_version), sorted(personal_fields(cls))
        before = out.get(event_type, {}).get(version)
        if before is not None and before != paths:
            raise PersonalFieldsChanged(
                f"{event_type} v{version}: personal fields changed from {before} to {paths}. "
                f"Events of v{version} in the log were sealed at the old paths: make this "
                f"v{cls.schema_version + 1}, with an upcaster"
            )
        out.setdefault(event_type, {})[version] = paths
    return {t: dict(sorted(v.items(), key=lambda kv: int(kv[0]))) for t, v in sorted(out.items())}


def recorded_personal_fields(directory: Path = SCHEMA_DIR) -> Manifest:
    path = directory / PERSONAL_FIELDS
    if not path.exists():
        return {}
    recorded: Manifest = json.loads(path.read_text(encoding="utf-8"))
    return recorded


def render_schemas(directory: Path = SCHEMA_DIR) -> dict[str, str]:
    """File name -> JSON text, for every event contract and the envelope, and the record
    of personal fields (merged with the one in ``directory``)."""
    manifest = personal_fields_manifest(recorded_personal_fields(directory))
    out: dict[str, str] = {PERSONAL_FIELDS: _dump(manifest)}
    for event_type, cls in sorted(EVENT_TYPES.items()):
        schema: dict[str, Any] = cls.model_json_schema(mode="serialization")
        schema["$id"] = dataschema_uri(event_type, cls.schema_version)
        schema["x-event-type"] = event_type
        schema["x-schema-version"] = cls.schema_version
        schema["x-producer"] = cls.producer
        schema = _sealable(schema)
        out[f"{event_type}.v{cls.schema_version}.json"] = _dump(schema)
    envelope = CloudEventEnvelope.model_json_schema(mode="serialization")
    out["CloudEventEnvelope.json"] = _dump(envelope)
    return out


#: How a personal field travels and rests: sealed with the client's key (docs/adr/0011).
SEALED: dict[str, Any] = {
    "type": "string",
    "pattern": "^enc:v1:[A-Za-z0-9+/=]+$",
    "description": "The value encrypted with the client's key (AES-GCM, base64 of nonce and "
    "ciphertext); reads `[erased]` once the key is deleted",
}


def _sealable(node: Any) -> Any:
    """The schema as the events travel: every personal field is the plain value (in the
    service's memory, after decryption) or its sealed form (on the wire and at rest)."""
    if isinstance(node, list):
        return [_sealable(n) for n in node]
    if not isinstance(node, dict):
        return node
    if node.get("x-personal-data") is True:
        plain = {k: v for k, v in node.items() if k not in ("title", "description", "x-personal-data")}
        out = {k: node[k] for k in ("title", "description") if k in node}
        return {**out, "x-personal-data": True, "anyOf": [plain, SEALED]}
    return {k: _sealable(v) for k, v in node.items()}


def _dump(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    rendered = render_schemas(directory)
    for stale in directory.glob("*.json"):
        if stale.name not in rendered:
            stale.unlink()
    written = []
    for name, text in rendered.items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
