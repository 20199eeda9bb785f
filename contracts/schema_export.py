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
        out[f"{event_type}.v{cls.schema_version}.json"] = _dump(schema)
    envelope = CloudEventEnvelope.model_json_schema(mode="serialization")
    out["CloudEventEnvelope.json"] = _dump(envelope)
    return out


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
