"""One caseload, counted once (docs/adr/0029): a story driven through intake's and
guidance's APIs, and guidance's ``GET /guides`` (which enforces the limit) agreeing with
reporting's ``/statistics/caseloads`` guide by guide, on real NATS and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from services.guidance.app import create_app as guidance_app
from services.intake.app import create_app as intake_app
from services.reporting.app import create_app as reporting_app
from tests.e2e.test_guidance_flow import COORDINATOR, JOINT, SOCIAL_SERVICES, TODAY, routed_client
from tests.support.apps import eventually, running
from tests.support.auth import reader_for
from tests.support.closures import propose_closure
from tests.support.factories import HEADERS

pytestmark = pytest.mark.integration

PLAN = {"start": str(TODAY), "months": 6, "days_per_week": 3, "hours_per_day": 5, "place": "Vartti"}
CLOSURE = {
    "closed_on": str(TODAY),
    "outcome": "education",
    "services_continue": "te_office",
    "final_assessment": {
        "text": "Studies begin.",
        "work_ability_clarified": True,
        "competence_improved": True,
    },
    "joint_decision": JOINT,
}


async def ok(response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def test_guidance_and_reporting_count_the_same_caseload_per_guide(settings) -> None:
    async with (
        running(intake_app(settings)) as intake,
        running(guidance_app(settings)) as guidance,
        running(reporting_app(settings)) as reporting,
    ):
        for person in ("guide-1", "guide-2"):
            guide = {"person_id": person, "name": person, "role": "service_guide", "areas": ["Mikkeli"]}
            await ok(await guidance.post("/guides", json=guide, headers=COORDINATOR), 201)
        names = ("active", "open", "back", "closed", "ended")
        clients = {name: (await routed_client(intake))[0] for name in names}
        for name, client_id in clients.items():

            async def opened(client_id: str = client_id) -> int:
                return (await guidance.get(f"/cases/{client_id}", headers=HEADERS)).status_code

            await eventually(opened, lambda status: status == 200)
            guide_id = "guide-2" if name == "ended" else "guide-1"
            assign = {"guide_person_id": guide_id, "assigned_on": str(TODAY)}
            await ok(await guidance.post(f"/cases/{client_id}/guide", json=assign, headers=HEADERS))

        async def transfer(client_id: str, *, stays_open: bool) -> str:
            body = {
                "transferred_on": str(TODAY),
                "activation_plan": PLAN,
                "relationship_stays_open": stays_open,
            }
            made = await ok(
                await guidance.post(f"/cases/{client_id}/transfers", json=body, headers=HEADERS), 201
            )
            url = f"/cases/{client_id}/transfers/{made['transfer_id']}"
            ack = {"accepted": True, "acknowledged_on": str(TODAY)}
            await ok(await guidance.post(f"{url}/acknowledgement", json=ack, headers=SOCIAL_SERVICES))
            return url

        # with social services, the relationship kept open: still the guide's client
        await transfer(clients["open"], stays_open=True)
        # transferred and returned: the guide's client again
        back = await transfer(clients["back"], stays_open=True)
        returned = {"returned_on": str(TODAY)}
        await ok(await guidance.post(f"{back}/return", json=returned, headers=SOCIAL_SERVICES))
        # the relationship ended at the hand-over, and one closed: nobody's caseload
        await transfer(clients["ended"], stays_open=False)
        await propose_closure(guidance, clients["closed"])
        await ok(await guidance.post(f"/cases/{clients['closed']}/closure", json=CLOSURE, headers=HEADERS))

        listed = await ok(await guidance.get("/guides", headers=HEADERS))
        in_guidance = {g["person_id"]: g["caseload"] for g in listed}
        assert in_guidance == {"guide-1": 3, "guide-2": 0}
        assert {g["caseload_limit"] for g in listed} == {60}

        async def caseloads() -> dict[str, Any]:
            url = "/statistics/caseloads"
            return await ok(await reporting.get(url, headers=reader_for(url)))

        def counted(stats: dict[str, Any]) -> dict[str, int]:
            return {g["guide_person_id"]: g["active_clients"] for g in stats["guides"]}

        # reporting lists the guides with clients; every one of guidance's, guide by guide
        expected = {person: n for person, n in in_guidance.items() if n}
        stats = await eventually(caseloads, lambda s: counted(s) == expected)
        assert stats["limit"] == 60 and stats["guides_over_limit"] == 0
