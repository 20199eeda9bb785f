"""The centre's names through the APIs (ADR 0027): a municipality, a guide's area, a
consent's organisation or a transfer's destination that is none of the configured
municipalities is refused 422 naming the field and writes nothing; a name spelled
otherwise (``mikkeli``, ``social_services:Mikkeli``) is stored as the configuration
spells it."""

from __future__ import annotations

from typing import Any

import pytest

from services.guidance.app import create_app as guidance_app
from services.intake.app import create_app as intake_app
from tests.e2e.test_guidance_flow import COORDINATOR, TODAY
from tests.support.apps import running
from tests.support.factories import HEADERS, referral_request

pytestmark = pytest.mark.integration

KNOWN = ("Mikkeli", "Hirvensalmi", "Kangasniemi", "Mäntyharju", "Pertunmaa", "Puumala", "Ristiina")


async def count(pool, sql: str) -> int:
    async with pool.acquire() as conn:
        return int(await conn.fetchval(sql))


async def test_an_unknown_municipality_in_a_referral_is_422_and_another_spelling_is_stored_as_configured(
    settings, pool
) -> None:
    async with running(intake_app(settings)) as intake:
        refused = await intake.post(
            "/referrals", json=referral_request(municipality="Atlantis"), headers=HEADERS
        )
        assert refused.status_code == 422, refused.text
        assert "municipality" in refused.text and all(m in refused.text for m in KNOWN)
        assert await count(pool, "SELECT count(*) FROM intake.events") == 0

        accepted = await intake.post(
            "/referrals", json=referral_request(municipality=" mikkeli "), headers=HEADERS
        )
        assert accepted.status_code == 201, accepted.text
        case = (await intake.get(f"/clients/{accepted.json()['client_id']}", headers=HEADERS)).json()
        assert case["municipality"] == "Mikkeli"

        filtered = await intake.get("/queue", params={"municipality": "MIKKELI"}, headers=HEADERS)
        assert [q["client_id"] for q in filtered.json()] == [accepted.json()["client_id"]]
        unknown = await intake.get("/queue", params={"municipality": "Atlantis"}, headers=HEADERS)
        assert unknown.status_code == 422 and "municipality" in unknown.text


async def test_a_consent_names_the_centres_social_services_in_one_spelling(settings, pool) -> None:
    async with running(intake_app(settings)) as intake:
        referred = await intake.post("/referrals", json=referral_request(), headers=HEADERS)
        client_id = referred.json()["client_id"]
        written = await count(pool, "SELECT count(*) FROM intake.events")

        def consent(*organisations: str) -> dict[str, Any]:
            return {
                "scopes": ["move_to_centre", "disclosure_to_organisations"],
                "organisations": list(organisations),
                "given_on": str(TODAY),
            }

        for bad in ("social_services:atlantis", "social_services:", "kela office"):
            refused = await intake.post(
                f"/clients/{client_id}/consents", json=consent("kela", bad), headers=HEADERS
            )
            assert refused.status_code == 422, (bad, refused.text)
            assert "organisations" in refused.text
        atlantis = await intake.post(
            f"/clients/{client_id}/consents", json=consent("social_services:atlantis"), headers=HEADERS
        )
        assert "social_services:mikkeli" in atlantis.text and "social_services:mantyharju" in atlantis.text
        assert await count(pool, "SELECT count(*) FROM intake.events") == written, "nothing was written"

        given = await intake.post(
            f"/clients/{client_id}/consents",
            json=consent(
                "social_services:Mikkeli", "Social_Services:MÄNTYHARJU", "Kela", "social_services:mikkeli"
            ),
            headers=HEADERS,
        )
        assert given.status_code == 201, given.text
        case = (await intake.get(f"/clients/{client_id}", headers=HEADERS)).json()
        [recorded] = case["consents"]
        assert recorded["organisations"] == ["kela", "social_services:mantyharju", "social_services:mikkeli"]


async def test_a_guides_areas_are_the_centres_municipalities_as_configured(settings, pool) -> None:
    async with running(guidance_app(settings)) as guidance:
        guide = {"person_id": "guide-1", "name": "Sari Ohjaaja", "role": "service_guide"}
        refused = await guidance.post(
            "/guides", json={**guide, "areas": ["Mikkeli", "Atlantis"]}, headers=COORDINATOR
        )
        assert refused.status_code == 422, refused.text
        assert "areas" in refused.text and all(m in refused.text for m in KNOWN)
        assert await count(pool, "SELECT count(*) FROM guidance.guides") == 0, "nothing was written"

        added = await guidance.post(
            "/guides", json={**guide, "areas": ["mikkeli", "MÄNTYHARJU", "Mikkeli"]}, headers=COORDINATOR
        )
        assert added.status_code == 201, added.text
        assert added.json()["areas"] == ["Mikkeli", "Mäntyharju"]
        listed = (await guidance.get("/guides", headers=HEADERS)).json()
        assert [g["areas"] for g in listed] == [["Mikkeli", "Mäntyharju"]]


async def test_a_transfer_to_a_municipality_outside_the_centre_is_422(settings) -> None:
    plan = {"start": str(TODAY), "months": 6, "days_per_week": 4, "hours_per_day": 6, "place": "Vartti"}
    async with running(guidance_app(settings)) as guidance:
        refused = await guidance.post(
            "/cases/client-1/transfers",
            headers=HEADERS,
            json={
                "transferred_on": str(TODAY),
                "receiving_municipality": "Atlantis",
                "activation_plan": plan,
                "relationship_stays_open": True,
            },
        )
    assert refused.status_code == 422, refused.text
    assert "receiving_municipality" in refused.text and "Mäntyharju" in refused.text
