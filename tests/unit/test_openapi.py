"""Every service's OpenAPI document renders, with the bearer scheme (no server needed)."""

from __future__ import annotations

from typing import Any

import pytest

from runtime.auth import TokenIssuer
from runtime.config import Settings
from runtime.routes import PUBLIC_PATHS
from services.guidance.app import create_app as guidance_app
from services.intake.app import create_app as intake_app
from services.reporting.app import create_app as reporting_app

SETTINGS = Settings(
    nats_url="nats://127.0.0.1:1",
    database_url="postgresql://127.0.0.1:1/x",
    jwt_public_key=TokenIssuer.generate().public_pem(),
)


@pytest.mark.parametrize("factory", [intake_app, guidance_app, reporting_app])
def test_the_openapi_document_renders_with_bearer_authentication(factory) -> None:
    document = factory(SETTINGS).openapi()
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "/healthz" in document["paths"]
    secured = [op for path in document["paths"].values() for op in path.values() if op.get("security")]
    assert secured, "endpoints declare their bearer requirement"


def test_a_service_without_a_token_key_refuses_to_start_with_a_clear_error() -> None:
    from runtime.config import ConfigError

    with pytest.raises(ConfigError, match="REITTI_JWT_PUBLIC_KEY"):
        intake_app(Settings(nats_url="nats://x", database_url="postgresql://x"))


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if path not in PUBLIC_PATHS
    ]


def test_the_committed_openapi_documents_are_current() -> None:
    from pathlib import Path

    from reitti.permission_docs import service_apps
    from runtime.openapi import openapi_json

    committed = Path(__file__).resolve().parents[2] / "docs" / "openapi"
    for name, app in service_apps().items():
        current = openapi_json(app.openapi())
        assert (committed / f"{name}.json").read_text(encoding="utf-8") == current, (
            f"docs/openapi/{name}.json is stale: run `reitti openapi` and commit it"
        )


@pytest.mark.parametrize("factory", [intake_app, guidance_app, reporting_app])
def test_every_operation_documents_its_errors_in_the_problem_shape_and_its_roles(factory) -> None:
    from runtime.access import MATRIX, Permission

    document = factory(SETTINGS).openapi()
    assert "HTTPValidationError" not in document["components"]["schemas"], "FastAPI's own 422 shape is gone"
    for path, method, operation in _operations(document):
        where = f"{method.upper()} {path}"
        responses = operation["responses"]
        errors = {int(s) for s in responses if int(s) >= 400}
        assert {401, 403, 500, 503} <= errors, where
        for status in errors:
            content = responses[str(status)]["content"]
            assert content == {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            }
        if "requestBody" in operation:
            assert {400, 413, 415, 422} <= errors, where
        if "{" in path:
            assert 404 in errors, where
        permission = Permission(operation["x-reitti-permission"])
        assert operation["x-reitti-roles"] == sorted(r.value for r in MATRIX[permission]), where
        assert all(f"`{role}`" in operation["description"] for role in operation["x-reitti-roles"]), where
