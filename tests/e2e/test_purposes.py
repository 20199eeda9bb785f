"""A read names its purpose from the vocabulary (runtime/purposes.py, ADR 0027): an
unknown code is 422 naming the header and listing the codes, and nothing is logged or
shown; a known code passes, and its detail is kept in the access log."""

from __future__ import annotations

from typing import Any, cast

import pytest

from runtime.purposes import PurposeCode
from services.intake.app import create_app as intake_app
from tests.support.apps import running
from tests.support.factories import HEADERS, referral_request

pytestmark = pytest.mark.integration

ACCESSES = "SELECT count(*) FROM intake.events WHERE event_type = 'ClientDataAccessed'"


async def test_a_read_names_a_purpose_code_and_may_add_a_detail(settings, pool) -> None:
    async with running(intake_app(settings)) as intake:
        client_id = (await intake.post("/referrals", json=referral_request(), headers=HEADERS)).json()[
            "client_id"
        ]
        async with pool.acquire() as conn:
            logged = await conn.fetchval(ACCESSES)

        for bad in (". .", "abc", "service guidance of the client"):
            refused = await intake.get(f"/clients/{client_id}", headers={**HEADERS, "X-Reitti-Purpose": bad})
            assert refused.status_code == 422, (bad, refused.text)
            assert "x-reitti-purpose" in refused.text.lower()
            assert all(code.value in refused.text for code in PurposeCode), "the codes are listed"
            assert "Maija" not in refused.text, "nothing of the client is shown"
        control = await intake.get(
            f"/clients/{client_id}",
            headers={**HEADERS, "X-Reitti-Purpose": "intake", "X-Reitti-Purpose-Detail": "a\x01b"},
        )
        assert control.status_code == 422 and "x-reitti-purpose-detail" in control.text.lower()
        async with pool.acquire() as conn:
            assert await conn.fetchval(ACCESSES) == logged, "a refused read is not logged"

        detail = "pyyntö: jatkoarvion valmistelu"
        read = await intake.get(
            f"/clients/{client_id}",
            headers=cast(
                Any,
                {
                    **HEADERS,
                    "X-Reitti-Purpose": "assessment",
                    "X-Reitti-Purpose-Detail": detail.encode(),  # UTF-8 on the wire
                },
            ),
        )
        assert read.status_code == 200, read.text
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT envelope->'data'->>'purpose' AS code, envelope->'data'->>'purpose_detail' AS detail "
                "FROM intake.events WHERE event_type = 'ClientDataAccessed' ORDER BY global_position"
            )
    assert len(rows) == logged + 1
    assert (rows[-1]["code"], rows[-1]["detail"]) == ("assessment", detail)
