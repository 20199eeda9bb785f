"""The steering group sets the yearly intake target through intake's API: the event
reaches reporting through JetStream, a later setting supersedes an earlier one from its
business date, a split per municipality is shown as set, and bad input is refused."""

from __future__ import annotations

from typing import Any

import pytest

from services.intake.app import create_app as intake_app
from services.reporting.app import create_app as reporting_app
from tests.support.apps import eventually, running
from tests.support.auth import headers, reader_for
from tests.support.problems import invalid_fields, problem_of

pytestmark = pytest.mark.integration

STEERING = headers("steering_group_member", "steering-1", "centre")


async def intake_of(reporting, **params) -> dict[str, Any]:
    url = "/statistics/intake"
    response = await reporting.get(url, params=params, headers=reader_for(url))
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_target_set_through_the_api_is_shown_and_a_later_one_supersedes(settings) -> None:
    async with running(intake_app(settings)) as intake, running(reporting_app(settings)) as reporting:
        first = await intake.post(
            "/intake-targets", json={"year": 2011, "target": 200, "set_on": "2010-12-15"}, headers=STEERING
        )
        assert first.status_code == 201, first.text
        assert (first.json()["stream_id"], first.json()["stream_version"]) == ("intake-target-2011", 1)
        shown = await eventually(lambda: intake_of(reporting, year=2011), lambda r: r["target"] == 200)
        assert (shown["target_set_on"], shown["target_apportioned"]) == ("2010-12-15", True)
        by_municipality = {r["municipality"]: r["target"] for r in shown["municipalities"]}
        assert sum(by_municipality.values()) == 200 and by_municipality["Mikkeli"] == 133

        cut = await intake.post(
            "/intake-targets",
            json={
                "year": 2011,
                "target": 10,
                "set_on": "2011-03-01",
                "municipalities": {"mikkeli": 7, "Puumala": 3},
            },
            headers=STEERING,
        )
        assert cut.status_code == 201, cut.text
        assert cut.json()["municipalities"] == {"Mikkeli": 7, "Puumala": 3}, "the names as configured"
        latest = await eventually(lambda: intake_of(reporting, year=2011), lambda r: r["target"] == 10)
        split = {r["municipality"]: r["target"] for r in latest["municipalities"]}
        assert split["Mikkeli"] == 7 and split["Puumala"] == 3 and split["Ristiina"] == 0
        assert latest["target_apportioned"] is False
        # effective-dated: before the cut, the first setting was in force
        before = await intake_of(reporting, year=2011, as_of="2011-02-28")
        assert (before["target"], before["target_set_on"]) == (200, "2010-12-15")
        assert (await intake_of(reporting, year=2011, as_of="2010-12-14"))["target"] is None
        assert (await intake_of(reporting, year=2012))["target"] is None


async def test_only_the_steering_group_sets_a_target_and_bad_input_is_refused(settings) -> None:
    async with running(intake_app(settings)) as intake:
        good = {"year": 2011, "target": 200, "set_on": "2010-12-15"}
        advisor = await intake.post("/intake-targets", json=good, headers=headers("employment_advisor"))
        assert advisor.status_code == 403 and "targets:set" in str(problem_of(advisor)["detail"])
        for body, field in (
            (good | {"year": 1999}, "year"),
            (good | {"year": "2011"}, "year"),
            (good | {"target": 0}, "target"),
            (good | {"target": 2.5}, "target"),
            (good | {"set_on": "15.12.2010"}, "set_on"),
            (good | {"municipalities": {"Helsinki": 200}}, "municipalities.Helsinki"),
            (good | {"municipalities": {"Mikkeli": -1}}, "municipalities.Mikkeli"),
        ):
            response = await intake.post("/intake-targets", json=body, headers=STEERING)
            assert response.status_code == 422, (body, response.text)
            assert [f for _, f in invalid_fields(response)] == [field], (body, response.text)
        # rules the body's form cannot show: the split must add up; not set after the year
        for body in (good | {"municipalities": {"Mikkeli": 150}}, good | {"set_on": "2012-01-02"}):
            response = await intake.post("/intake-targets", json=body, headers=STEERING)
            assert response.status_code == 409, (body, response.text)
