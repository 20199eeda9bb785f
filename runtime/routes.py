"""A service app's routes and the permission each names (its ``require(...)``
dependency): what the endpoint x role matrix (reitti/permission_docs.py), the OpenAPI
(runtime/openapi.py) and a 405's ``Allow`` (runtime/http.py) are read from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from runtime.access import Permission

#: Routes anyone may call: health checks for orchestrators, the API documentation, and the
#: dashboard's sign-in and sign-out (the sign-in checks the permission of the token it is given).
PUBLIC_PATHS = frozenset(
    {
        "/healthz",
        "/openapi.json",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        "/dashboard/sign-in",
        "/dashboard/sign-out",
    }
)


@dataclass(frozen=True)
class Endpoint:
    service: str
    method: str
    path: str
    permission: Permission | None


def _permissions(dependant: Dependant) -> list[Permission]:
    found: list[Permission] = []
    for sub in dependant.dependencies:
        permission = getattr(sub.call, "permission", None)
        if isinstance(permission, Permission):
            found.append(permission)
        found.extend(_permissions(sub))
    return found


def api_routes(routes: list[Any]) -> list[APIRoute]:
    """API routes, including those of included routers (FastAPI keeps them behind a lazy
    wrapper with ``original_router``; Reitti includes routers without a prefix)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif (included := getattr(route, "original_router", None)) is not None:
            found.extend(api_routes(list(included.routes)))
    return found


def route_permission(route: APIRoute) -> Permission | None:
    """The permission ``route``'s ``require(...)`` names, if any."""
    permissions = _permissions(route.dependant)
    return permissions[0] if permissions else None


def endpoints(service: str, app: FastAPI) -> list[Endpoint]:
    out = []
    for route in api_routes(list(app.routes)):
        for method in sorted(route.methods or ()):
            out.append(Endpoint(service, method, route.path, route_permission(route)))
    return sorted(out, key=lambda e: (e.service, e.path, e.method))
