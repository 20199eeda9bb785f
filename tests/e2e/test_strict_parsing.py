"""Strict parsing at the edge: a date is an ISO date, an instant an ISO timestamp, a count
a number. Each of these was read leniently (as_of=0 as 1 January 1970, a timestamp as a
date, `true` as 1 subsidy day); now each is a 422 naming the field, and nothing is
written."""

from __future__ import annotations

import pytest

from services.intake.app import create_app as intake_app
from services.reporting.app import create_app as reporting_app
from tests.support.apps import running
from tests.support.auth import headers
from tests.support.factories import referral_request

pytestmark = pytest.mark.integration

COORDINATOR = headers("service_coordinator", "coordinator-1", "centre")
AUDITOR = headers("auditor", "auditor-1", "centre")
ADVISOR = headers("employment_advisor", "advisor-1", "te-office")


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/statistics/deadlines", {"as_of": "0"}, "as_of"),
        ("/statistics/deadlines", {"as_of": "46388"}, "as_of"),
        ("/statistics/deadlines", {"as_of": "2010-03-01T00:00:00"}, "as_of"),
        ("/statistics/municipal-cost", {"year": "2010", "as_of": "0.5"}, "as_of"),
        ("/audit/export", {"since": "46388"}, "since"),
        ("/audit/export", {"until": "0.5"}, "until"),
        ("/audit/export", {"since": "2010-03-01"}, "since"),
    ],
)
async def test_a_number_or_the_wrong_kind_of_time_is_not_a_date(settings, path, params, field) -> None:
    who = AUDITOR if path.startswith("/audit") else COORDINATOR
    async with running(reporting_app(settings)) as reporting:
        response = await reporting.get(path, params=params, headers=who)
        assert response.status_code == 422, response.text
        assert field in str(response.json()), response.text


async def test_iso_dates_and_timestamps_are_read(settings) -> None:
    async with running(reporting_app(settings)) as reporting:
        ok = await reporting.get("/statistics/deadlines", params={"as_of": "2010-12-31"}, headers=COORDINATOR)
        assert ok.status_code == 200 and ok.json()["as_of"] == "2010-12-31"
        export = await reporting.get(
            "/audit/export",
            params={"since": "2010-01-01T00:00:00Z", "until": "2011-01-01T00:00:00+02:00"},
            headers=AUDITOR,
        )
        assert export.status_code == 200, export.text


@pytest.mark.parametrize("value", [True, False, "520", 520.5])
async def test_subsidy_days_must_be_a_number(settings, pool, value) -> None:
    body = referral_request()
    body["subsidy_days"] = value
    async with running(intake_app(settings)) as intake:
        response = await intake.post("/referrals", json=body, headers=ADVISOR)
        assert response.status_code == 422, response.text
        assert "subsidy_days" in str(response.json())
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM intake.events") == 0
