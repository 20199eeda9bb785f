"""Authentication and body limits come before the body: a caller without a valid token,
or with a body over the limit, is refused before a byte of the body is read, and nothing
is written. Driven at the ASGI level, so the test sees exactly what the service reads."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.intake.app import create_app as intake_app
from tests.support.apps import running
from tests.support.auth import headers

pytestmark = pytest.mark.integration

ADVISOR = headers("employment_advisor", "advisor-1", "te-office")


class Exchange:
    """One raw HTTP exchange with the app: what it read of the body and what it answered."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.read = 0
        self.status: int | None = None
        self.body = b""

    async def receive(self) -> dict[str, Any]:
        if self.read < len(self.chunks):
            chunk = self.chunks[self.read]
            self.read += 1
            return {"type": "http.request", "body": chunk, "more_body": self.read < len(self.chunks)}
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")

    def problem(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.body)
        return found


async def exchange(
    app: Any, path: str, chunks: list[bytes], extra: dict[str, str], *, length: bool = True
) -> Exchange:
    sent = Exchange(chunks)
    raw = [(k.lower().encode(), v.encode()) for k, v in extra.items()]
    raw.append((b"content-type", b"application/json"))
    if length:
        raw.append((b"content-length", str(sum(map(len, chunks))).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": raw,
        "client": ("127.0.0.1", 5000),
        "server": ("service", 80),
    }
    await app(scope, sent.receive, sent.send)
    return sent


async def events_written(pool: Any) -> int:
    async with pool.acquire() as conn:
        return int(await conn.fetchval("SELECT count(*) FROM intake.events"))


BIG = [b"[" + b"1," * 500_000] * 20  # 20 MB of a JSON array, never finished


@pytest.mark.parametrize(
    "auth",
    [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic dXNlcjpwYXNz"}],
    ids=["no token", "garbage token", "not bearer"],
)
async def test_a_caller_without_a_valid_token_is_refused_before_the_body_is_read(
    settings, pool, auth
) -> None:
    app = intake_app(settings)
    async with running(app):
        sent = await exchange(app, "/referrals", BIG, auth)
        assert sent.status == 401 and sent.problem()["status"] == 401
        assert sent.read == 0, "not a byte of the body was read"
        assert await events_written(pool) == 0


async def test_a_declared_body_over_the_limit_is_refused_before_it_is_read(settings, pool) -> None:
    app = intake_app(settings)
    async with running(app):
        sent = await exchange(app, "/referrals", BIG, ADVISOR)
        assert sent.status == 413 and "limit" in sent.problem()["detail"]
        assert sent.read == 0
        assert await events_written(pool) == 0


async def test_an_undeclared_body_is_cut_off_as_soon_as_it_passes_the_limit(settings, pool) -> None:
    app = intake_app(settings)
    async with running(app):
        sent = await exchange(app, "/referrals", BIG, ADVISOR, length=False)
        assert sent.status == 413 and sent.problem()["title"] == "body too large"
        assert sent.read == 1, "the first chunk already passed the limit; nothing more was read"
        assert await events_written(pool) == 0


async def test_an_import_may_be_larger_than_a_command(settings, pool) -> None:
    rows = [
        json.dumps(
            {
                "personal_identity_code": "010190-123M",
                "first_name": "Maija",
                "last_name": "Meikäläinen",
                "municipality": "Mikkeli",
                "referral_date": "2010-03-01",
            }
        )
    ]
    body = ("\n".join(rows) + "\n" + " " * 200_000).encode()  # 200 KB: over a command's limit
    app = intake_app(settings)
    async with running(app):
        command = await exchange(app, "/referrals", [body], ADVISOR)
        assert command.status == 413
        sent = await exchange(
            app, "/referrals/import", [body], {**ADVISOR, "Content-Type": "application/x-ndjson"}
        )
        assert sent.status != 413, sent.body[:300]
