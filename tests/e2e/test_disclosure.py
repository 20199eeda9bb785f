"""The disclosure policy at work against real NATS and PostgreSQL (docs/adr/0018): the
receiving municipality alone answers a transfer; nothing is transferred once the client
withdrew consent; and who may read a client's name and identity code without a consent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from services.guidance.app import create_app as guidance_app
from services.intake.app import create_app as intake_app
from services.reporting.app import create_app as reporting_app
from tests.e2e.test_guidance_flow import GUIDE, TODAY, assign_guide
from tests.support.apps import eventually, running
from tests.support.auth import headers
from tests.support.factories import AREAS, HEADERS, identity_code, referral_request

pytestmark = pytest.mark.integration

MIKKELI_SW = headers("social_worker", "sw-1", "social_services:mikkeli")
HIRVENSALMI_SW = headers("social_worker", "sw-9", "social_services:hirvensalmi")
ADVISOR_2 = headers("employment_advisor", "advisor-2", "te-office")
SERVICE_GUIDE = headers("service_guide", "guide-1", "mikkeli")
AUDITOR = headers("auditor", "auditor-1", "centre")
SECRETARY = headers("office_secretary", "secretary-1", "mikkeli")
PLAN = {"start": str(TODAY), "months": 6, "days_per_week": 4, "hours_per_day": 6, "place": "Vartti"}
ALL_SCOPES = {
    "scopes": ["move_to_centre", "data_exchange_within_centre", "disclosure_to_organisations"],
    "organisations": ["social_services:mikkeli"],
    "given_on": str(TODAY),
}


async def referred(intake: Any, source: str, by: dict[str, str] = HEADERS) -> str:
    body = referral_request(source, code=identity_code())
    body["referral_date"] = str(TODAY - timedelta(days=20))
    response = await intake.post("/referrals", json=body, headers=by)
    assert response.status_code == 201, response.text
    client_id: str = response.json()["client_id"]
    return client_id


async def consented_and_routed(
    intake: Any, client_id: str, route: str = "individual_service_guidance"
) -> str:
    """Consent (all scopes, naming Mikkeli's social services) and an assessment routing
    the client; the consent's id."""
    given = await intake.post(f"/clients/{client_id}/consents", json=ALL_SCOPES, headers=HEADERS)
    assert given.status_code == 201, given.text
    assessment = {
        "assessed_on": str(TODAY),
        "capacity_allows_rehabilitative_work": True,
        "profile": "centre",
        "ministry_segment": 3,
        "route": route,
        "assessors": [{"person_id": "advisor-1", "role": "employment_advisor", "organisation": "te-office"}],
        "findings": [{"area": a, "support_need": "some"} for a in AREAS],
    }
    routed = await intake.post(f"/clients/{client_id}/assessment", json=assessment, headers=HEADERS)
    assert routed.status_code == 201, routed.text
    consent_id: str = given.json()["consent_id"]
    return consent_id


async def stored_types(pool: Any, client_id: str) -> list[str]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT event_type FROM guidance.events WHERE stream_id = $1 ORDER BY stream_version", client_id
        )
    return [r["event_type"] for r in rows]


async def test_only_the_receiving_municipality_returns_a_client_and_a_refusal_writes_nothing(
    settings, pool
) -> None:
    async with running(intake_app(settings)) as intake, running(guidance_app(settings)) as guidance:
        client_id = await referred(intake, "te_office")
        await consented_and_routed(intake, client_id, "rehabilitative_work_activity")
        url = f"/cases/{client_id}"
        case = await eventually(lambda: guidance.get(url, headers=HEADERS), lambda r: r.status_code == 200)
        assert case.json()["status"] == "with_social_services"
        before = await stored_types(pool, client_id)

        back = {"returned_on": str(TODAY)}
        returned = f"{url}/transfers/opening/return"
        refused = await guidance.post(returned, json=back, headers=HIRVENSALMI_SW)
        assert refused.status_code == 403, refused.text
        detail = refused.json()["detail"]
        assert "only social_services:mikkeli" in detail and "social_services:hirvensalmi" in detail
        ack = {"accepted": True, "acknowledged_on": str(TODAY)}
        wrong_ack = await guidance.post(
            f"{url}/transfers/opening/acknowledgement", json=ack, headers=HIRVENSALMI_SW
        )
        assert wrong_ack.status_code == 403 and "only social_services:mikkeli" in wrong_ack.json()["detail"]

        assert await stored_types(pool, client_id) == before, "nothing is written on a refusal"
        unchanged = (await guidance.get(url, headers=HEADERS)).json()
        assert (unchanged["status"], unchanged["version"]) == ("with_social_services", case.json()["version"])

        done = await guidance.post(returned, json=back, headers=MIKKELI_SW)
        assert done.status_code == 200, done.text
        assert (await stored_types(pool, client_id))[-1] == "ReturnedFromSocialServices"
        returned_event = await eventually(
            lambda: guidance.get(url, headers=HEADERS), lambda r: r.json()["status"] != "with_social_services"
        )
        assert returned_event.json()["transfers"][0]["returned_on"] == str(TODAY)


