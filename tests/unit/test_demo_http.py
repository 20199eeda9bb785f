"""The demo's HTTP client (reitti/demo/http.py): signed JSON calls on httpx, retried only
where that is safe."""

from __future__ import annotations

import json

import httpx
import pytest
import uvicorn

from reitti.demo.http import KEEPALIVE_SECONDS, DemoError, Http
from reitti.demo.seed import COORDINATOR, PURPOSE
from runtime.auth import TokenIssuer
from tests.support.auth import ISSUER


class Server:
    """A scripted server: each request gets the next answer (a response or an error)."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def client(server: Server, issuer: TokenIssuer = ISSUER) -> Http:
    return Http(issuer, transport=httpx.MockTransport(server))


async def test_a_call_sends_json_with_the_persons_token_and_the_purpose() -> None:
    server = Server(httpx.Response(201, json={"client_id": "c-1"}))
    http = client(server)
    answer = await http.call("POST", "http://intake/referrals", COORDINATOR, {"a": 1})
    await http.aclose()
    assert (answer.status, answer.body) == (201, {"client_id": "c-1"})
    [request] = server.requests
    assert json.loads(request.content) == {"a": 1}
    assert request.headers["Authorization"] == f"Bearer {http.token(COORDINATOR)}"
    assert request.headers["X-Reitti-Purpose"] == PURPOSE.value
    assert request.headers["Content-Type"] == "application/json"


async def test_a_retryable_conflict_and_a_refused_connection_are_tried_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_wait(_: float) -> None:
        return None

    monkeypatch.setattr("reitti.demo.http.asyncio.sleep", no_wait)
    server = Server(
        httpx.ConnectError("refused"),
        httpx.Response(409, json={"retryable": True, "detail": "concurrent write"}),
        httpx.Response(200, json={"ok": True}),
    )
    answer = await client(server).call("POST", "http://guidance/cases/c-1/plan", COORDINATOR, {})
    assert answer.body == {"ok": True}
    assert len(server.requests) == 3


async def test_a_write_that_may_have_been_done_is_not_repeated() -> None:
    server = Server(httpx.ReadTimeout("no answer"), httpx.Response(201, json={}))
    with pytest.raises(DemoError, match="POST http://intake/referrals"):
        await client(server).call("POST", "http://intake/referrals", COORDINATOR, {})
    assert len(server.requests) == 1


async def test_an_unexpected_status_names_the_call_and_the_detail() -> None:
    server = Server(httpx.Response(422, json={"detail": "referral_date is in the future"}))
    with pytest.raises(DemoError, match="answered 422: referral_date is in the future"):
        await client(server).call("POST", "http://intake/referrals", COORDINATOR, {})


def test_an_idle_connection_is_given_up_before_the_services_keep_alive_timeout_ends_it() -> None:
    # A POST sent on a connection the server is closing fails with a ReadError and
    # cannot be retried safely: the client must drop idle connections first.
    served_by = uvicorn.Config(app=lambda *a: None).timeout_keep_alive
    assert served_by > KEEPALIVE_SECONDS
