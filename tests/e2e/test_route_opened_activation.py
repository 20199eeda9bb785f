"""The hand-over the route opens (rehabilitative work activity straight from the
assessment) takes its activation plan's terms through the API when the receiving social
services accept it, and reporting's municipal view shows them (issue 14)."""

from __future__ import annotations

from typing import Any

import pytest

from services.guidance.app import create_app as guidance_app
from services.intake.app import create_app as intake_app
from services.reporting.app import create_app as reporting_app
from tests.e2e.test_guidance_flow import SOCIAL_SERVICES, TODAY, routed_client
from tests.support.apps import eventually, running
from tests.support.auth import reader_for
from tests.support.factories import HEADERS

pytestmark = pytest.mark.integration

PLAN = {"start": str(TODAY), "months": 6, "days_per_week": 3, "hours_per_day": 5, "place": "Vartti"}


async def test_the_route_opened_hand_over_is_accepted_with_its_activation_plan(settings) -> None:
    async with (
        running(intake_app(settings)) as intake,
        running(guidance_app(settings)) as guidance,
        running(reporting_app(settings)) as reporting,
    ):
        client_id, _ = await routed_client(intake, "rehabilitative_work_activity")

        async def opened() -> int:
            return (await guidance.get(f"/cases/{client_id}", headers=HEADERS)).status_code

        await eventually(opened, lambda status: status == 200)
        url = f"/cases/{client_id}/transfers/opening/acknowledgement"
        ack = {"accepted": True, "acknowledged_on": str(TODAY)}
        too_much = await guidance.post(
            url, json={**ack, "activation_plan": {**PLAN, "days_per_week": 5}}, headers=SOCIAL_SERVICES
        )
        assert too_much.status_code == 409 and "days per week" in too_much.text
        malformed = await guidance.post(
            url, json={**ack, "activation_plan": {"start": str(TODAY)}}, headers=SOCIAL_SERVICES
        )
        assert malformed.status_code == 422 and "months" in malformed.text
        accepted = await guidance.post(url, json={**ack, "activation_plan": PLAN}, headers=SOCIAL_SERVICES)
        assert accepted.status_code == 200, accepted.text

        view = "/views/municipalities/mikkeli/clients"

        async def transfers() -> list[dict[str, Any]]:
            response = await reporting.get(view, headers=reader_for(view))
            assert response.status_code == 200, response.text
            return [t for t in response.json()["transfers"] if t["client_id"] == client_id]

        [seen] = await eventually(transfers, lambda ts: bool(ts) and ts[0]["accepted"] is True)
        assert (seen["transfer_id"], seen["plan_start"], seen["plan_months"]) == ("opening", str(TODAY), 6)
        assert (seen["days_per_week"], seen["place"]) == (3, "Vartti")