async def test_after_the_client_withdraws_consent_no_transfer_is_made_and_the_refusal_names_the_consent(
    settings, pool
) -> None:
    async with (
        running(intake_app(settings)) as intake,
        running(guidance_app(settings)) as guidance,
        running(reporting_app(settings)) as reporting,
    ):
        client_id = await referred(intake, "te_office")
        consent_id = await consented_and_routed(intake, client_id)
        url = f"/cases/{client_id}"
        await eventually(lambda: guidance.get(url, headers=HEADERS), lambda r: r.status_code == 200)
        assert (
            await guidance.post("/guides", json=GUIDE, headers=headers("service_coordinator"))
        ).status_code == 201
        await assign_guide(guidance, client_id)

        moving = {"transferred_on": str(TODAY), "activation_plan": PLAN, "relationship_stays_open": True}
        elsewhere = await guidance.post(
            f"{url}/transfers", json={**moving, "receiving_municipality": "Hirvensalmi"}, headers=HEADERS
        )
        assert elsewhere.status_code == 409, elsewhere.text
        assert "disclosure_to_organisations:social_services:hirvensalmi" in elsewhere.json()["detail"]
        outside = await guidance.post(
            f"{url}/transfers", json={**moving, "receiving_municipality": "Helsinki"}, headers=HEADERS
        )
        # a municipality outside the centre is no valid input (ADR 0027): 422 naming the field
        assert outside.status_code == 422 and "receiving_municipality" in outside.text

        withdrawn = await intake.post(
            f"/clients/{client_id}/consents/{consent_id}/withdrawal",
            json={"withdrawn_on": str(TODAY)},
            headers=HEADERS,
        )
        assert withdrawn.status_code == 200, withdrawn.text

        async def known_withdrawn() -> object:
            async with pool.acquire() as conn:
                return await conn.fetchval(
                    "SELECT withdrawn_on FROM guidance.client_consents WHERE client_id = $1", client_id
                )

        await eventually(known_withdrawn, lambda on: on is not None)
        before = await stored_types(pool, client_id)
        refused = await guidance.post(f"{url}/transfers", json=moving, headers=HEADERS)
        assert refused.status_code == 409, refused.text
        detail = refused.json()["detail"]
        assert "disclosure_to_organisations:social_services:mikkeli" in detail
        assert f"consent {consent_id} was withdrawn on {TODAY}" in detail
        assert await stored_types(pool, client_id) == before, "nothing is written"
        assert "TransferredToSocialServices" not in before

        # Nothing was disclosed: the client's access report names no transfer.
        report = f"/audit/clients/{client_id}/access-report"

        async def entries() -> list[dict[str, Any]]:
            response = await reporting.get(report, headers=AUDITOR)
            assert response.status_code == 200, response.text
            found: list[dict[str, Any]] = response.json()
            return found

        seen = await eventually(entries, lambda found: any(e["person_id"] == "auditor-1" for e in found))
        assert not [e for e in seen if e["what"] == "transfer to rehabilitative work activity"]
        # The case itself is still the named guide's to read; other staff no longer see it.
        assert (await guidance.get(url, headers=SERVICE_GUIDE)).status_code == 200
        other = await guidance.get(url, headers=ADVISOR_2)
        assert other.status_code == 403 and "data_exchange_within_centre" in other.json()["detail"]


async def test_without_a_consent_the_te_side_reads_the_identity_of_its_own_referrals_and_of_its_own_task_only(
    settings,
) -> None:
    async with running(intake_app(settings)) as intake:
        self_referred = await referred(intake, "self_referral")
        te_referred = await referred(intake, "te_office")

        refused = await intake.get(f"/clients/{self_referred}", headers=ADVISOR_2)
        assert refused.status_code == 403, refused.text
        detail = refused.json()["detail"]
        assert "data_exchange_within_centre" in detail and "the referral came from self_referral" in detail
        assert "Meik" not in refused.text, "a refusal shows nothing of the client"
        own_task = await intake.get(f"/clients/{self_referred}", headers=HEADERS)
        assert own_task.status_code == 200, "the advisor who received the referral works on it"
        assert own_task.json()["client"]["last_name"] == "Meikäläinen"

        own_side = await intake.get(f"/clients/{te_referred}", headers=ADVISOR_2)
        assert own_side.status_code == 200, "the TE-office's own referral, read by the TE side"
        municipal = await intake.get(f"/clients/{te_referred}", headers=SERVICE_GUIDE)
        assert municipal.status_code == 403 and "data_exchange_within_centre" in municipal.json()["detail"]


