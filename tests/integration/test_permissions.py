"""The permission matrix, walked cell by cell against the running services: every
endpoint x every role; plus 401 for missing, forged and expired tokens."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from reitti.permission_docs import render_permission_matrix
from runtime.access import MATRIX, Role
from runtime.auth import TokenIssuer
from runtime.routes import PUBLIC_PATHS, Endpoint, endpoints
from services.guidance.app import create_app as guidance_app
from services.intake.app import create_app as intake_app
from services.reporting.app import create_app as reporting_app
from tests.support.apps import running
from tests.support.auth import ISSUER, headers

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "nothing-here", path)


async def call(
    client: httpx.AsyncClient, endpoint: Endpoint, request_headers: dict[str, str]
) -> httpx.Response:
    url = concrete(endpoint.path)
    if endpoint.method == "GET":
        return await client.get(url, headers=request_headers)
    return await client.request(endpoint.method, url, json={}, headers=request_headers)


def protected(app_endpoints: list[Endpoint]) -> list[Endpoint]:
    return [e for e in app_endpoints if e.path not in PUBLIC_PATHS]


async def test_every_endpoint_answers_each_role_exactly_as_the_matrix_says(settings) -> None:
    for name, factory in (("intake", intake_app), ("guidance", guidance_app), ("reporting", reporting_app)):
        app = factory(settings)
        async with running(app) as client:
            for endpoint in protected(endpoints(name, app)):
                assert endpoint.permission is not None, f"{endpoint} has no permission"
                for role in Role:
                    response = await call(client, endpoint, headers(role.value, organisation="mikkeli"))
                    where = f"{endpoint.method} {endpoint.path} as {role.value}"
                    if role in MATRIX[endpoint.permission]:
                        assert response.status_code not in (401, 403), f"{where}: {response.text}"
                    else:
                        assert response.status_code == 403, f"{where}: {response.status_code}"
                        assert endpoint.permission.value in response.json()["detail"], where


async def test_every_endpoint_refuses_a_caller_without_a_valid_token(settings) -> None:
    forged = TokenIssuer.generate().issue(person_id="x", role="auditor", organisation="centre")
    expired = ISSUER.issue(
        person_id="x",
        role="auditor",
        organisation="centre",
        now=datetime.now(UTC) - timedelta(days=2),
        ttl=timedelta(hours=1),
    )
    for name, factory in (("intake", intake_app), ("guidance", guidance_app), ("reporting", reporting_app)):
        app = factory(settings)
        async with running(app) as client:
            for endpoint in protected(endpoints(name, app)):
                for token in (None, forged, expired, "not-a-token"):
                    request_headers = {"Authorization": f"Bearer {token}"} if token else {}
                    response = await call(client, endpoint, request_headers)
                    assert response.status_code == 401, f"{endpoint.method} {endpoint.path}: {response.text}"
                    assert response.headers["www-authenticate"] == "Bearer"
            assert (await client.get("/healthz")).status_code == 200, "health checks stay public"


def test_every_endpoint_names_a_permission_and_the_documented_matrix_is_current() -> None:
    matrix = render_permission_matrix()
    assert "**none**" not in matrix, "an endpoint without require(...) is open to any authenticated caller"
    committed = (ROOT / "docs" / "permissions.md").read_text(encoding="utf-8")
    assert committed == matrix, "run `reitti permissions` and commit docs/permissions.md"
