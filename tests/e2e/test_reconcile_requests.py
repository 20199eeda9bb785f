"""A write service answers requests to reconcile one client stream (docs/adr/0015): a
bad request gets a clear error and changes nothing; a good one re-publishes only what
the stream lacks; a partner organisation cannot send one at all."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import nats
import pytest

from runtime.reconcile import request_subject
from services.intake.app import create_app as intake_app
from tests.e2e.test_self_healing import lose, refer
from tests.integration.test_reconcile import copies_by_event
from tests.support.apps import eventually, running

pytestmark = pytest.mark.integration


async def ask(nc, settings, body: bytes) -> dict[str, Any]:
    reply = await nc.request(request_subject(settings.namespace, "intake"), body, timeout=30)
    return dict(json.loads(reply.data))


async def test_intake_answers_a_request_for_one_stream_and_refuses_bad_ones(
    settings, nats_client, pool
) -> None:
    js = nats_client.jetstream()
    async with running(intake_app(settings.with_(reconcile_seconds=0))) as intake:
        client_id, event_id = await refer(intake)
        await eventually(lambda: copies_by_event(js, settings), lambda c: c[event_id] == 1)
        for bad in (
            b"not json",
            b"[]",
            b"{}",
            json.dumps({"stream_id": client_id, "after_version": -1}).encode(),
            json.dumps({"stream_id": client_id, "before_version": "soon"}).encode(),
        ):
            assert (await ask(nats_client, settings, bad))["error"].startswith("bad request")
        whole = json.dumps({"stream_id": client_id}).encode()
        assert await ask(nats_client, settings, whole) == {
            "stream_id": client_id,
            "missing": [],
            "queued": 0,
            "busy": False,
        }
        last = (await js.stream_info(settings.events_stream)).state.last_seq

        await lose(js, settings, pool, event_id)
        answer = await ask(
            nats_client, settings, json.dumps({"stream_id": client_id, "before_version": 2}).encode()
        )
        assert answer == {"stream_id": client_id, "missing": [1], "queued": 1, "busy": False}
        copies = await eventually(lambda: copies_by_event(js, settings), lambda c: c[event_id] == 1)
        assert set(copies.values()) == {1}
        assert (await js.stream_info(settings.events_stream)).state.last_seq == last + 1


async def test_a_partner_organisation_cannot_ask_for_a_reconcile(servers, settings) -> None:
    if servers.embedded_nats is None:
        pytest.skip("the partner accounts are the embedded broker's (docs/adr/0009)")
    access = servers.embedded_nats.feed_access("mikkeli")
    errors: list[Exception] = []

    async def on_error(exc: Exception) -> None:
        errors.append(exc)

    async with running(intake_app(settings.with_(reconcile_seconds=0))):
        partner = await nats.connect(access.url, error_cb=on_error, allow_reconnect=False)
        try:
            subject = request_subject(settings.namespace, "intake")
            with pytest.raises((nats.errors.NoRespondersError, nats.errors.TimeoutError)):
                await partner.request(subject, json.dumps({"stream_id": "client-x"}).encode(), timeout=2)
            expected = f'permissions violation for publish to "{subject}"'
            for _ in range(100):
                if any(expected in str(e).lower() for e in errors):
                    break
                await asyncio.sleep(0.02)
            assert any(expected in str(e).lower() for e in errors), errors
        finally:
            await partner.close()