async def test_after_a_withdrawal_the_identity_no_longer_crosses_to_staff_without_a_task(settings) -> None:
    async with running(intake_app(settings)) as intake:
        client_id = await referred(intake, "self_referral", by=SECRETARY)
        consent_id = await consented_and_routed(intake, client_id)
        url = f"/clients/{client_id}"
        assert (await intake.get(url, headers=ADVISOR_2)).status_code == 200, "under the consent"
        assert (await intake.get(url, headers=SECRETARY)).status_code == 200
        withdrawal = {"withdrawn_on": str(TODAY)}
        done = await intake.post(f"{url}/consents/{consent_id}/withdrawal", json=withdrawal, headers=HEADERS)
        assert done.status_code == 200, done.text

        refused = await intake.get(url, headers=ADVISOR_2)
        assert refused.status_code == 403, refused.text
        assert f"consent {consent_id} was withdrawn on {TODAY}" in refused.json()["detail"]
        assert (await intake.get(url, headers=SECRETARY)).status_code == 403, (
            "the intake task ended at the route"
        )
        assert (await intake.get(url, headers=SERVICE_GUIDE)).status_code == 403
        assert (await intake.get(url, headers=HEADERS)).status_code == 200, (
            "the assessor answers for the route"
        )


async def timeline_reads(pool: Any, schema: str, client_id: str) -> list[tuple[str, str]]:
    """(who, what) of the access-log entries of ``schema``'s timeline reads of the client."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            f"SELECT envelope->'data'->'actor'->>'person_id' AS who, envelope->'data'->>'what' AS what "
            f"FROM {schema}.events WHERE event_type = 'ClientDataAccessed' "
            "AND (envelope->'data'->'client_ids')::jsonb ? $1 AND envelope->'data'->>'what' LIKE '%timeline' "
            "ORDER BY global_position",
            client_id,
        )
    return [(r["who"], r["what"]) for r in rows]


async def test_a_clients_timeline_is_shown_as_far_as_the_case_reads_allow_and_each_read_is_logged(
    settings, pool
) -> None:
    """A TE-office referral's intake steps are the TE side's until the client consents to
    the exchange: the municipal guide is refused with the consent named, the TE side reads
    them; after the consent and the route both parts are the guide's. Each answer says
    what, when and who only, and each read is in the access log."""
    async with running(intake_app(settings)) as intake, running(guidance_app(settings)) as guidance:
        client_id = await referred(intake, "te_office")
        url = f"/clients/{client_id}/timeline"

        refused = await intake.get(url, headers=SERVICE_GUIDE)
        assert refused.status_code == 403, refused.text
        assert refused.json()["missing_consents"] == ["data_exchange_within_centre"]
        assert "Meik" not in refused.text
        own_side = await intake.get(url, headers=ADVISOR_2)
        assert own_side.status_code == 200, own_side.text
        assert [(e["event_type"], e["actor_person_id"]) for e in own_side.json()] == [
            ("ClientReferred", "advisor-1")
        ]
        assert "Meik" not in own_side.text and "identity" not in own_side.text, "what, when, who only"
        assert await timeline_reads(pool, "intake", client_id) == [("advisor-2", "intake timeline")], (
            "a refused read shows nothing and is no read"
        )

        await consented_and_routed(intake, client_id)
        steps = await intake.get(url, headers=SERVICE_GUIDE)
        assert steps.status_code == 200, steps.text
        assert [e["event_type"] for e in steps.json()] == [
            "ClientReferred",
            "ConsentGiven",
            "AssessmentCompleted",
        ]
        assert {e["source"] for e in steps.json()} == {"intake"}

        async def guidance_part() -> Any:
            return await guidance.get(f"/cases/{client_id}/timeline", headers=SERVICE_GUIDE)

        opened = await eventually(guidance_part, lambda r: r.status_code == 200)
        assert [e["event_type"] for e in opened.json()][:1] == ["GuidanceCaseOpened"]
        assert [e["stream_version"] for e in opened.json()] == list(range(1, len(opened.json()) + 1))
        outsider = await guidance.get(f"/cases/{client_id}/timeline", headers=HIRVENSALMI_SW)
        assert outsider.status_code == 403, "guidance's part answers to guidance's case rule"
        assert ("guide-1", "guidance timeline") in await timeline_reads(pool, "guidance", client_id)
        assert ("guide-1", "intake timeline") in await timeline_reads(pool, "intake", client_id)
        missing = await intake.get("/clients/no-such-client/timeline", headers=ADVISOR_2)
        assert missing.status_code == 404, missing.text
