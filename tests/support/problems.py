"""Reading the one error shape (runtime/problems.py) in tests."""

from __future__ import annotations

from typing import Any

import httpx


def problem_of(response: httpx.Response) -> dict[str, Any]:
    """The response's problem document; fails unless it is one."""
    assert response.headers["content-type"] == "application/problem+json", response.headers
    body: dict[str, object] = response.json()
    assert {"type", "title", "status", "detail", "retryable"} <= set(body), body
    assert body["status"] == response.status_code, body
    return body


def invalid_fields(response: httpx.Response) -> list[tuple[str, str]]:
    """Each invalid field of a 400 or 422 answer, as (where, dotted path)."""
    errors = problem_of(response)["errors"]
    assert isinstance(errors, list), errors
    return [(e["in"], e["field"]) for e in errors]


def first_error(response: httpx.Response) -> dict[str, str]:
    errors = problem_of(response)["errors"]
    assert isinstance(errors, list) and errors, errors
    error: dict[str, str] = errors[0]
    return error
