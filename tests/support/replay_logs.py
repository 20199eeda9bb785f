"""Large logs for replay's tests and benchmark (ADR 0014): whole client stories, published
to JetStream as the relays publish them (sealed, as the event stores seal them, when keys
are given), and the live projection built from the same messages through the live
consumer's batch path (keys read per batch, decode, ``apply_many`` in stream order)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast

import asyncpg

from contracts.base import EventBase
from contracts.envelope import CloudEventEnvelope
from contracts.guidance import Outcome, Phase
from contracts.intake import ReferralSource
from runtime import erasure
from runtime.config import Settings
from runtime.consumer import Applied, ExactlyOnceConsumer, decode_delivery, keys_for
from runtime.embedded import EmbeddedNats, free_port
from services.reporting.projections import ReportingProjection
from tests.support.digests import as_set, sha256_of
from tests.support.reporting_events import MUNICIPALITIES, SOURCES, Story, interleaved, subject

OUTCOMES = tuple(Outcome)
REFERRAL_SOURCES = tuple(ReferralSource)


def client_stories(count: int, *, first: date = date(2010, 1, 4)) -> list[Story]:
    """``count`` clients from referral to closure over several years (so several rule
    sets), with consents, plans, health checks, transfers and returns, withdrawals:
    about nine events each. Deterministic but for the ids."""
    stories = []
    for n in range(count):
        story = Story(MUNICIPALITIES[n % len(MUNICIPALITIES)])
        day = first + timedelta(days=(n * 3) % 2400)

        def on(offset: int, day: date = day) -> date:
            return day + timedelta(days=offset)

        story.referred(day, REFERRAL_SOURCES[n % len(REFERRAL_SOURCES)], subsidy_days=300 + (n * 53) % 700)
        story.consent(day)
        story.assessed(on(14 + n % 20))
        story.opened(on(14 + n % 20))
        story.guide(on(34 + n % 10), guide=f"guide-{n % 9 + 1}")
        story.phase(on(45), Phase.SURVEY_AND_RESEARCH)
        story.plan(on(50), "work_try_out")
        if n % 5 == 0:
            story.health_summary(on(55))
            story.health_details(on(55), "details for health staff")
        if n % 7 == 0:
            story.transferred(on(60), receiving=MUNICIPALITIES[(n + 1) % len(MUNICIPALITIES)])
            story.acknowledged(on(62))
            story.returned(on(100))
        if n % 3 != 0:
            outcome = OUTCOMES[n % len(OUTCOMES)]
            story.closed(on(150), outcome, months=5 + n % 30)
            story.final_assessment(on(150), outcome)
        if n % 11 == 0:
            story.withdraw(on(160))
        stories.append(story)
    return stories


def stories_of_at_least(events: int) -> list[Story]:
    """Enough :func:`client_stories` for ``events`` events or more."""
    count = max(1, events // 9)
    while True:
        stories = client_stories(count)
        if sum(len(s.events) for s in stories) >= events:
            return stories
        count += max(1, count // 10)


def log_of(stories: Sequence[Story]) -> list[EventBase]:
    """The stories' events in the order they happened (each story's own order kept)."""
    return interleaved(stories)


def client_keys(stories: Sequence[Story]) -> dict[str, bytes]:
    return {s.client_id: erasure.new_key() for s in stories}


async def store_keys(pool: asyncpg.Pool, keys: dict[str, bytes]) -> None:
    """The clients' keys in the vault, as the event stores make them."""
    await pool.executemany(
        "INSERT INTO keys.client_keys (client_id, key) VALUES ($1, $2)", list(keys.items())
    )


def envelope_of(event: EventBase, keys: dict[str, bytes] | None = None) -> CloudEventEnvelope:
    """The event's envelope as its producer publishes it; sealed under its client's key
    when ``keys`` are given (ADR 11)."""
    source = SOURCES[event.producer]
    if keys is None or not erasure.may_hold_personal_data(event):
        return CloudEventEnvelope.wrap(event, source=source)
    return CloudEventEnvelope.wrap(
        event, source=source, data=erasure.seal(event, event.data(), keys[event.stream_id])
    )


async def publish_log(
    js: Any, settings: Settings, events: Sequence[EventBase], keys: dict[str, bytes] | None = None
) -> list[tuple[CloudEventEnvelope, int]]:
    """Publish as the relays do (``Nats-Msg-Id`` = event id, every ack awaited), in
    order; each envelope with the stream sequence JetStream gave it."""
    envelopes = [envelope_of(e, keys) for e in events]
    acks = [
        await js.publish_async(
            subject(settings, e), envelope.to_bytes(), headers={"Nats-Msg-Id": str(e.event_id)}
        )
        for e, envelope in zip(events, envelopes, strict=True)
    ]
    done = await asyncio.gather(*acks)
    return [(envelope, int(ack.seq)) for envelope, ack in zip(envelopes, done, strict=True)]


async def project_live(
    pool: asyncpg.Pool,
    settings: Settings,
    items: Sequence[tuple[CloudEventEnvelope, int]],
    *,
    schema: str = "reporting",
    batch_size: int = 500,
) -> None:
    """Project ``items`` into ``schema`` as the live consumer does with a batch of
    deliveries: the batch's keys read, the events decoded, applied in stream order
    (every one must be applied) and the position recorded, one transaction a batch."""
    projection = ReportingProjection(schema)
    consumer = ExactlyOnceConsumer(pool=pool, js=cast(Any, None), settings=settings, projection=projection)
    async with pool.acquire() as conn:
        for start in range(0, len(items), batch_size):
            batch = items[start : start + batch_size]
            async with conn.transaction():
                keys = await keys_for(conn, [e for e, _ in batch])
                decoded = [(e, decode_delivery(e, keys), seq) for e, seq in batch]
                results = await consumer.apply_many(conn, decoded)
                await consumer.record_position(conn, batch[-1][1])
            assert set(results) == {Applied.APPLIED}, f"the live path applies every event once: {results}"


async def table_digests(pool: asyncpg.Pool, schema: str = "reporting") -> dict[str, dict[str, Any]]:
    """A row count and SHA-256 per table of the reporting projection in ``schema``
    (tests/support/digests.py), so a difference names its table."""
    async with pool.acquire() as conn:
        snapshot = await ReportingProjection(schema).snapshot(conn)
    return {t: {"rows": len(rows), "sha256": sha256_of(as_set(rows))} for t, rows in sorted(snapshot.items())}


def differing(live: dict[str, dict[str, Any]], replayed: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The tables whose digests differ, with both digests."""
    return {
        t: (live.get(t), replayed.get(t))
        for t in sorted({*live, *replayed})
        if live.get(t) != replayed.get(t)
    }


async def schema_exists(pool: asyncpg.Pool, schema: str) -> bool:
    return bool(await pool.fetchval("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema))


@contextlib.contextmanager
def own_nats() -> Iterator[EmbeddedNats]:
    """A NATS server of the test's own (to pause, stop or kill), removed afterwards."""
    base = Path(tempfile.mkdtemp(prefix="reitti-replay-nats-"))
    nats = EmbeddedNats(base, free_port())
    try:
        nats.start()
        yield nats
    finally:
        nats.stop()
        shutil.rmtree(base, ignore_errors=True)
