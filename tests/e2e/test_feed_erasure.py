"""Reitti's copy of the partner feeds forgets an erased client (docs/adr/0021): after
``ClientDataErased``, the feeds stream holds none of the client's messages but the erasure
notices, and the stream's files on disk no longer hold the copies' text. Against real NATS
and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import pytest

from contracts.envelope import CloudEventEnvelope
from contracts.intake import AssessmentCompleted, ConsentScope, Route
from runtime.broker_access import INTERNAL_ACCOUNT
from services.reporting.app import create_app as reporting_app
from services.reporting.feed_erasure import client_filter
from tests.support.apps import eventually, running
from tests.support.reporting_events import Story, give_keys, publish

pytestmark = pytest.mark.integration


async def client_messages(nats_client, settings, client_id: str) -> list[tuple[str, bytes]]:
    """(event type, raw bytes) of every message of ``client_id`` on the feeds stream."""
    js = nats_client.jetstream()
    out: list[tuple[str, bytes]] = []
    seq = 1
    while True:
        try:
            msg = await js.get_msg(
                settings.feeds_stream,
                seq=seq,
                subject=client_filter(settings.namespace, client_id),
                next=True,
            )
        except Exception:
            return out
        out.append((CloudEventEnvelope.from_bytes(msg.data).type, msg.data))
        seq = msg.seq + 1


def stream_files(servers, settings) -> bytes:
    """Every byte of the feeds stream's directory in the embedded broker's store."""
    assert servers.embedded_nats is not None
    root = servers.embedded_nats.data_dir / "jetstream" / "jetstream" / INTERNAL_ACCOUNT / "streams"
    directory = Path(root) / settings.feeds_stream
    return b"".join(p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file())


async def test_an_erased_clients_feed_copies_are_deleted_from_the_stream_and_its_files(
    settings, pool, nats_client, servers
) -> None:
    marker = f"feed-marker-{uuid.uuid4().hex[:12]}"
    story = Story("Mikkeli")
    story.referred(date(2016, 2, 1))
    story.consent(
        date(2016, 2, 2),
        scopes=(
            ConsentScope.MOVE_TO_CENTRE,
            ConsentScope.DATA_EXCHANGE_WITHIN_CENTRE,
            ConsentScope.DISCLOSURE_TO_ORGANISATIONS,
        ),
        organisations=("social_services:mikkeli",),
    )
    assessed = story.assessed(date(2016, 2, 10), Route.REHABILITATIVE_WORK_ACTIVITY)
    story.events[-1] = assessed.model_copy(update={"summary": marker})
    story.opened(date(2016, 2, 10), Route.REHABILITATIVE_WORK_ACTIVITY)
    other = Story("Mikkeli")  # another client, not erased: its copies stay
    other.referred(date(2016, 2, 1))
    other.consent(
        date(2016, 2, 2),
        scopes=(
            ConsentScope.MOVE_TO_CENTRE,
            ConsentScope.DATA_EXCHANGE_WITHIN_CENTRE,
            ConsentScope.DISCLOSURE_TO_ORGANISATIONS,
        ),
        organisations=("social_services:mikkeli",),
    )
    other.assessed(date(2016, 2, 10), Route.REHABILITATIVE_WORK_ACTIVITY)
    js = nats_client.jetstream()
    async with pool.acquire() as conn:  # as intake's first append makes them (docs/adr/0020)
        await give_keys(conn, [*story.events, *other.events])
    await publish(js, settings, [*story.events, *other.events])

    async with running(reporting_app(settings)):
        copies = await eventually(
            lambda: client_messages(nats_client, settings, story.client_id), lambda m: len(m) >= 2
        )
        assert [t for t, _ in copies] == [AssessmentCompleted.event_type, "GuidanceCaseOpened"]
        assert any(marker.encode() in data for _, data in copies)
        if servers.embedded_nats is not None:

            async def on_disk() -> bytes:
                return stream_files(servers, settings)

            await eventually(on_disk, lambda b: marker.encode() in b)  # the check can see them

        await publish(js, settings, [story.erased(date(2016, 5, 1))])
        left = await eventually(
            lambda: client_messages(nats_client, settings, story.client_id),
            lambda m: [t for t, _ in m] == ["ClientDataErased"],
        )
        assert all(marker.encode() not in data for _, data in left)
        assert len(await client_messages(nats_client, settings, other.client_id)) >= 1, "others' copies stay"
        # the row goes just after the deletes (FeedEraser.run_once), so it is waited for
        erasures = "SELECT count(*) FROM reporting_feeds.erasures"
        await eventually(lambda: pool.fetchval(erasures), lambda n: n == 0)
    if servers.embedded_nats is not None:
        assert marker.encode() not in stream_files(servers, settings), "securely deleted: gone from the files"
