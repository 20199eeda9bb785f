"""Clear answers during outages (docs/adr/0016): with the database down, every API
answers 503 as a problem document with ``Retry-After``, quickly, never a bare 500 and
never a hang; with the broker down, what needs the broker answers so too, while writes
are kept in the outbox (PostgreSQL is the system of record) and published once the
broker is back. Each test stops servers of its own, never the session's."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from runtime.embedded import EmbeddedNats, free_port
from runtime.streams import connect_nats
from services.guidance.app import create_app as guidance_app
from services.intake.app import create_app as intake_app
from services.reporting.app import create_app as reporting_app
from tests.integration.test_database_outage import own_postgres
from tests.support.apps import eventually, running
from tests.support.auth import headers
from tests.support.factories import HEADERS, referral_request
from tests.support.problems import problem_of

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: a liveness bound (never a hang), not a speed figure
BOUND = 5.0
COORDINATOR = headers("service_coordinator", "coord-1", "mikkeli")
AUDITOR = headers("auditor", "auditor-1", "centre")
STEERING = headers("steering_group_member", "steering-1", "centre")


@contextlib.contextmanager
def own_nats() -> Iterator[EmbeddedNats]:
    base = Path(tempfile.mkdtemp(prefix="reitti-broker-outage-"))
    nats = EmbeddedNats(base, free_port())
    try:
        nats.start()
        yield nats
    finally:
        nats.stop()
        shutil.rmtree(base, ignore_errors=True)


async def timed(client: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> httpx.Response:
    started = time.monotonic()
    response = await asyncio.wait_for(client.request(method, path, **kwargs), timeout=BOUND)
    assert time.monotonic() - started < BOUND
    return response


def assert_unavailable(response: httpx.Response, what: str) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) > 0
    body = problem_of(response)
    assert set(body) == {"type", "title", "detail", "status", "retryable"}
    assert body["type"] == "urn:reitti:problem:unavailable" and body["retryable"] is True
    assert what in body["detail"]


def guide(person: str) -> dict[str, Any]:
    return {"person_id": person, "name": person, "role": "service_guide", "areas": ["Mikkeli"]}


async def test_every_api_answers_503_with_retry_after_while_the_database_is_down(settings) -> None:
    with own_postgres() as postgres:
        own = settings.with_(database_url=postgres.url())
        async with (
            running(intake_app(own)) as intake,
            running(guidance_app(own)) as guidance,
            running(reporting_app(own)) as reporting,
        ):
            created = await timed(intake, "POST", "/referrals", json=referral_request(), headers=HEADERS)
            assert created.status_code == 201, created.text
            client_id = created.json()["client_id"]

            await asyncio.to_thread(postgres.stop)
            calls = [
                (intake, "POST", "/referrals", {"json": referral_request(), "headers": HEADERS}),
                (intake, "GET", f"/clients/{client_id}", {"headers": HEADERS}),
                (guidance, "POST", "/guides", {"json": guide("guide-a"), "headers": COORDINATOR}),
                (guidance, "GET", "/waiting", {"headers": HEADERS}),
                (reporting, "GET", "/statistics/referrals-by-source", {"headers": STEERING}),
                # a read of client data writes the access log first
                (reporting, "GET", "/views/te/clients", {"headers": HEADERS}),
            ]
            for client, method, path, kwargs in calls:
                assert_unavailable(await timed(client, method, path, **kwargs), "database")
            for client in (intake, guidance, reporting):
                response = await timed(client, "GET", "/healthz")
                assert response.status_code == 503
                assert response.json()["database"].startswith("unreachable")

            await asyncio.to_thread(postgres.start)
            # Nothing was half-written, and the same calls work again once it is back.
            again = await eventually(
                lambda: intake.post("/referrals", json=referral_request(), headers=HEADERS),
                lambda r: r.status_code == 201,
                within=30,
            )
            assert again.json()["client_id"] != client_id
            added = await guidance.post("/guides", json=guide("guide-a"), headers=COORDINATOR)
            assert added.status_code == 201, added.text


async def test_apis_answer_clearly_while_the_broker_is_down_and_lose_no_write(settings) -> None:
    with own_nats() as nats:
        own = settings.with_(nats_url=nats.url)
        async with (
            running(intake_app(own)) as intake,
            running(guidance_app(own)) as guidance,
            running(reporting_app(own)) as reporting,
        ):
            await asyncio.to_thread(nats.stop)
            # Writes go to PostgreSQL and its outbox: accepted, and published later.
            created = await timed(intake, "POST", "/referrals", json=referral_request(), headers=HEADERS)
            assert created.status_code == 201, created.text
            added = await timed(guidance, "POST", "/guides", json=guide("guide-b"), headers=COORDINATOR)
            assert added.status_code == 201, added.text
            assert (await timed(guidance, "GET", "/waiting", headers=HEADERS)).status_code == 200
            assert (await timed(intake, "GET", "/queue", headers=HEADERS)).status_code == 200
            url = "/statistics/referrals-by-source"
            assert (await timed(reporting, "GET", url, headers=STEERING)).status_code == 200
            # What needs the broker now says so at once.
            export = await timed(reporting, "GET", "/audit/export", headers=AUDITOR)
            assert_unavailable(export, "broker")
            for client in (intake, guidance, reporting):
                response = await timed(client, "GET", "/healthz")
                assert response.status_code == 503
                assert response.json()["broker"].startswith("unreachable")

            await asyncio.to_thread(nats.start)
            nc = await connect_nats(own.nats_url, name="reitti-test-outage")
            try:
                js = nc.jetstream()
                subject = f"{own.namespace}.events.intake.>"
                # The referral written during the outage reaches the stream once it is back.
                await eventually(
                    lambda: js.stream_info(own.events_stream, subjects_filter=subject),
                    lambda i: i.state.messages >= 1,
                    within=30,
                )
            finally:
                await nc.close()
            for client in (intake, guidance, reporting):
                healthy = await eventually(partial(client.get, "/healthz"), lambda r: r.status_code == 200)
                assert healthy.json()["status"] == "ok"
