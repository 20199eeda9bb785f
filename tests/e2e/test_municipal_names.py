"""The receiving social worker sees the client's name on the municipal view while a
consent names their municipality's social services; not without one, and not once the
client's data is erased. The name is sealed at rest like every personal value in
reporting's tables (docs/adr/0020), and each read is access-logged (issue 14)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from runtime import erasure
from services.intake.app import create_app as intake_app
from services.reporting.app import create_app as reporting_app
from tests.e2e.test_disclosure import MIKKELI_SW
from tests.e2e.test_guidance_flow import TODAY
from tests.support.apps import eventually, running
from tests.support.auth import headers
from tests.support.factories import AREAS, HEADERS, identity_code, referral_request

pytestmark = pytest.mark.integration

LEAD = headers("lead_employment_advisor", "lead-1", "te-office")
VIEW = "/views/municipalities/mikkeli/clients"
TO_MIKKELI = {
    "scopes": ["move_to_centre", "data_exchange_within_centre", "disclosure_to_organisations"],
    "organisations": ["social_services:mikkeli"],
}


async def routed_to_work_activity(intake: Any, last_name: str) -> tuple[str, str]:
    """A Mikkeli client routed straight to rehabilitative work activity, under a consent
    naming Mikkeli's social services: the client's id and the consent's."""
    body = referral_request(code=identity_code())
    body["referral_date"] = str(TODAY - timedelta(days=20))
    body["client"] = {**body["client"], "first_name": "Aino", "last_name": last_name}
    client_id: str = (await intake.post("/referrals", json=body, headers=HEADERS)).json()["client_id"]
    given = await intake.post(
        f"/clients/{client_id}/consents", json={**TO_MIKKELI, "given_on": str(TODAY)}, headers=HEADERS
    )
    assert given.status_code == 201, given.text
    assessment = {
        "assessed_on": str(TODAY),
        "capacity_allows_rehabilitative_work": True,
        "profile": "centre",
        "ministry_segment": 3,
        "route": "rehabilitative_work_activity",
        "assessors": [{"person_id": "advisor-1", "role": "employment_advisor", "organisation": "te-office"}],
        "findings": [{"area": a, "support_need": "some"} for a in AREAS],
    }
    routed = await intake.post(f"/clients/{client_id}/assessment", json=assessment, headers=HEADERS)
    assert routed.status_code == 201, routed.text
    return client_id, given.json()["consent_id"]


async def stored_name(pool: Any, client_id: str) -> str | None:
    async with pool.acquire() as conn:
        name: str | None = await conn.fetchval(
            "SELECT name FROM reporting.municipal_clients WHERE client_id = $1", client_id
        )
    return name


async def logged_reads(pool: Any, client_id: str) -> int:
    async with pool.acquire() as conn:
        found: int = await conn.fetchval(
            "SELECT count(*) FROM reporting.access_report WHERE client_id = $1 AND person_id = 'sw-1'"
            " AND kind = 'read'",
            client_id,
        )
    return found


async def test_the_social_worker_sees_the_name_with_consent_not_without_and_not_after_erasure(
    settings, pool
) -> None:
    last_name = f"Nimi{uuid.uuid4().hex[:8]}"
    async with running(intake_app(settings)) as intake, running(reporting_app(settings)) as reporting:
        client_id, consent_id = await routed_to_work_activity(intake, last_name)

        async def view() -> dict[str, dict[str, Any]]:
            response = await reporting.get(VIEW, headers=MIKKELI_SW)
            assert response.status_code == 200, response.text
            return {c["client_id"]: c for c in response.json()["clients"]}

        clients = await eventually(view, lambda v: client_id in v)
        assert clients[client_id]["name"] == f"Aino {last_name}"
        sealed = await stored_name(pool, client_id)
        assert sealed is not None and sealed.startswith(erasure.PREFIX) and last_name not in sealed
        await eventually(lambda: logged_reads(pool, client_id), lambda n: n >= 1)

        # Without a consent in force naming Mikkeli's social services: not on the view.
        withdrawal = {"withdrawn_on": str(TODAY)}
        url = f"/clients/{client_id}/consents/{consent_id}/withdrawal"
        withdrawn = await intake.post(url, json=withdrawal, headers=HEADERS)
        assert withdrawn.status_code == 200, withdrawn.text
        gone = await eventually(view, lambda v: client_id not in v)
        assert last_name not in str(gone)
        again = await intake.post(
            f"/clients/{client_id}/consents", json={**TO_MIKKELI, "given_on": str(TODAY)}, headers=HEADERS
        )
        assert again.status_code == 201, again.text
        back = await eventually(view, lambda v: client_id in v)
        assert back[client_id]["name"] == f"Aino {last_name}"

        erased = await intake.post(
            f"/clients/{client_id}/erasure", json={"reference": "DPO-2026-31"}, headers=LEAD
        )
        assert erased.status_code == 200, erased.text
        after = await eventually(view, lambda v: client_id in v and v[client_id]["name"] is None)
        assert last_name not in str(after)
        assert await stored_name(pool, client_id) is None
