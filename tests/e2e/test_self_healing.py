"""Self-healing without an operator (docs/adr/0015): an event that JetStream lost is
published again from intake's event store, by intake's periodic check or at a
consumer's request; guidance and reporting, which got the client's later events first,
wait for it and then apply everything in order: nothing is dead-lettered."""

from __future__ import annotations

from datetime import timedelta

import pytest

from runtime import clock
from runtime.deadletters import read_dead_letters
from services.guidance.app import create_app as guidance_app
from services.intake.app import create_app as intake_app
from services.reporting.app import create_app as reporting_app
from tests.integration.test_reconcile import copies_by_event
from tests.support.apps import eventually, running
from tests.support.auth import reader_for
from tests.support.factories import AREAS, HEADERS, identity_code, referral_request

pytestmark = pytest.mark.integration

TODAY = clock.today()


async def refer(intake) -> tuple[str, str]:
    """A client referred to intake: their id and the ClientReferred event's id."""
    referral = referral_request(code=identity_code())
    referral["referral_date"] = str(TODAY - timedelta(days=20))
    response = await intake.post("/referrals", json=referral, headers=HEADERS)
    assert response.status_code == 201, response.text
    body = response.json()
    [event_id] = body["event_ids"]
    return body["client_id"], event_id


async def consent_and_assess(intake, client_id: str) -> list[str]:
    """The client's later events: a consent (version 2) and the assessment (version 3);
    their event ids."""
    scopes = {
        "scopes": ["move_to_centre", "data_exchange_within_centre", "disclosure_to_organisations"],
        "organisations": ["social_services:mikkeli"],
        "given_on": str(TODAY),
    }
    response = await intake.post(f"/clients/{client_id}/consents", json=scopes, headers=HEADERS)
    assert response.status_code == 201, response.text
    ids = [str(i) for i in response.json()["event_ids"]]
    assessment = {
        "assessed_on": str(TODAY),
        "capacity_allows_rehabilitative_work": True,
        "profile": "centre",
        "ministry_segment": 3,
        "route": "individual_service_guidance",
        "assessors": [{"person_id": "advisor-1", "role": "employment_advisor", "organisation": "te-office"}],
        "findings": [{"area": a, "support_need": "some"} for a in AREAS],
    }
    response = await intake.post(f"/clients/{client_id}/assessment", json=assessment, headers=HEADERS)
    assert response.status_code == 201, response.text
    return ids + [str(i) for i in response.json()["event_ids"]]


async def lose(js, settings, pool, event_id: str) -> None:
    """Delete the event's message from the events stream, once the relay has published it
    and taken it out of the outbox (until then it counts as not yet published)."""
    await eventually(lambda: copies_by_event(js, settings), lambda copies: copies[event_id] == 1)
    await eventually(lambda: pool.fetchval("SELECT count(*) FROM intake.outbox"), lambda n: n == 0)
    subject = f"{settings.namespace}.events.intake.centre.mikkeli.ClientReferred"
    message = await js.get_msg(settings.events_stream, subject=subject)
    assert message.headers["Nats-Msg-Id"] == event_id
    await js.delete_msg(settings.events_stream, message.seq)
    assert (await copies_by_event(js, settings))[event_id] == 0


async def test_intakes_periodic_check_publishes_a_lost_event_again(settings, nats_client, pool) -> None:
    js = nats_client.jetstream()
    async with running(intake_app(settings.with_(reconcile_seconds=0.5))) as intake:
        _, event_id = await refer(intake)
        await lose(js, settings, pool, event_id)
        copies = await eventually(lambda: copies_by_event(js, settings), lambda c: c[event_id] == 1)
    assert set(copies.values()) == {1}


@pytest.mark.parametrize("repaired_by", ["the periodic check", "the consumers' requests"])
async def test_projections_converge_after_a_lost_event_and_nothing_is_dead_lettered(
    settings, nats_client, pool, repaired_by: str
) -> None:
    """The client's referral is lost; its consent and assessment are published after it.
    Guidance and reporting start while intake is down, get the later events first, and
    wait. Intake comes back and either its periodic check (every second here; the
    consumers' requests off) or, with the check off, the consumers' requests get the
    referral published again."""
    js = nats_client.jetstream()
    periodic = repaired_by == "the periodic check"
    async with running(intake_app(settings.with_(reconcile_seconds=0))) as intake:
        client_id, event_id = await refer(intake)
        await lose(js, settings, pool, event_id)
        later = await consent_and_assess(intake, client_id)
        await eventually(lambda: copies_by_event(js, settings), lambda c: all(c[i] == 1 for i in later))
    guidance_service, reporting_service = guidance_app(settings), reporting_app(settings)
    async with running(guidance_service) as guidance, running(reporting_service) as reporting:
        consumers = [*guidance_service.state.parts.consumers, *reporting_service.state.parts.consumers]
        if periodic:
            for consumer in consumers:
                consumer.on_early = None

        async def early() -> list[int]:
            return [consumer.stats.early for consumer in consumers]

        await eventually(early, lambda counts: all(n >= 1 for n in counts), within=30)
        assert (await copies_by_event(js, settings))[event_id] == 0

        async with running(intake_app(settings.with_(reconcile_seconds=1.0 if periodic else 0))):

            async def waiting() -> set[str]:
                response = await guidance.get("/waiting", headers=HEADERS)
                return {entry["client_id"] for entry in response.json()}

            await eventually(waiting, lambda ids: client_id in ids, within=60)
            url = "/statistics/referrals-by-source"

            async def referrals() -> int:
                return int((await reporting.get(url, headers=reader_for(url))).json()["total"])

            await eventually(referrals, lambda total: total == 1, within=60)
        assert [consumer.stats.dead_lettered for consumer in consumers] == [0, 0]
        requested = sum(consumer.stats.repairs_requested for consumer in consumers)
        assert requested == 0 if periodic else requested >= 1
    assert await read_dead_letters(js, settings) == []
    assert (await copies_by_event(js, settings))[event_id] == 1
