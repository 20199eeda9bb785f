"""The demo's HTTP client: JSON calls with signed tokens, retried where that is safe."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from reitti.demo.seed import PURPOSE, PURPOSE_DETAIL, Person
from runtime.auth import TokenIssuer


class DemoError(RuntimeError):
    """A call the demo needs did not succeed: the message says which and why."""


@dataclass(frozen=True)
class Endpoints:
    intake: str = "http://127.0.0.1:8001"
    guidance: str = "http://127.0.0.1:8002"
    reporting: str = "http://127.0.0.1:8003"


@dataclass
class Answer:
    status: int
    body: Any


#: how long an idle connection is kept: under the services' keep-alive timeout (uvicorn: 5 s)
KEEPALIVE_SECONDS = 2.0


class Http:
    """JSON calls with signed tokens on one ``httpx.AsyncClient``, so that many clients move
    at once. A call that cannot have been done (a read, or a connection never made) is
    retried; so is a ``409`` that says it is retryable (a concurrent write)."""

    def __init__(
        self,
        issuer: TokenIssuer,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._issuer = issuer
        self._tokens: dict[Person, str] = {}
        # A kept-alive connection is given up before the server's own keep-alive timeout
        # (uvicorn's 5 s): otherwise a request sent just as the server closes an idle
        # connection fails with a ReadError, and a POST cannot be retried safely.
        self._client = httpx.AsyncClient(
            timeout=timeout, transport=transport, limits=httpx.Limits(keepalive_expiry=KEEPALIVE_SECONDS)
        )

    def token(self, person: Person) -> str:
        if person not in self._tokens:
            self._tokens[person] = self._issuer.issue(
                person_id=person.person_id,
                role=person.role,
                organisation=person.organisation,
                ttl=timedelta(hours=6),
            )
        return self._tokens[person]

    async def call(
        self, method: str, url: str, person: Person, body: Any = None, *, ok: Iterable[int] = (200, 201)
    ) -> Answer:
        expected = set(ok)
        data = None if body is None else json.dumps(body, default=str).encode()
        headers = {
            "Authorization": f"Bearer {self.token(person)}",
            "X-Reitti-Purpose": PURPOSE.value,
            "X-Reitti-Purpose-Detail": PURPOSE_DETAIL,
            "Accept": "application/json",
        }
        if data is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(8):
            try:
                response = await self._client.request(method, url, content=data, headers=headers)
            except httpx.TransportError as exc:
                # Retry only what cannot have been done: a read, or a connection never made.
                never_sent = isinstance(exc, httpx.ConnectError)
                if attempt < 3 and (method == "GET" or never_sent):
                    await asyncio.sleep(0.5 * (attempt + 1))
                    continue
                raise DemoError(f"{method} {url}: {exc!r}") from None
            answer = Answer(response.status_code, _json(response.content))
            retryable = isinstance(answer.body, dict) and answer.body.get("retryable") is True
            if answer.status == 409 and retryable and attempt < 7:
                await asyncio.sleep(0.05 * (attempt + 1))
                continue
            if answer.status in expected:
                return answer
            raise DemoError(f"{method} {url} answered {answer.status}: {_detail(answer.body)}")
        raise DemoError(f"{method} {url}: gave up after retries")

    async def aclose(self) -> None:
        await self._client.aclose()


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode(errors="replace")


def _detail(body: Any) -> str:
    if isinstance(body, dict) and "detail" in body:
        return str(body["detail"])
    return str(body)[:500]
