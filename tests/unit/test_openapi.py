"""Every service's OpenAPI document renders, with the bearer scheme (no server needed)."""

from __future__ import annotations

import pytest

from runtime.auth import TokenIssuer
from runtime.config import Settings
from services.guidance.app import create_app as guidance_app
from services.intake.app import create_app as intake_app
from services.reporting.app import create_app as reporting_app

SETTINGS = Settings(
    nats_url="nats://127.0.0.1:1",
    database_url="postgresql://127.0.0.1:1/x",
    jwt_public_key=TokenIssuer.generate().public_pem(),
)


@pytest.mark.parametrize("factory", [intake_app, guidance_app, reporting_app])
def test_the_openapi_document_renders_with_bearer_authentication(factory) -> None:  # type: ignore[no-untyped-def]
    document = factory(SETTINGS).openapi()
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "/healthz" in document["paths"]
    secured = [op for path in document["paths"].values() for op in path.values() if op.get("security")]
    assert secured, "endpoints declare their bearer requirement"


def test_a_service_without_a_token_key_refuses_to_start_with_a_clear_error() -> None:
    from runtime.config import ConfigError

    with pytest.raises(ConfigError, match="REITTI_JWT_PUBLIC_KEY"):
        intake_app(Settings(nats_url="nats://x", database_url="postgresql://x"))
