"""The desk's only way to client data: the services' public HTTP APIs, called with the
signed-in user's own token (docs/adr/0045).

Nothing here decides who may see what: the services answer, and their problem documents
(docs/adr/0024) come back as :class:`Problem`, whose ``errors`` the pages show beside the
fields they concern."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from runtime.problems import MEDIA_TYPE
from runtime.purposes import DETAIL_MAX_LENGTH

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
    #: the consents a refusal names as missing (the problem's ``missing_consents``)
    missing_consents: tuple[str, ...] = ()

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
        missing_consents=tuple(str(m) for m in data.get("missing_consents") or [] if isinstance(m, str)),
    )


UNAVAILABLE = "urn:reitti:problem:unavailable"
#: the desk's page a request is for: its route's path, with no ids (``/intake/clients/{client_id}``)
_PAGE: ContextVar[str | None] = ContextVar("desk_page", default=None)


def on_page(method: str, route: str) -> None:
    """Name the desk's page this request serves (set once per request, before the APIs
    are called: services/desk/web.py::signed_in)."""
    _PAGE.set(f"{method} {route}")


def purpose_detail() -> str:
    """``staff desk: GET /guidance/cases/{client_id}``: the page, as the access report
    shows it; a route's template, never an id or anything else of the client's."""
    page = _PAGE.get()
    detail = f"staff desk: {page}" if page else "staff desk"
    return detail.encode("utf-8")[:DETAIL_MAX_LENGTH].decode("utf-8", "ignore")


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
        content: bytes | None = None,
        content_type: str | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Answer:
        """``method path`` on ``service`` as the signed-in user, with a JSON body or
        ``content`` of ``content_type``. A read of client data names its ``purpose``
        (``X-Reitti-Purpose``), as every caller must, and the desk's page the user is
        on (``X-Reitti-Purpose-Detail``: ``staff desk: <page>``), so that the access
        report lists each page view (:func:`on_page`)."""
        headers = self.headers(token, purpose)
        if content_type is not None:
            headers["Content-Type"] = content_type
        try:
            response = await self.client(service).request(
                method, path, headers=headers, json=json, content=content, params=params
            )
        except httpx.HTTPError:
            return Answer(503, problem=Problem(503, UNAVAILABLE, f"the {service} service did not answer"))
        if response.is_success:
            return Answer(response.status_code, response.json() if response.content else None)
        return Answer(response.status_code, problem=problem_of(response))

    @staticmethod
    def headers(token: str, purpose: str | None, accept: str = "application/json") -> dict[str, str]:
        headers = {"Authorization": f"Bearer {token}", "Accept": accept}
        if purpose is not None:
            headers["X-Reitti-Purpose"] = purpose
            headers["X-Reitti-Purpose-Detail"] = purpose_detail()
        return headers

    async def stream(
        self,
        service: ServiceName,
        path: str,
        *,
        token: str,
        purpose: str,
        accept: str,
        params: Mapping[str, str] | None = None,
    ) -> tuple[httpx.Response | None, Answer | None]:
        """``GET path`` as the user, its body to be streamed on (an export): the open
        response, or the answer of a refusal (the response then closed)."""
        request = self.client(service).build_request(
            "GET", path, headers=self.headers(token, purpose, accept), params=params
        )
        try:
            response = await self.client(service).send(request, stream=True)
        except httpx.HTTPError:
            silent = Problem(503, UNAVAILABLE, f"the {service} service did not answer")
            return None, Answer(503, problem=silent)
        if response.is_success:
            return response, None
        await response.aread()
        await response.aclose()
        return None, Answer(response.status_code, problem=problem_of(response))

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()
        self.clients.clear()
