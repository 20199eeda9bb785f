"""One error shape: every error of every service, whatever raised it (a rule, the
framework, the edge middleware, an unexpected failure), is an RFC 9457 problem document,
``application/problem+json``, with a stable ``type``. These inputs each used to answer in
another shape (FastAPI's ``{"detail": [...]}``, reporting's ``{"detail": "..."}``, a bare
400 text)."""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from runtime import clock
from runtime.http import install_error_handlers
from services.guidance.app import create_app as guidance_app
from services.intake.app import create_app as intake_app
from services.reporting.app import create_app as reporting_app
from tests.support.apps import running
from tests.support.auth import headers
from tests.support.factories import referral_request
from tests.support.problems import invalid_fields, problem_of

pytestmark = pytest.mark.integration

ADVISOR = headers("employment_advisor", "advisor-1", "te-office")
NURSE = headers("nurse", "nurse-1", "centre")
COORDINATOR = headers("service_coordinator", "coordinator-1", "centre")


def kind(response: httpx.Response) -> tuple[int, str]:
    body = problem_of(response)
    return response.status_code, str(body["type"]).removeprefix("urn:reitti:problem:")


async def test_every_kind_of_error_of_intake_is_one_problem_shape(settings, pool) -> None:
    async with running(intake_app(settings)) as intake:
        json_headers = {**ADVISOR, "content-type": "application/json"}
        not_utf8 = await intake.post("/referrals", content=b'{"source": "\xff\xfe"}', headers=json_headers)
        assert kind(not_utf8) == (400, "malformed")
        not_json = await intake.post("/referrals", content=b'{"source": ', headers=json_headers)
        assert kind(not_json) == (400, "malformed")
        assert invalid_fields(not_json)[0][0] == "body"

        assert kind(await intake.post("/referrals", json=referral_request())) == (401, "unauthenticated")
        forbidden = await intake.post("/referrals", json=referral_request(), headers=NURSE)
        assert kind(forbidden) == (403, "forbidden") and "referral:register" in forbidden.json()["detail"]
        assert kind(await intake.get("/no-such-path", headers=ADVISOR)) == (404, "not-found")
        assert kind(await intake.get("/clients/client-nope", headers=ADVISOR)) == (404, "not-found")
        wrong_method = await intake.delete("/referrals", headers=ADVISOR)
        assert kind(wrong_method) == (405, "method-not-allowed") and "POST" in wrong_method.headers["allow"]

        future = {**referral_request(), "referral_date": str(clock.today() + timedelta(days=1))}
        refused = await intake.post("/referrals", json=future, headers=ADVISOR)
        assert kind(refused) == (409, "refused") and "future" in refused.json()["detail"]
        elsewhere = await intake.post(
            "/referrals", json=referral_request(municipality="Helsinki"), headers=ADVISOR
        )
        assert kind(elsewhere) == (422, "invalid-input") and invalid_fields(elsewhere) == [
            ("body", "municipality")
        ]
        too_large = await intake.post("/referrals", content=b"x" * 200_000, headers=json_headers)
        assert kind(too_large) == (413, "too-large")
        as_text = await intake.post(
            "/referrals", content=b"{}", headers={**ADVISOR, "content-type": "text/plain"}
        )
        assert kind(as_text) == (415, "unsupported-media-type")
        assert "application/json" in as_text.json()["detail"]

        body = referral_request()
        body["subsidy_days"] = True
        invalid = await intake.post("/referrals", json=body, headers=ADVISOR)
        assert kind(invalid) == (422, "invalid-input")
        assert invalid_fields(invalid) == [("body", "subsidy_days")]
        [error] = invalid.json()["errors"]
        assert error["pointer"] == "/subsidy_days" and error["reason"] and error["code"]
        assert await pool.fetchval("SELECT count(*) FROM intake.events") == 0, "nothing was written"
        assert (await intake.get("/healthz")).status_code == 200


async def test_reporting_and_guidance_answer_not_found_and_invalid_in_the_same_shape(settings) -> None:
    async with running(reporting_app(settings)) as reporting:
        unknown = await reporting.get("/views/te/clients/client-nope", headers=ADVISOR)
        assert kind(unknown) == (404, "not-found")
        no_stream = await reporting.get(
            "/audit/clients/client-nope/timeline", headers=headers("auditor", "auditor-1", "centre")
        )
        assert kind(no_stream) == (404, "not-found")
        bad_date = await reporting.get("/statistics/deadlines", params={"as_of": "0"}, headers=COORDINATOR)
        assert kind(bad_date) == (422, "invalid-input") and invalid_fields(bad_date) == [("query", "as_of")]
        no_purpose = await reporting.get(
            "/views/te/clients/client-nope", headers={"Authorization": ADVISOR["Authorization"]}
        )
        assert kind(no_purpose) == (422, "invalid-input")
        assert invalid_fields(no_purpose) == [("header", "x-reitti-purpose")]
    async with running(guidance_app(settings)) as guidance:
        assert kind(await guidance.get("/cases/client-nope", headers=ADVISOR)) == (404, "not-found")


async def test_an_unexpected_failure_is_a_500_problem_with_an_id_that_is_in_the_log(caplog) -> None:
    app = FastAPI()
    install_error_handlers(app, refusals=())

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("the secret internals of the failure")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="runtime.http"):
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
            response = await client.get("/boom")
    assert kind(response) == (500, "internal")
    body = response.json()
    assert "secret internals" not in response.text and "RuntimeError" not in response.text
    assert body["error_id"] in body["detail"]
    [logged] = [r for r in caplog.records if body["error_id"] in r.getMessage()]
    assert logged.exc_info is not None, "the log keeps the traceback the caller does not see"
