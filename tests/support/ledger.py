"""After a fault under load: is every acknowledged write there, once, in each place it
should be? The event stores (the truth), JetStream (the log) and reporting (a consumer)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass

import asyncpg
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy

from contracts.envelope import CloudEventEnvelope
from contracts.subjects import events_wildcard
from runtime.config import Settings
from tests.support.load import ReferralLoad


@dataclass(frozen=True)
class Ledger:
    """What each place holds: event ids of the write services' stores, of the stream, and
    of reporting's consumed events; and reporting's count of referred clients."""

    store: dict[str, str]  # event id -> stream id (intake and guidance stores)
    intake: dict[str, str]  # the same, intake's store only
    intake_referrals: int
    stream: Counter[str]
    reporting: set[str]
    #: intake's events that guidance's consumer has applied (its reactions, such as a
    #: case opened, are in guidance's store from the same transaction)
    guidance_consumed: frozenset[str] = frozenset()

    @property
    def settled(self) -> bool:
        """Nothing more is on its way: every stored event is on the stream and applied by
        reporting, and guidance has reacted to every intake event (so no reaction, such
        as a case opened by a late assessment, is still to be appended)."""
        return (
            set(self.store) <= set(self.stream)
            and set(self.store) <= self.reporting
            and set(self.intake) <= self.guidance_consumed
        )


async def stream_event_ids(js: JetStreamContext, settings: Settings) -> Counter[str]:
    """Every message's event id (its CloudEvent ``id``) on the events stream, counted."""
    total = (await js.stream_info(settings.events_stream)).state.messages
    sub = await js.subscribe(
        events_wildcard(settings.namespace),
        stream=settings.events_stream,
        ordered_consumer=True,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
    )
    seen: Counter[str] = Counter()
    try:
        for _ in range(total):
            msg = await sub.next_msg(timeout=10)
            seen[str(CloudEventEnvelope.from_bytes(msg.data).id)] += 1
    finally:
        await sub.unsubscribe()
    return seen


async def read_ledger(pool: asyncpg.Pool, js: JetStreamContext, settings: Settings) -> Ledger:
    async with pool.acquire() as conn:
        intake = await conn.fetch("SELECT event_id::text, stream_id FROM intake.events")
        guidance = await conn.fetch("SELECT event_id::text, stream_id FROM guidance.events")
        referrals = await conn.fetchval(
            "SELECT count(*) FROM intake.events WHERE event_type = 'ClientReferred'"
        )
        consumed = await conn.fetch("SELECT event_id::text FROM reporting.consumed_events")
        reacted = await conn.fetch(
            "SELECT event_id::text FROM guidance.consumed_events WHERE consumer = 'guidance-intake'"
        )
    return Ledger(
        store={r["event_id"]: r["stream_id"] for r in [*intake, *guidance]},
        intake={r["event_id"]: r["stream_id"] for r in intake},
        intake_referrals=int(referrals),
        stream=await stream_event_ids(js, settings),
        reporting={r["event_id"] for r in consumed},
        guidance_consumed=frozenset(r["event_id"] for r in reacted),
    )


async def settled_ledger(
    pool: asyncpg.Pool, js: JetStreamContext, settings: Settings, *, within: float = 120
) -> Ledger:
    """The ledger once it is :attr:`Ledger.settled` (the relays and consumers catch up
    after a fault); the last one read if they never do."""
    deadline = time.monotonic() + within
    while True:
        ledger = await read_ledger(pool, js, settings)
        if ledger.settled or time.monotonic() > deadline:
            return ledger
        await asyncio.sleep(0.5)


def assert_nothing_lost_or_doubled(load: ReferralLoad, ledger: Ledger, referred_in_reporting: int) -> None:
    """Every acknowledged event is in the store, once on the stream, applied by reporting;
    a client whose every answer was known has exactly its acknowledged events, no more."""
    acknowledged = load.acknowledged_event_ids
    assert acknowledged, "the load wrote nothing"
    lost = acknowledged - set(ledger.store)
    assert not lost, f"{len(lost)} acknowledged events are not in the event store: {sorted(lost)[:5]}"
    missing = [e for e in ledger.store if ledger.stream[e] == 0]
    assert not missing, f"{len(missing)} stored events never reached JetStream: {missing[:5]}"
    doubled = {e: n for e, n in ledger.stream.items() if n > 1}
    assert not doubled, f"events on the stream more than once: {doubled}"
    unapplied = set(ledger.store) - ledger.reporting
    assert not unapplied, f"{len(unapplied)} events never applied by reporting: {sorted(unapplied)[:5]}"
    unreacted = set(ledger.intake) - ledger.guidance_consumed
    assert not unreacted, f"guidance never reacted to {len(unreacted)} intake events: {sorted(unreacted)[:5]}"
    for run in load.certain_runs():
        intake_events = {e for e, stream in ledger.intake.items() if stream == run.client_id}
        assert intake_events == set(run.acknowledged), (
            f"{run.client_id}: the store holds {sorted(intake_events)}, "
            f"acknowledged {sorted(run.acknowledged)}"
        )
    assert referred_in_reporting == ledger.intake_referrals, (
        f"reporting counts {referred_in_reporting} referred clients, intake stored {ledger.intake_referrals}"
    )
