"""``GET /healthz`` reports degraded, with the reason, while an outbox stops draining or
a consumer falls behind, and ok again once they move (docs/adr/0016)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from services.guidance.app import create_app as guidance_app
from services.intake.app import create_app as intake_app
from services.reporting.app import create_app as reporting_app
from tests.integration.test_consumer import publish
from tests.support.apps import eventually, running
from tests.support.factories import HEADERS, client_referred, referral_request

pytestmark = pytest.mark.integration

TAKE_THE_TURN = "SELECT pg_advisory_xact_lock(hashtext('reitti.relay'), hashtext('intake'))"


@contextlib.asynccontextmanager
async def holding(pool: asyncpg.Pool, statement: str) -> AsyncIterator[None]:
    """Hold what ``statement`` takes, in a transaction with no timeouts of its own."""
    conn = await pool.acquire()
    tx = conn.transaction()
    await tx.start()
    try:
        await conn.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
        await conn.execute(statement)
        yield
    finally:
        await tx.rollback()
        await pool.release(conn)


async def health(client: httpx.AsyncClient) -> tuple[int, dict[str, Any]]:
    response = await client.get("/healthz")
    return response.status_code, response.json()


async def test_healthz_is_degraded_while_the_outbox_does_not_drain_and_ok_after(settings, pool) -> None:
    settings = settings.with_(lag_limit=1.0)
    async with running(intake_app(settings)) as intake:
        assert (await health(intake))[0] == 200
        # Another relay holds the turn and publishes nothing: the outbox stops draining.
        async with holding(pool, TAKE_THE_TURN):
            response = await intake.post("/referrals", json=referral_request(), headers=HEADERS)
            assert response.status_code == 201, response.text
            _, body = await eventually(lambda: health(intake), lambda h: h[0] == 503, within=30)
            assert body["status"] == "degraded"
            assert body["database"] == "ok" and body["broker"] == "ok"
            assert body["outboxes"]["intake"]["oldest_waiting_seconds"] >= 1.0
            assert any(reason.startswith("outbox intake is not draining") for reason in body["reasons"])
        _, body = await eventually(lambda: health(intake), lambda h: h[0] == 200, within=30)
        assert body["status"] == "ok"
        assert body["outboxes"]["intake"]["oldest_waiting_seconds"] == 0
        assert "reasons" not in body


@pytest.mark.parametrize(
    ("create_app", "consumer", "schema"),
    [(reporting_app, "reporting", "reporting"), (guidance_app, "guidance-intake", "guidance")],
    ids=["reporting", "guidance (a filtered consumer)"],
)
async def test_healthz_is_degraded_while_a_consumer_falls_behind_and_ok_after(
    settings, pool, nats_client, create_app, consumer: str, schema: str
) -> None:
    settings = settings.with_(lag_limit=1.0)
    js = nats_client.jetstream()
    async with running(create_app(settings)) as service:
        assert (await health(service))[0] == 200
        # The consumer cannot record what it applies: it stays behind.
        async with holding(pool, f"LOCK TABLE {schema}.consumed_events IN EXCLUSIVE MODE"):
            await publish(js, settings, client_referred("client-behind"))
            _, body = await eventually(lambda: health(service), lambda h: h[0] == 503, within=30)
            assert body["status"] == "degraded"
            assert body["consumers"][consumer]["waiting"] == 1
            assert any(reason.startswith(f"consumer {consumer} is behind") for reason in body["reasons"])
        _, body = await eventually(lambda: health(service), lambda h: h[0] == 200, within=30)
        assert body["status"] == "ok"
        assert body["consumers"][consumer] == {"waiting": 0, "oldest_waiting_seconds": 0}
