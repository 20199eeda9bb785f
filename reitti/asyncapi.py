"""The AsyncAPI document of the event contracts, from the services' FastStream brokers
(the partner feeds' from the broker reporting publishes them through)."""

from __future__ import annotations

import json
from typing import Any

from faststream.specification import AsyncAPI

from runtime.config import Settings


def asyncapi_document(settings: Settings | None = None) -> dict[str, Any]:
    """Declare each service's broker (no connection is made) and render AsyncAPI 3.0."""
    from services.guidance.app import build_broker as guidance_broker
    from services.intake.app import build_broker as intake_broker
    from services.reporting.app import build_broker as reporting_broker
    from services.reporting.app import build_feed_broker

    settings = settings or Settings(nats_url="nats://127.0.0.1:4222", database_url="postgresql://")
    spec = AsyncAPI(
        intake_broker(settings),
        guidance_broker(settings),
        reporting_broker(settings),
        # the partner feeds' publishers, as the running reporting service publishes through them
        build_feed_broker(settings).broker,
        title="Reitti events",
        version="0.1.0",
        description=(
            "Events travel as CloudEvents 1.0 JSON on "
            "<namespace>.events.<service>.<side>.<organisation>.<EventType>; "
            "JSON Schemas are in contracts/schemas/."
        ),
    )
    return json.loads(spec.to_specification().to_json())  # type: ignore[no-any-return]
