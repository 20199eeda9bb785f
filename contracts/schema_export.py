"""Write the JSON Schema of every event contract to ``contracts/schemas/``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from contracts.envelope import CloudEventEnvelope, dataschema_uri
from contracts.registry import EVENT_TYPES

SCHEMA_DIR = Path(__file__).parent / "schemas"


def render_schemas() -> dict[str, str]:
    """File name -> JSON text, for every event contract and the envelope."""
    out: dict[str, str] = {}
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
    rendered = render_schemas()
    for stale in directory.glob("*.json"):
        if stale.name not in rendered:
            stale.unlink()
    written = []
    for name, text in rendered.items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
