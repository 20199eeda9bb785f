"""The OpenAPI documents tell the truth: every operation of the three running services,
called as every role, without a token, with a body of the wrong media type, with a body
that is not JSON and with its own documented example, answers only statuses its
document lists, every error in the problem shape, and 403 exactly for the roles the
document does not name."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from runtime.access import Role
from runtime.config import Settings
from runtime.problems import MEDIA_TYPE
from runtime.routes import PUBLIC_PATHS
from services.guidance.app import create_app as guidance_app
from services.intake.app import create_app as intake_app
from services.reporting.app import create_app as reporting_app
from tests.support.apps import running
from tests.support.auth import headers

pytestmark = pytest.mark.integration

FACTORIES: dict[str, Callable[[Settings], FastAPI]] = {
    "intake": intake_app,
    "guidance": guidance_app,
    "reporting": reporting_app,
}


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "nothing-here", path)


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method.upper(), operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if path not in PUBLIC_PATHS
    ]


def json_body(operation: dict[str, Any]) -> bool:
    return "application/json" in operation.get("requestBody", {}).get("content", {})


def example_of(document: dict[str, Any], operation: dict[str, Any]) -> Any:
    """The operation's request example: on its media type, or on its schema."""
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    if "example" in content:
        return content["example"]
    schema = content.get("schema", {})
    if ref := schema.get("$ref"):
        schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    examples = schema.get("examples")
    return examples[0] if examples else None


def caller(role: str) -> dict[str, str]:
    """Headers of a caller with ``role``, in the organisation that role works for."""
    if role == "social_worker":
        return headers(role, organisation="social_services:mikkeli")
    if role in ("employment_advisor", "lead_employment_advisor", "psychologist"):
        return headers(role, organisation="te-office")
    return headers(role, organisation="centre")


class Walk:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.seen: dict[str, set[int]] = {}

    def check(self, path: str, method: str, operation: dict[str, Any], response: httpx.Response) -> None:
        where = f"{method} {path}: {response.status_code} {response.text[:300]}"
        documented = {int(s) for s in operation["responses"]}
        assert response.status_code in documented, f"undocumented status on {where}"
        assert response.status_code < 500, where
        if response.status_code >= 400:
            assert response.headers["content-type"] == MEDIA_TYPE, where
            assert response.json()["status"] == response.status_code, where
        self.seen.setdefault(f"{method} {path}", set()).add(response.status_code)


async def send(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    operation: dict[str, Any],
    request_headers: dict[str, str],
    body: Any = None,
) -> httpx.Response:
    url = concrete(path)
    if "requestBody" not in operation:
        return await client.request(method, url, headers=request_headers)
    if json_body(operation):
        return await client.request(method, url, json={} if body is None else body, headers=request_headers)
    return await client.request(
        method, url, content=b"", headers={**request_headers, "content-type": "text/csv"}
    )


@pytest.mark.parametrize("service", sorted(FACTORIES))
async def test_every_operation_answers_only_what_its_document_says(settings, service) -> None:
    app = FACTORIES[service](settings)
    document = app.openapi()
    walk = Walk(document)
    examples = 0
    async with running(app) as client:
        for path, method, operation in operations(document):
            roles = set(operation["x-reitti-roles"])
            for role in Role:
                response = await send(
                    client, method, path, operation, headers(role.value, organisation="mikkeli")
                )
                walk.check(path, method, operation, response)
                if role.value in roles:
                    assert response.status_code not in (401, 403), (role, response.text)
                else:
                    assert response.status_code == 403, (path, role)
            allowed = caller(sorted(roles)[0])
            anonymous = await send(client, method, path, operation, {})
            walk.check(path, method, operation, anonymous)
            assert anonymous.status_code == 401, f"{method} {path}: {anonymous.text}"
            if "requestBody" in operation:
                wrong = await client.request(
                    method,
                    concrete(path),
                    content=b"<x/>",
                    headers={**allowed, "content-type": "application/xml"},
                )
                walk.check(path, method, operation, wrong)
                assert wrong.status_code == 415, f"{method} {path}: {wrong.text}"
            if json_body(operation):
                broken = await client.request(
                    method,
                    concrete(path),
                    content=b"{",
                    headers={**allowed, "content-type": "application/json"},
                )
                walk.check(path, method, operation, broken)
                assert broken.status_code == 400, f"{method} {path}: {broken.text}"
                if (example := example_of(document, operation)) is not None:
                    examples += 1
                    answered = await send(client, method, path, operation, allowed, example)
                    walk.check(path, method, operation, answered)
                    assert answered.status_code != 422, ("invalid example", answered.text)
    assert walk.seen, "the walk called something"
    bodies = sum(1 for _, _, operation in operations(document) if json_body(operation))
    assert examples == bodies, "every JSON body has a documented example, and the walk sent it"
