"""Every bad input that the independent fuzzing and bad-input run found (issue 12), sent
to the running services: each gets a clear 4xx in the one problem shape, writes nothing,
and leaves the service responsive. Where an input is one row of an info list, the row is
that import's error, named by its line, and nothing of it is written."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from services.guidance.app import create_app as guidance_app
from services.intake.app import create_app as intake_app
from services.reporting.app import create_app as reporting_app
from tests.support.apps import running
from tests.support.auth import ISSUER, headers
from tests.support.factories import identity_code, referral_request
from tests.support.problems import problem_of

pytestmark = pytest.mark.integration

ADVISOR = headers("employment_advisor", "advisor-1", "te-office")
COORDINATOR = headers("service_coordinator", "coordinator-1", "centre")
AUDITOR = headers("auditor", "auditor-1", "centre")
HEADER = "personal_identity_code,first_name,last_name,municipality,referral_date"


def claims(**changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    base = {
        "sub": "advisor-1",
        "role": "employment_advisor",
        "org": "te-office",
        "iss": ISSUER.issuer,
        "aud": ISSUER.audience,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
    }
    return {**base, **changes}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-Reitti-Purpose": "intake"}


def header_only(alg: str) -> str:
    """A token whose header names ``alg``, with no valid key behind it."""
    part = base64.urlsafe_b64encode(json.dumps({"alg": alg, "typ": "JWT"}).encode()).rstrip(b"=").decode()
    return f"{part}.e30.c2ln"


TOKENS = {
    "RS256 header": header_only("RS256"),
    "ES256 header": header_only("ES256"),
    "RS256 signed by another key": jwt.encode(
        claims(), rsa.generate_private_key(public_exponent=65537, key_size=2048), algorithm="RS256"
    ),
    "ES256 signed by another key": jwt.encode(
        claims(), ec.generate_private_key(ec.SECP256R1()), algorithm="ES256"
    ),
    "NUL in sub": jwt.encode(claims(sub="advisor\x00-1"), ISSUER.private_key, algorithm="EdDSA"),
    "over-long sub": jwt.encode(claims(sub="a" * 5000), ISSUER.private_key, algorithm="EdDSA"),
}


async def written(pool: asyncpg.Pool) -> int:
    """Events in every service's store."""
    total = 0
    for schema in ("intake", "guidance"):
        total += await pool.fetchval(f"SELECT count(*) FROM {schema}.events")
    return int(total)


async def refused(client: httpx.AsyncClient, response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = problem_of(response)
    assert "Traceback" not in response.text and "pydantic" not in response.text.lower()
    assert (await client.get("/healthz")).status_code == 200, "the service stays responsive"
    return body


@pytest.mark.parametrize("name", sorted(TOKENS))
async def test_a_token_of_any_algorithm_or_with_bad_claims_is_401_on_every_service(
    settings, pool, name
) -> None:
    for factory in (intake_app, guidance_app, reporting_app):
        async with running(factory(settings)) as client:
            write = await client.post("/referrals", json=referral_request(), headers=bearer(TOKENS[name]))
            body = await refused(client, write, 401)
            assert body["type"] == "urn:reitti:problem:unauthenticated"
            read = await client.get("/healthz", headers=bearer(TOKENS[name]))
            assert read.status_code == 200, "and the next request is served"
    assert await written(pool) == 0


async def test_bodies_before_and_without_authentication(settings, pool) -> None:
    async with running(intake_app(settings)) as intake:
        big = b"[" + b"1," * 10_000_000 + b"1]"  # 20 MB, malformed as a referral, no token
        await refused(
            intake,
            await intake.post("/referrals", content=big, headers={"content-type": "application/json"}),
            401,
        )
        not_utf8 = await intake.post(
            "/referrals",
            content=b'{"source": "\xff"}',
            headers={**ADVISOR, "content-type": "application/json"},
        )
        assert (await refused(intake, not_utf8, 400))["type"] == "urn:reitti:problem:malformed"
        body = referral_request()
        body["subsidy_days"] = True
        as_one = await intake.post("/referrals", json=body, headers=ADVISOR)
        assert "subsidy_days" in (await refused(intake, as_one, 422))["detail"]
    assert await written(pool) == 0


@pytest.mark.parametrize("purpose", [". .", "abc", "any words at all"])
async def test_a_purpose_outside_the_vocabulary_is_422_naming_the_header(settings, purpose) -> None:
    async with running(intake_app(settings)) as intake:
        response = await intake.get("/clients/client-x", headers={**ADVISOR, "X-Reitti-Purpose": purpose})
        body = await refused(intake, response, 422)
        assert "x-reitti-purpose" in json.dumps(body["errors"]).lower()


async def test_names_outside_the_centre_are_422_and_write_nothing(settings, pool) -> None:
    async with running(intake_app(settings)) as intake:
        created = await intake.post("/referrals", json=referral_request(), headers=ADVISOR)
        client_id = created.json()["client_id"]
        before = await written(pool)
        consent = {"scopes": ["disclosure_to_organisations"], "given_on": "2026-03-02"}
        atlantis = await intake.post(
            f"/clients/{client_id}/consents",
            json={**consent, "organisations": ["social_services:atlantis"]},
            headers=ADVISOR,
        )
        assert "organisations" in (await refused(intake, atlantis, 422))["detail"]
        assert await written(pool) == before
    async with running(guidance_app(settings)) as guidance:
        guide = {"person_id": "guide-1", "name": "G", "role": "service_guide", "areas": ["Atlantis"]}
        await refused(guidance, await guidance.post("/guides", json=guide, headers=COORDINATOR), 422)
        assert (await guidance.get("/guides", headers=COORDINATOR)).json() == []


@pytest.mark.parametrize(
    ("path", "params", "who"),
    [
        ("/statistics/deadlines", {"as_of": "0"}, COORDINATOR),
        ("/audit/export", {"since": "46388"}, AUDITOR),
        ("/audit/export", {"until": "0.5"}, AUDITOR),
        ("/statistics/deadlines", {"as_of": "2010-03-01T00:00:00"}, COORDINATOR),
        ("/views/te/clients/client-nope", {}, ADVISOR),
    ],
)
async def test_reporting_refuses_lenient_values_and_answers_404_in_the_one_shape(
    settings, path, params, who
) -> None:
    async with running(reporting_app(settings)) as reporting:
        response = await reporting.get(path, params=params, headers=who)
        await refused(reporting, response, 404 if "nope" in path else 422)


@pytest.mark.parametrize(
    ("fmt", "row"),
    [
        ("text/csv", f'{identity_code()},"{"x" * 140_000}",B,Mikkeli,2010-03-01'),
        ("application/x-ndjson", "[" * 1000 + "]" * 1000),
    ],
    ids=["csv field over 131072 characters", "json line nested 1000 deep"],
)
async def test_an_info_list_row_that_crashed_the_import_is_that_rows_error(settings, pool, fmt, row) -> None:
    data = f"{HEADER}\n{row}\n" if fmt == "text/csv" else f"{row}\n"
    async with running(intake_app(settings)) as intake:
        response = await intake.post(
            "/referrals/import", content=data.encode(), headers={**ADVISOR, "content-type": fmt}
        )
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["errors_total"] == 1 and answer["imported"] == []
        assert answer["errors"][0]["line"] == (2 if fmt == "text/csv" else 1)
        assert (await intake.get("/healthz")).status_code == 200
    assert await written(pool) == 0
