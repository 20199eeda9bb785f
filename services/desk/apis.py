"""The desk's only way to client data: the services' public HTTP APIs, called with the
signed-in user's own token (docs/adr/0045).

Nothing here decides who may see what: the services answer, and their problem documents
(docs/adr/0024) come back as :class:`Problem`, whose ``errors`` the pages show beside the
fields they concern."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from runtime.problems import MEDIA_TYPE

ServiceName = Literal["intake", "guidance", "reporting"]
#: how long the desk waits for a service before it says the service does not answer
TIMEOUT = httpx.Timeout(15.0, connect=5.0)


@dataclass(frozen=True)
class FieldError:
    """One invalid field, as the API named it (``client.first_name``) and why (pydantic's
    or the rule's ``code``, which the pages translate; ``reason`` is the API's English)."""

    field: str
    code: str | None
    reason: str


@dataclass(frozen=True)
class Problem:
    """A problem answer of a service, or the desk's own when the service did not answer."""

    status: int
    type: str
    detail: str
    errors: tuple[FieldError, ...] = ()

    @property
    def kind(self) -> str:
        """The last part of ``type``: ``forbidden``, ``invalid-input``, ``refused``..."""
        return self.type.rsplit(":", 1)[-1]

    def by_field(self) -> dict[str, list[FieldError]]:
        found: dict[str, list[FieldError]] = {}
        for error in self.errors:
            found.setdefault(error.field, []).append(error)
        return found


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any = None
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def problem_of(response: httpx.Response) -> Problem:
    """The problem document of a failed answer (anything else is read as its status)."""
    data: Any = None
    if response.headers.get("content-type", "").startswith((MEDIA_TYPE, "application/json")):
        try:
            data = response.json()
        except ValueError:
            data = None
    if not isinstance(data, dict):
        return Problem(response.status_code, "urn:reitti:problem:internal", response.reason_phrase)
    errors = tuple(
        FieldError(field=str(e.get("field", "")), code=e.get("code"), reason=str(e.get("reason", "")))
        for e in data.get("errors") or []
        if isinstance(e, dict)
    )
    return Problem(
        status=int(data.get("status", response.status_code)),
        type=str(data.get("type", "urn:reitti:problem:internal")),
        detail=str(data.get("detail", "")),
        errors=errors,
    )


UNAVAILABLE = "urn:reitti:problem:unavailable"


@dataclass
class Apis:
    """One HTTP client per service, shared by every request of the desk."""

    urls: Mapping[ServiceName, str]
    clients: dict[ServiceName, httpx.AsyncClient] = field(default_factory=dict)

    def client(self, service: ServiceName) -> httpx.AsyncClient:
        if service not in self.clients:
            self.clients[service] = httpx.AsyncClient(base_url=self.urls[service], timeout=TIMEOUT)
        return self.clients[service]

    async def call(
        self,
        service: ServiceName,
        method: str,
        path: str,
        *,
        token: str,
        purpose: str | None = None,
        json: Any = None,
        params: Mapping[str, str] | None = None,
    ) -> Answer:
        """``method path`` on ``service`` as the signed-in user; a read of client data
        names its ``purpose`` (``X-Reitti-Purpose``), as every caller must."""
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if purpose is not None:
            headers["X-Reitti-Purpose"] = purpose
            headers["X-Reitti-Purpose-Detail"] = "staff desk"
        try:
            response = await self.client(service).request(
                method, path, headers=headers, json=json, params=params
            )
        except httpx.HTTPError:
            return Answer(503, problem=Problem(503, UNAVAILABLE, f"the {service} service did not answer"))
        if response.is_success:
            return Answer(response.status_code, response.json() if response.content else None)
        return Answer(response.status_code, problem=problem_of(response))

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()
        self.clients.clear()
