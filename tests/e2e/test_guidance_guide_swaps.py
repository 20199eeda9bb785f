"""Guides swapped concurrently in opposite directions (case X from A to B while case Y
goes from B to A) neither deadlock nor miscount caseloads, against real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest

from runtime import clock
from services.guidance.app import create_app as guidance_app
from services.intake.app import create_app as intake_app
from tests.support.apps import eventually, running
from tests.support.auth import headers
from tests.support.factories import AREAS, HEADERS, identity_code, referral_request

pytestmark = pytest.mark.integration

TODAY = clock.today()
PAIRS = 20
COORDINATOR = headers("service_coordinator", "coord-1", "mikkeli")


async def routed_client(intake: httpx.AsyncClient) -> str:
    referral = referral_request(code=identity_code())
    referral["referral_date"] = str(TODAY)
    client_id: str = (await intake.post("/referrals", json=referral, headers=HEADERS)).json()["client_id"]
    consent = {"scopes": ["move_to_centre", "data_exchange_within_centre"], "given_on": str(TODAY)}
    assert (
        await intake.post(f"/clients/{client_id}/consents", json=consent, headers=HEADERS)
    ).status_code == 201
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
    return client_id


async def test_concurrent_guide_swaps_in_opposite_directions_neither_fail_nor_miscount_caseloads(
    settings, pool
) -> None:
    async with (
        running(intake_app(settings)) as intake,
        running(guidance_app(settings, caseload_limit=1000)) as guidance,
    ):
        clients = [await routed_client(intake) for _ in range(2 * PAIRS)]

        async def waiting() -> set[str]:
            return {e["client_id"] for e in (await guidance.get("/waiting", headers=HEADERS)).json()}

        await eventually(waiting, lambda w: set(clients) <= w, within=60)
        for person in ("guide-a", "guide-b"):
            guide = {"person_id": person, "name": person, "role": "service_guide", "areas": ["Mikkeli"]}
            assert (await guidance.post("/guides", json=guide, headers=COORDINATOR)).status_code == 201

        async def assign(client_id: str, guide: str) -> httpx.Response:
            body = {"guide_person_id": guide, "assigned_on": str(TODAY)}
            return await guidance.post(f"/cases/{client_id}/guide", json=body, headers=HEADERS)

        with_a, with_b = clients[:PAIRS], clients[PAIRS:]
        first = [await assign(c, "guide-a") for c in with_a] + [await assign(c, "guide-b") for c in with_b]
        assert {r.status_code for r in first} == {200}

        # each pair: one case from A to B and, at the same moment, one from B to A
        swaps = [
            job
            for a, b in zip(with_a, with_b, strict=True)
            for job in (assign(a, "guide-b"), assign(b, "guide-a"))
        ]
        answers = await asyncio.gather(*swaps, return_exceptions=True)
        failures = [
            a if isinstance(a, BaseException) else (a.status_code, a.text)
            for a in answers
            if not isinstance(a, httpx.Response) or a.status_code != 200
        ]
        assert failures == [], "no swap fails (no deadlock, no 500)"

        final: Counter[str] = Counter()
        for client_id in clients:
            final[(await guidance.get(f"/cases/{client_id}", headers=HEADERS)).json()["guide"]] += 1
        assert final == {"guide-a": PAIRS, "guide-b": PAIRS}
        caseloads = {
            g["person_id"]: g["caseload"] for g in (await guidance.get("/guides", headers=HEADERS)).json()
        }
        assert caseloads == dict(final)
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT guide, count(*) AS n FROM guidance.case_overview WHERE status = 'active' GROUP BY guide"
        )
    assert {r["guide"]: r["n"] for r in rows} == dict(final)
