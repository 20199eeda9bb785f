"""Wiring of the exactly-once consumer with fakes (no servers): which failures pause,
which retry, which dead-letter. The guarantees themselves are tested against real
servers in tests/integration/test_consumer.py."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import asyncpg

from contracts.envelope import CloudEventEnvelope
from runtime.config import Settings
from runtime.consumer import ExactlyOnceConsumer
from runtime.tracking import InMemoryTrackingStore
from tests.support.factories import client_referred


class FakeDelivery:
    def __init__(self, data: bytes, delivered: int = 1) -> None:
        self.subject = "t.events.intake.centre.mikkeli.ClientReferred"
        self.data = data
        self.headers: dict[str, str] = {}
        self.metadata = SimpleNamespace(sequence=SimpleNamespace(stream=7), num_delivered=delivered)
        self.calls: list[str] = []

    async def ack(self) -> None:
        self.calls.append("ack")

    async def nak(self, delay: float | None = None) -> None:
        self.calls.append("nak")

    async def in_progress(self) -> None:
        self.calls.append("in_progress")


class FakeConnection:
    def __init__(self) -> None:
        self.applied: list[Any] = []

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        yield

    async def fetch(self, query: str, *args: Any) -> list[dict[str, Any]]:
        if "consumed_events" in query:  # the claim: every event id is new
            return [{"event_id": event_id} for event_id in args[1]]
        return []  # no version of any stream applied yet

    async def fetchval(self, query: str, *args: Any) -> int | None:
        return None

    async def execute(self, *args: Any) -> None:
        return None


class FlakyPool:
    """Refuses ``failures`` connections, then hands out a working one."""

    def __init__(self, failures: int, error: BaseException) -> None:
        self.failures = failures
        self.error = error
        self.conn = FakeConnection()

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[FakeConnection]:
        if self.failures:
            self.failures -= 1
            raise self.error
        yield self.conn


class RecordingProjection:
    name = "recording"
    schema = "recording"

    def __init__(self, error: Exception | None = None) -> None:
        self.events: list[Any] = []
        self.error = error

    async def create(self, conn: Any) -> None: ...

    async def apply(self, conn: Any, event: Any, envelope: Any) -> None:
        if self.error:
            raise self.error
        self.events.append(event)


class FakeJetStream:
    def __init__(self) -> None:
        self.published: list[tuple[str, bytes, dict[str, str]]] = []

    async def publish(self, subject: str, data: bytes, stream: str, headers: dict[str, str]) -> None:
        self.published.append((subject, data, headers))


SETTINGS = Settings(nats_url="nats://x", database_url="postgresql://x", namespace="t", max_deliver=3)


def consumer(pool: Any, projection: RecordingProjection, js: FakeJetStream) -> ExactlyOnceConsumer:
    c = ExactlyOnceConsumer(pool=pool, js=js, settings=SETTINGS, projection=projection)
    c.outage_backoff = (0.0, 0.0)
    return c


def envelope_bytes() -> bytes:
    return CloudEventEnvelope.wrap(client_referred(), source="/t").to_bytes()


async def test_a_database_outage_pauses_the_consumer_instead_of_dead_lettering() -> None:
    pool = FlakyPool(failures=4, error=ConnectionRefusedError("db down"))
    projection, js = RecordingProjection(), FakeJetStream()
    msg = FakeDelivery(envelope_bytes(), delivered=3)  # already the last allowed delivery
    await consumer(pool, projection, js).handle(msg)
    assert msg.calls == ["in_progress"] * 4 + ["ack"]
    assert len(projection.events) == 1
    assert js.published == []


async def test_a_failing_effect_is_naked_until_its_last_delivery_then_dead_lettered() -> None:
    projection, js = RecordingProjection(error=ValueError("bad row")), FakeJetStream()
    first = FakeDelivery(envelope_bytes(), delivered=1)
    await consumer(FlakyPool(0, OSError()), projection, js).handle(first)
    assert first.calls == ["nak"] and js.published == []

    last = FakeDelivery(envelope_bytes(), delivered=3)
    await consumer(FlakyPool(0, OSError()), projection, js).handle(last)
    assert last.calls == ["ack"]
    [(subject, _, headers)] = js.published
    assert subject == "t.dlq.recording"
    assert headers["Reitti-Dead-Letter-Reason"] == "failed 3 times: ValueError: bad row"
    assert headers["Nats-Msg-Id"] == "recording:7"


async def test_an_invalid_message_is_dead_lettered_on_its_first_delivery() -> None:
    projection, js = RecordingProjection(), FakeJetStream()
    msg = FakeDelivery(b"not json", delivered=1)
    await consumer(FlakyPool(0, OSError()), projection, js).handle(msg)
    assert msg.calls == ["ack"]
    assert js.published[0][2]["Reitti-Dead-Letter-Reason"].startswith("invalid event:")
    assert projection.events == []


async def test_serialization_failures_are_retried_in_place() -> None:
    pool = FlakyPool(failures=2, error=asyncpg.SerializationError("could not serialize"))
    projection, js = RecordingProjection(), FakeJetStream()
    msg = FakeDelivery(envelope_bytes())
    await consumer(pool, projection, js).handle(msg)
    assert msg.calls == ["ack"], "contention is retried in place, without NAKing"
    assert len(projection.events) == 1


async def test_a_client_side_error_is_a_failure_of_the_event_not_an_outage() -> None:
    projection = RecordingProjection(error=asyncpg.DataError("invalid input for query argument $1"))
    js = FakeJetStream()
    msg = FakeDelivery(envelope_bytes(), delivered=3)
    await consumer(FlakyPool(0, OSError()), projection, js).handle(msg)
    assert msg.calls == ["ack"]
    assert js.published[0][2]["Reitti-Dead-Letter-Reason"].startswith("failed 3 times: DataError")


class BrokerAwayDelivery(FakeDelivery):
    """The broker is away too: the progress signal fails."""

    async def in_progress(self) -> None:
        self.calls.append("in_progress failed")
        raise ConnectionError("broker away")


async def test_a_progress_signal_that_fails_during_a_database_outage_does_not_end_the_retry() -> None:
    pool = FlakyPool(failures=3, error=ConnectionRefusedError("db down"))
    projection, js = RecordingProjection(), FakeJetStream()
    msg = BrokerAwayDelivery(envelope_bytes(), delivered=3)
    await consumer(pool, projection, js).handle(msg)
    assert msg.calls == ["in_progress failed"] * 3 + ["ack"]
    assert len(projection.events) == 1 and js.published == []


async def test_with_the_in_memory_tracking_store_a_redelivery_is_a_duplicate_and_an_early_event_waits() -> (
    None
):
    """The consumer's order and exactly-once rules against the fake tracking store (which
    passes the PostgreSQL store's contract: tests/integration/test_tracking_store.py)."""
    projection, js = RecordingProjection(), FakeJetStream()
    tracking = InMemoryTrackingStore()
    c = ExactlyOnceConsumer(
        pool=FlakyPool(0, OSError()),
        js=js,
        settings=SETTINGS,
        projection=projection,
        tracking=tracking,
    )
    first = CloudEventEnvelope.wrap(client_referred("c-1", 1), source="/t").to_bytes()
    early = CloudEventEnvelope.wrap(client_referred("c-1", 3), source="/t").to_bytes()
    once, again, too_soon = FakeDelivery(first), FakeDelivery(first, delivered=2), FakeDelivery(early)
    await c.handle(once)
    await c.handle(again)
    await c.handle(too_soon)
    assert [once.calls, again.calls, too_soon.calls] == [["ack"], ["ack"], ["nak"]]
    assert len(projection.events) == 1
    assert (c.stats.applied, c.stats.duplicates, c.stats.early) == (1, 1, 1)
    assert await tracking.positions(None, "recording", [("/t", "c-1")]) == {("/t", "c-1"): 1}
    assert await tracking.position(None, "recording") == 7
