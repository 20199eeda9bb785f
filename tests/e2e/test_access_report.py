"""Every read of client data lands in the access log, and an auditor can answer the
client's question "who has seen my data" from it; the log cannot be rewritten."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from services.intake.app import create_app as intake_app
from services.reporting.app import create_app as reporting_app
from tests.support.apps import eventually, running
from tests.support.auth import headers
from tests.support.factories import HEADERS, referral_request

pytestmark = pytest.mark.integration

AUDITOR = headers("auditor", "auditor-1", "centre")
PSYCHOLOGIST = {
    **headers("psychologist", "psy-1", "te-office"),
    "X-Reitti-Purpose": "assessment",
    "X-Reitti-Purpose-Detail": "vocational assessment",
}


async def test_reads_of_a_clients_data_are_reported_to_the_auditor_with_who_what_and_why(
    settings, pool
) -> None:
    async with running(intake_app(settings)) as intake, running(reporting_app(settings)) as reporting:
        client_id = (await intake.post("/referrals", json=referral_request(), headers=HEADERS)).json()[
            "client_id"
        ]
        assert (await intake.get(f"/clients/{client_id}", headers=PSYCHOLOGIST)).status_code == 200
        no_purpose = {k: v for k, v in PSYCHOLOGIST.items() if k != "X-Reitti-Purpose"}
        refused = await intake.get(f"/clients/{client_id}", headers=no_purpose)
        assert refused.status_code == 422 and "x-reitti-purpose" in refused.text.lower()

        url = f"/audit/clients/{client_id}/access-report"

        async def report() -> list[dict[str, Any]]:
            response = await reporting.get(url, headers=AUDITOR)
            assert response.status_code == 200, response.text
            return response.json()

        entries = await eventually(report, lambda found: any(e["person_id"] == "psy-1" for e in found))
        read = next(e for e in entries if e["person_id"] == "psy-1")
        assert (read["kind"], read["role"], read["purpose"], read["purpose_detail"]) == (
            "read",
            "psychologist",
            "assessment",
            "vocational assessment",
        )
        assert read["what"] == "intake case (intake)"
        assert (await reporting.get(url, headers=PSYCHOLOGIST)).status_code == 403, "auditors only"
        await eventually(report, lambda found: any(e["person_id"] == "auditor-1" for e in found))

    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute("UPDATE reporting.access_report SET purpose = 'curiosity'")
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute("DELETE FROM reporting.access_report")
