"""The intake queue names its clients to those who may read their cases: each name shown is
an intake-case read in the access log, and an erased client's row names nobody."""

from __future__ import annotations

import uuid

import pytest

from services.intake.app import create_app as intake_app
from tests.support.apps import running
from tests.support.auth import headers
from tests.support.factories import HEADERS, identity_code, referral_request

pytestmark = pytest.mark.integration

LEAD = headers("lead_employment_advisor", "lead-1", "te-office")


def unique(prefix: str) -> str:
    return prefix + "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:10])


async def case_reads(pool, client_id: str) -> int:
    """How many intake-case reads of ``client_id`` the access log holds."""
    return int(
        await pool.fetchval(
            "SELECT count(*) FROM intake.events WHERE event_type = 'ClientDataAccessed' "
            "AND envelope->'data'->>'what' = 'intake case' "
            "AND (envelope->'data'->'client_ids')::jsonb ? $1",
            client_id,
        )
    )


async def test_the_queue_shows_names_logs_each_as_a_case_read_and_names_no_erased_client(
    settings, pool
) -> None:
    names = {k: (unique("Aino"), unique("Laine")) for k in ("kept", "erased")}
    async with running(intake_app(settings)) as intake:
        ids = {}
        for key, (first, last) in names.items():
            body = referral_request(code=identity_code())
            body["client"] = {**body["client"], "first_name": first, "last_name": last}
            answer = await intake.post("/referrals", json=body, headers=HEADERS)
            assert answer.status_code == 201, answer.text
            ids[key] = answer.json()["client_id"]
        before = {k: await case_reads(pool, c) for k, c in ids.items()}

        async def rows() -> dict[str, dict[str, str] | None]:
            answer = await intake.get("/queue", params={"limit": 2000}, headers=HEADERS)
            assert answer.status_code == 200, answer.text
            return {e["client_id"]: e["name"] for e in answer.json() if e["client_id"] in ids.values()}

        listed = await rows()
        for key, (first, last) in names.items():
            assert listed[ids[key]] == {"first_name": first, "last_name": last}
            assert await case_reads(pool, ids[key]) == before[key] + 1, "each name shown is a logged read"

        erased = await intake.post(
            f"/clients/{ids['erased']}/erasure", json={"reference": "DPO-1"}, headers=LEAD
        )
        assert erased.status_code == 200, erased.text
        listed = await rows()
        assert listed[ids["erased"]] is None, "an erased client's row names nobody"
        assert listed[ids["kept"]] == {"first_name": names["kept"][0], "last_name": names["kept"][1]}
