"""Every operation's OpenAPI says what it really answers: its error statuses, each in the
one problem shape (runtime/problems.py), and the roles that may call it, taken from the
permission matrix (runtime/access.py), so the document and the code cannot drift.

The statuses follow from what the edge and the handlers do, for every operation alike:

- **401** and **403**: the operation names a permission (every one but ``/healthz``);
- **400**, **413**, **415**: it reads a body (runtime/request_limits.py);
- **409**: it writes (a rule may refuse it, or a concurrent change come first);
- **422**: it has a parameter or a body;
- **404**: it has a path parameter (no such client, case or session);
- **500** and **503**: always (an unexpected failure; the database or broker away).

An operation adds others it can answer (for example a 429) with FastAPI's ``responses``;
those get the problem shape too. A test walks the services and checks that every status
they answer is documented here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from runtime.access import MATRIX, Permission
from runtime.problems import MEDIA_TYPE, Problem
from runtime.routes import PUBLIC_PATHS, api_routes, route_permission

_REF = "#/components/schemas/Problem"

#: the generic meaning of each status, used where an operation gives none of its own
MEANING: dict[int, str] = {
    400: "The body is not well-formed: not UTF-8, or not JSON",
    401: "No bearer token, or one that is not valid (send `Authorization: Bearer <token>`)",
    403: "The caller's role, organisation or the client's consent does not allow this",
    404: "No such client, case, session or resource",
    409: "Refused by a rule of the process, or a concurrent change to the same client (retryable)",
    413: "The body is over this endpoint's limit",
    415: "The body's Content-Type is not one this endpoint reads",
    422: "A field or parameter is invalid; `errors` lists each with its reason",
    429: "Too many requests of this kind at once; retry after `Retry-After`",
    500: "An unexpected failure; quote `error_id`, under which it was logged",
    503: "The database or broker cannot be reached; nothing was written; retry after `Retry-After`",
}

_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "`Bearer`"}},
    405: {"Allow": {"schema": {"type": "string"}, "description": "The methods the path takes"}},
    429: {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}},
    503: {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}},
}

_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def error_statuses(route: APIRoute, method: str) -> set[int]:
    """The error statuses ``method`` on ``route`` can answer (see the module docstring)."""
    statuses = {500, 503}
    if route_permission(route) is not None:
        statuses |= {401, 403}
    if route.body_field is not None:
        statuses |= {400, 413, 415}
    if method in _WRITES:
        statuses.add(409)
    params = route.dependant
    if route.body_field is not None or _has_parameters(params):
        statuses.add(422)
    if "{" in route.path:
        statuses.add(404)
    statuses |= {int(s) for s in route.responses if str(s).isdigit() and int(s) >= 400}
    return statuses


def _has_parameters(dependant: Any) -> bool:
    own = (
        dependant.path_params or dependant.query_params or dependant.header_params or dependant.cookie_params
    )
    return bool(own) or any(_has_parameters(sub) for sub in dependant.dependencies)


def roles_of(permission: Permission) -> list[str]:
    return sorted(role.value for role in MATRIX[permission])


def install_openapi(app: FastAPI, *, raw_body_paths: Iterable[str] = ()) -> None:
    """Replace ``app.openapi`` with the documented one (built once, then cached).
    ``raw_body_paths`` read a body FastAPI does not model (the info-list import)."""
    base: Callable[[], dict[str, Any]] = app.openapi
    raw = frozenset(raw_body_paths)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = base()
        _add_problem_schema(document)
        for route in api_routes(list(app.routes)):
            if route.path in PUBLIC_PATHS:
                continue  # the health check answers its own report, documented on it
            for method in route.methods or ():
                operation = document["paths"].get(route.path, {}).get(method.lower())
                if operation is None:
                    continue
                statuses = error_statuses(route, method)
                if route.path in raw:
                    statuses |= {400, 413, 415, 422}
                _document(operation, route, statuses)
        schemas = document["components"]["schemas"]
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        _say_no_nul(document)
        _bounds_in_schema_words(document)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _document(operation: dict[str, Any], route: APIRoute, statuses: set[int]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status in sorted(statuses):
        declared = responses.get(str(status), {})
        own = route.responses.get(status, {}) or route.responses.get(str(status), {})
        entry: dict[str, Any] = {
            "description": own.get("description") or MEANING.get(status, "An error"),
            "content": {MEDIA_TYPE: {"schema": {"$ref": _REF}}},
        }
        if status in _HEADERS:
            entry["headers"] = _HEADERS[status]
        if declared.get("headers"):
            entry.setdefault("headers", {}).update(declared["headers"])
        responses[str(status)] = entry
    operation["responses"] = dict(sorted(responses.items()))
    permission = route_permission(route)
    if permission is not None:
        roles = roles_of(permission)
        operation["x-reitti-permission"] = permission.value
        operation["x-reitti-roles"] = roles
        line = f"**Permission** `{permission.value}`, held by: {', '.join(f'`{r}`' for r in roles)}."
        operation["description"] = (operation.get("description", "") + "\n\n" + line).strip()


def _add_problem_schema(document: dict[str, Any]) -> None:
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}", by_alias=True)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in schema.pop("$defs", {}).items():
        schemas[name] = definition
    schemas["Problem"] = schema


def openapi_json(document: dict[str, Any]) -> str:
    """A document as committed under docs/openapi/ (stable key order)."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


#: a string without the NUL character: request bodies and parameters refuse it
#: (runtime/requests.py), and the document says so, so that a generated string is valid
NO_NUL = "^[^\\u0000]*$"


def _say_no_nul(document: dict[str, Any]) -> None:
    """Mark every free string a request can carry (body fields, path and query
    parameters) as NUL-free, as the services enforce it."""
    schemas = document["components"]["schemas"]
    seen: set[str] = set()

    def visit(schema: Any) -> None:
        if isinstance(schema, list):
            for item in schema:
                visit(item)
            return
        if not isinstance(schema, dict):
            return
        if ref := schema.get("$ref"):
            name = ref.rsplit("/", 1)[1]
            if name not in seen and name in schemas:
                seen.add(name)
                visit(schemas[name])
            return
        if schema.get("type") == "string" and not ({"pattern", "format", "enum", "const"} & set(schema)):
            schema["pattern"] = NO_NUL
        for value in schema.values():
            visit(value)

    for item in document["paths"].values():
        for operation in item.values():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                visit(content.get("schema"))
            for parameter in operation.get("parameters", []):
                if parameter.get("in") in ("path", "query"):
                    visit(parameter.get("schema"))


_BOUNDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}


def _bounds_in_schema_words(node: Any) -> None:
    """On an optional field of a validated number type (``StrictCount | None``) pydantic
    writes the bounds under their Python names (``ge``, ``le``), which no schema reader
    knows; they are renamed to JSON Schema's, so the document states the range the
    service enforces."""
    if isinstance(node, list):
        for item in node:
            _bounds_in_schema_words(item)
    elif isinstance(node, dict):
        if node.get("type") in ("integer", "number"):
            for python, schema in _BOUNDS.items():
                if python in node:
                    node[schema] = node.pop(python)
        for value in node.values():
            _bounds_in_schema_words(value)
