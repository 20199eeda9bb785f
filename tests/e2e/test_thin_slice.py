"""A referral through the real services: intake API -> event store -> relay -> JetStream
-> reporting's exactly-once consumer -> reporting API; then replay from zero."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from runtime.replay import rebuild, rebuild_and_switch
from runtime.streams import connect_nats
from services.intake.app import create_app as intake_app
from services.reporting.app import create_app as reporting_app
from services.reporting.projections import MIGRATIONS, ReferralStatistics
from tests.support.apps import eventually, running
from tests.support.auth import reader_for
from tests.support.factories import HEADERS, referral_request
from tests.support.problems import first_error

pytestmark = pytest.mark.integration

MIX = ["te_office"] * 5 + ["self_referral"] * 3 + ["other"] * 2 + ["social_services"]


async def referrals_by_source(reporting, **params) -> dict[str, Any]:
    url = "/statistics/referrals-by-source"
    response = await reporting.get(url, params=params, headers=reader_for(url))
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_referral_posted_to_intake_is_counted_by_reporting(settings) -> None:
    async with running(intake_app(settings)) as intake, running(reporting_app(settings)) as reporting:
        for source in MIX:
            response = await intake.post("/referrals", json=referral_request(source), headers=HEADERS)
            assert response.status_code == 201, response.text
        stats = await eventually(lambda: referrals_by_source(reporting), lambda s: s["total"] == len(MIX))
        assert stats["by_source"] == {
            "te_office": 5,
            "social_services": 1,
            "self_referral": 3,
            "other": 2,
        }
        assert (await referrals_by_source(reporting, year=2011))["total"] == 0
        assert (await referrals_by_source(reporting, municipality="Puumala"))["total"] == 0
        for app_client in (intake, reporting):
            health = await app_client.get("/healthz")
            assert health.status_code == 200
            assert health.json()["database"] == "ok" and health.json()["broker"] == "ok"


async def test_bad_referrals_get_clear_errors_and_write_nothing(settings, pool) -> None:
    async with running(intake_app(settings)) as intake:
        bad_code = referral_request()
        bad_code["client"]["personal_identity_code"] = "123"
        response = await intake.post("/referrals", json=bad_code, headers=HEADERS)
        assert response.status_code == 422
        assert first_error(response)["field"] == "client.personal_identity_code"

        response = await intake.post(
            "/referrals", json=referral_request(municipality="Helsinki"), headers=HEADERS
        )
        # not one of the centre's municipalities: invalid input naming the field (ADR 0027)
        assert response.status_code == 422
        assert first_error(response)["field"] == "municipality"
        assert "Mikkeli" in first_error(response)["reason"]

        no_description = referral_request("other")
        del no_description["source_description"]
        response = await intake.post("/referrals", json=no_description, headers=HEADERS)
        assert response.status_code == 422
        assert "source_description" in first_error(response)["reason"]
        code = no_description["client"]["personal_identity_code"]
        assert code not in response.text, "personal data is not echoed back"

        response = await intake.post("/referrals", json=referral_request())
        assert response.status_code == 401, "the caller must prove who they are"
        assert response.headers["www-authenticate"] == "Bearer"
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM intake.events") == 0
        assert await conn.fetchval("SELECT count(*) FROM intake.outbox") == 0


async def test_a_projection_rebuilt_by_replay_equals_the_live_one(settings, pool) -> None:
    async with running(intake_app(settings)) as intake, running(reporting_app(settings)) as reporting:
        for n in range(40):
            source = MIX[n % len(MIX)]
            municipality = ["Mikkeli", "Puumala", "Ristiina"][n % 3]
            response = await intake.post(
                "/referrals", json=referral_request(source, municipality), headers=HEADERS
            )
            assert response.status_code == 201
        await eventually(lambda: referrals_by_source(reporting), lambda s: s["total"] == 40)

        nc = await connect_nats(settings.nats_url, name="test-replay")
        try:
            report = await rebuild(
                pool,
                nc.jetstream(),
                settings,
                target_schema="reporting_replayed",
                migrations=MIGRATIONS,
                projection=ReferralStatistics,
            )
        finally:
            await nc.close()
        # 40 referrals, and each one's identity-code lookup in the access log
        assert report.events == 80 and report.applied == 80 and report.invalid == 0
        async with pool.acquire() as conn:
            live = await ReferralStatistics("reporting").snapshot(conn)
            rebuilt = await ReferralStatistics("reporting_replayed").snapshot(conn)
        assert live == rebuilt
        assert sum(int(cast(int, row[3])) for row in live) == 40


async def test_replay_switches_over_to_the_rebuilt_projection_without_losing_live_events(
    settings, pool
) -> None:
    async with running(intake_app(settings)) as intake, running(reporting_app(settings)) as reporting:
        for _ in range(30):
            await intake.post("/referrals", json=referral_request(), headers=HEADERS)
        await eventually(lambda: referrals_by_source(reporting), lambda s: s["total"] == 30)

        async def keep_referring() -> None:
            for _ in range(30):
                response = await intake.post("/referrals", json=referral_request(), headers=HEADERS)
                assert response.status_code == 201
                await asyncio.sleep(0.01)

        writer = asyncio.create_task(keep_referring())
        nc = await connect_nats(settings.nats_url, name="test-replay")
        try:
            await rebuild_and_switch(
                pool,
                nc.jetstream(),
                settings,
                live_schema="reporting",
                migrations=MIGRATIONS,
                projection=ReferralStatistics,
            )
        finally:
            await nc.close()
        await writer
        stats = await eventually(lambda: referrals_by_source(reporting), lambda s: s["total"] >= 60)
        await asyncio.sleep(0.5)
        assert (await referrals_by_source(reporting))["total"] == 60 == stats["total"]
    async with pool.acquire() as conn:
        schemas = {r[0] for r in await conn.fetch("SELECT nspname FROM pg_namespace")}
    assert "reporting" in schemas
    assert not {"reporting_rebuild", "reporting_retired"} & schemas
