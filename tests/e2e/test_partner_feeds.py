"""Partner feeds carry exactly what consent allows: the TE-office gets final
assessments; a municipality's social services get their residents' events only while a
consent in force names them, and never health details. Against real NATS and Postgres."""

from __future__ import annotations

from datetime import date

import pytest
from nats.js.api import ConsumerConfig, DeliverPolicy

from contracts.envelope import CloudEventEnvelope
from contracts.guidance import Outcome
from contracts.intake import ConsentScope, Route
from services.reporting.app import create_app as reporting_app
from tests.support.apps import eventually, running
from tests.support.reporting_events import Story, publish

pytestmark = pytest.mark.integration

INTO_CENTRE = (ConsentScope.MOVE_TO_CENTRE, ConsentScope.DATA_EXCHANGE_WITHIN_CENTRE)


async def feed(nats_client, settings, organisation: str) -> list[tuple[str, str]]:
    """(event type, client) on an organisation's feed, read as Reitti (the partner's own
    account and its isolation are tested in tests/integration/test_broker_access.py)."""
    js = nats_client.jetstream()
    info = await js.stream_info(settings.feeds_stream)
    if info.state.messages == 0:
        return []
    sub = await js.subscribe(
        f"{settings.namespace}.feeds.{organisation}.>",
        stream=settings.feeds_stream,
        ordered_consumer=True,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
    )
    out = []
    try:
        while True:
            try:
                msg = await sub.next_msg(timeout=0.5)
            except Exception:
                break
            envelope = CloudEventEnvelope.from_bytes(msg.data)
            out.append((envelope.type, envelope.subject))
    finally:
        await sub.unsubscribe()
    return out


async def test_a_municipality_receives_its_residents_events_only_under_consent(
    settings, pool, nats_client
) -> None:
    consenting = Story("Mikkeli")
    consenting.referred(date(2016, 2, 1))
    consenting.consent(
        date(2016, 2, 2),
        scopes=(*INTO_CENTRE, ConsentScope.DISCLOSURE_TO_ORGANISATIONS),
        organisations=("social_services:mikkeli",),
    )
    consenting.assessed(date(2016, 2, 10), Route.REHABILITATIVE_WORK_ACTIVITY)
    consenting.opened(date(2016, 2, 10), Route.REHABILITATIVE_WORK_ACTIVITY)
    consenting.health_details(date(2016, 3, 1), "never on a feed")
    silent = Story("Mikkeli")
    silent.referred(date(2016, 2, 1))
    silent.consent(date(2016, 2, 2), scopes=INTO_CENTRE)
    silent.assessed(date(2016, 2, 10))
    silent.opened(date(2016, 2, 10))
    closed = Story("Puumala")
    closed.referred(date(2016, 2, 1))
    closed.consent(date(2016, 2, 2), scopes=INTO_CENTRE)
    closed.assessed(date(2016, 2, 10))
    closed.opened(date(2016, 2, 10))
    closed.closed(date(2016, 9, 1), Outcome.EDUCATION)
    closed.final_assessment(date(2016, 9, 1), Outcome.EDUCATION)
    await publish(nats_client.jetstream(), settings, [*consenting.events, *silent.events, *closed.events])

    async with running(reporting_app(settings)):
        mikkeli = await eventually(lambda: feed(nats_client, settings, "mikkeli"), lambda f: len(f) >= 2)
        te = await eventually(lambda: feed(nats_client, settings, "te-office"), lambda f: len(f) >= 1)
        assert {client for _, client in mikkeli} == {consenting.client_id}, "only the consenting resident"
        # The referral came before the consent, so it is not disclosed; events from then on are.
        assert [t for t, _ in mikkeli] == ["AssessmentCompleted", "GuidanceCaseOpened"]
        assert te == [("FinalAssessmentIssued", closed.client_id)]
        assert await feed(nats_client, settings, "puumala") == []

        withdrawal = consenting.withdraw(date(2016, 4, 1))
        later = consenting.transferred(date(2016, 4, 2))
        await publish(nats_client.jetstream(), settings, [withdrawal, later])

        async def applied() -> int:
            async with pool.acquire() as conn:
                return int(
                    await conn.fetchval(
                        "SELECT count(*) FROM reporting.consumed_events WHERE event_id = $1", later.event_id
                    )
                )

        await eventually(applied, lambda n: n == 1)
        assert len(await feed(nats_client, settings, "mikkeli")) == 2, "withdrawal stops the feed"
