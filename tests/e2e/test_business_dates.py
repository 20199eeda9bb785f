"""Business dates everywhere (docs/adr/0030), one back-dated client driven through intake's
and guidance's APIs to closure, and reporting read beside them, on real NATS and
PostgreSQL: waiting begins on the referral's date, waits are counted to an ``as_of``, the
TE view's phase is the case's, and a past year's figures are counted as of its 31 December."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.guidance.app import create_app as guidance_app
from services.intake.app import create_app as intake_app
from services.reporting.app import create_app as reporting_app
from tests.e2e.test_guidance_flow import COORDINATOR, GUIDE, TODAY
from tests.support.apps import eventually, running
from tests.support.auth import headers, reader_for
from tests.support.factories import AREAS, HEADERS, referral_request

pytestmark = pytest.mark.integration

REFERRED = date(2011, 3, 1)
ASSESSED = date(2011, 4, 11)
STEERING = headers("steering_group_member", "steering-1", "centre")


async def ok(response, status: int = 200):
    assert response.status_code == status, response.text
    return response.json()


async def test_a_back_dated_client_waits_from_business_dates_and_its_te_view_follows_the_phase(
    settings,
) -> None:
    async with (
        running(intake_app(settings)) as intake,
        running(guidance_app(settings)) as guidance,
        running(reporting_app(settings)) as reporting,
    ):
        referral = referral_request()
        referral["referral_date"] = str(REFERRED)
        client_id = (await ok(await intake.post("/referrals", json=referral, headers=HEADERS), 201))[
            "client_id"
        ]

        # waiting begins on the referral's date, not on the day it was recorded
        case = await ok(await intake.get(f"/clients/{client_id}", headers=HEADERS))
        assert (case["waiting_for"], case["waiting_since"]) == ("invitation", str(REFERRED))
        [queued] = await ok(await intake.get("/queue", headers=HEADERS))
        assert (queued["waiting_since"], queued["waiting_days"]) == (str(REFERRED), (TODAY - REFERRED).days)

        consent = {"scopes": ["move_to_centre", "data_exchange_within_centre"], "given_on": "2011-03-10"}
        await ok(await intake.post(f"/clients/{client_id}/consents", json=consent, headers=HEADERS), 201)
        assessment = {
            "assessed_on": str(ASSESSED),
            "capacity_allows_rehabilitative_work": True,
            "profile": "centre",
            "ministry_segment": 3,
            "route": "individual_service_guidance",
            "assessors": [
                {"person_id": "advisor-1", "role": "employment_advisor", "organisation": "te-office"}
            ],
            "findings": [{"area": a, "support_need": "some"} for a in AREAS],
        }
        await ok(await intake.post(f"/clients/{client_id}/assessment", json=assessment, headers=HEADERS), 201)
        case = await ok(await intake.get(f"/clients/{client_id}", headers=HEADERS))
        assert (case["waiting_for"], case["waiting_since"]) == ("routed", str(ASSESSED))

        # guidance counts the wait for a named guide to the day asked for
        async def waiting(**params: str) -> list[dict[str, Any]]:
            return await ok(await guidance.get("/waiting", params=params, headers=HEADERS))

        [now] = await eventually(waiting, lambda w: len(w) == 1)
        assert (now["client_id"], now["waiting_since"]) == (client_id, str(ASSESSED))
        assert now["waiting_days"] == (TODAY - ASSESSED).days
        [year_end] = await waiting(as_of="2011-12-31")
        assert year_end["waiting_days"] == (date(2011, 12, 31) - ASSESSED).days == 264
        assert await waiting(as_of="2011-04-10") == [], "not yet waiting on the day before the assessment"

        await ok(await guidance.post("/guides", json=GUIDE, headers=COORDINATOR), 201)
        assign = {"guide_person_id": "guide-1", "assigned_on": "2011-04-20"}
        await ok(await guidance.post(f"/cases/{client_id}/guide", json=assign, headers=HEADERS))
        assert await waiting(as_of="2011-12-31") == [], "a client with a guide is not listed"
        phase = {"phase": "survey_and_research", "changed_on": "2011-05-02"}
        await ok(await guidance.post(f"/cases/{client_id}/phase", json=phase, headers=HEADERS))

        te_url = f"/views/te/clients/{client_id}"

        async def te_phase() -> str | None:
            record = await ok(await reporting.get(te_url, headers=reader_for(te_url)))
            return None if record["client"] is None else record["client"]["phase"]

        await eventually(te_phase, lambda p: p == "survey_and_research")
        closure = {
            "closed_on": "2011-11-30",
            "outcome": "education",
            "services_continue": "te_office",
            "final_assessment": {
                "text": "Studies begin.",
                "work_ability_clarified": True,
                "competence_improved": True,
            },
        }
        await ok(await guidance.post(f"/cases/{client_id}/closure", json=closure, headers=HEADERS))
        closed = await ok(await guidance.get(f"/cases/{client_id}", headers=HEADERS))
        assert closed["phase"] == "closure"
        assert closed["waiting_days"] == (date(2011, 11, 30) - ASSESSED).days, "the count stops at closure"
        assert await eventually(te_phase, lambda p: p == "closure") == closed["phase"]
        assert await waiting() == [], "a closed case is not listed"

        # a past year is counted as of its last day unless the caller names another
        for url in ("/statistics/deadlines", "/statistics/municipal-cost"):
            past = await ok(await reporting.get(url, params={"year": 2011}, headers=reader_for(url)))
            assert past["as_of"] == "2011-12-31", url
            this_year = await ok(
                await reporting.get(url, params={"year": TODAY.year}, headers=reader_for(url))
            )
            assert this_year["as_of"] == str(TODAY), url
            asked = await ok(
                await reporting.get(
                    url, params={"year": 2011, "as_of": "2011-06-30"}, headers=reader_for(url)
                )
            )
            assert asked["as_of"] == "2011-06-30", url
        page = await reporting.get("/dashboard", params={"year": 2011}, headers=STEERING)
        assert page.status_code == 200, page.text
        assert "as of 2011-12-31" in page.text and f"as of {TODAY}" not in page.text


async def test_guidance_flags_the_plan_due_at_the_end_of_the_mapping_period_under_act_1369_2014(
    settings,
) -> None:
    async with running(intake_app(settings)) as intake, running(guidance_app(settings)) as guidance:
        referral = referral_request()
        referral["referral_date"] = "2016-03-01"
        client_id = (await ok(await intake.post("/referrals", json=referral, headers=HEADERS), 201))[
            "client_id"
        ]
        consent = {"scopes": ["move_to_centre", "data_exchange_within_centre"], "given_on": "2016-03-10"}
        await ok(await intake.post(f"/clients/{client_id}/consents", json=consent, headers=HEADERS), 201)
        assessment = {
            "assessed_on": "2016-04-11",
            "capacity_allows_rehabilitative_work": True,
            "profile": "centre",
            "ministry_segment": 3,
            "route": "individual_service_guidance",
            "assessors": [
                {"person_id": "advisor-1", "role": "employment_advisor", "organisation": "te-office"}
            ],
            "findings": [{"area": a, "support_need": "some"} for a in AREAS],
        }
        await ok(await intake.post(f"/clients/{client_id}/assessment", json=assessment, headers=HEADERS), 201)

        async def case() -> dict[str, Any]:
            response = await guidance.get(f"/cases/{client_id}", headers=HEADERS)
            return response.json() if response.status_code == 200 else {}

        opened = await eventually(case, lambda c: c.get("opened_on") == "2016-04-11")
        # 3 months from the referral, when the mapping period began: not 2016-07-11
        assert (opened["flags"]["plan_due"], opened["flags"]["plan_overdue"]) == ("2016-06-01", True)
        [listed] = await ok(await guidance.get("/worklist", headers=HEADERS))
        assert listed["flags"] == opened["flags"]
