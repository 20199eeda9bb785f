"""From intake's API to the final assessment on the TE-office's feed: guidance consumes
the assessment exactly once and carries the relationship to closure, against real NATS
and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from nats.js.api import ConsumerConfig, DeliverPolicy

from contracts.envelope import CloudEventEnvelope
from services.guidance.app import create_app as guidance_app
from services.intake.app import create_app as intake_app
from tests.support.apps import eventually, running
from tests.support.auth import headers
from tests.support.factories import HEADERS, identity_code, referral_request

pytestmark = pytest.mark.integration

TODAY = datetime.now(UTC).date()
AREAS = [
    "competence",
    "motivation",
    "work_ability",
    "social_functioning",
    "material_resources",
    "labour_market_position",
]
COORDINATOR = headers("service_coordinator", "coord-1", "mikkeli")
NURSE = headers("nurse", "nurse-1", "mikkeli")
SOCIAL_SERVICES = headers("social_worker", "sw-1", "social_services:mikkeli")
JOINT = {
    "decided_on": str(TODAY),
    "te_office_person_id": "advisor-1",
    "municipality_person_id": "sw-1",
    "kela_person_id": "kela-1",
}


async def routed_client(intake, route: str = "individual_service_guidance") -> tuple[str, str]:
    code = identity_code()
    referral = referral_request(code=code)
    referral["referral_date"] = str(TODAY - timedelta(days=20))
    client_id = (await intake.post("/referrals", json=referral, headers=HEADERS)).json()["client_id"]
    scopes = {
        "scopes": ["move_to_centre", "data_exchange_within_centre", "disclosure_to_organisations"],
        "organisations": ["social_services:mikkeli"],
        "given_on": str(TODAY),
    }
    assert (
        await intake.post(f"/clients/{client_id}/consents", json=scopes, headers=HEADERS)
    ).status_code == 201
    assessment = {
        "assessed_on": str(TODAY),
        "capacity_allows_rehabilitative_work": True,
        "profile": "centre",
        "ministry_segment": 3,
        "route": route,
        "assessors": [{"person_id": "advisor-1", "role": "employment_advisor", "organisation": "te-office"}],
        "findings": [{"area": a, "support_need": "some"} for a in AREAS],
    }
    response = await intake.post(f"/clients/{client_id}/assessment", json=assessment, headers=HEADERS)
    assert response.status_code == 201, response.text
    return client_id, code


async def te_feed(nc, settings) -> list[CloudEventEnvelope]:
    js = nc.jetstream()
    subject = f"{settings.namespace}.events.guidance.te.te-office.>"
    try:
        sub = await js.subscribe(
            subject,
            stream=settings.events_stream,
            ordered_consumer=True,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
        )
    except Exception:
        return []
    out = []
    try:
        while True:
            try:
                msg = await sub.next_msg(timeout=0.5)
            except Exception:
                break
            out.append(CloudEventEnvelope.from_bytes(msg.data))
    finally:
        await sub.unsubscribe()
    return out


async def test_a_routed_client_is_followed_to_closure_and_the_final_assessment_reaches_the_te_office(
    settings, nats_client
) -> None:
    async with (
        running(intake_app(settings)) as intake,
        running(guidance_app(settings, caseload_limit=1)) as guidance,
    ):
        client_id, code = await routed_client(intake)
        other_id, _ = await routed_client(intake)

        async def waiting() -> list[dict]:
            return (await guidance.get("/waiting", headers=HEADERS)).json()

        listed = await eventually(waiting, lambda w: {client_id, other_id} <= {e["client_id"] for e in w})
        assert all(e["waiting_days"] == 0 for e in listed)

        guide = {
            "person_id": "guide-1",
            "name": "Sari Ohjaaja",
            "role": "service_guide",
            "areas": ["Mikkeli"],
        }
        assert (await guidance.post("/guides", json=guide, headers=COORDINATOR)).status_code == 201
        suggested = (await guidance.get(f"/cases/{client_id}/guide-suggestions", headers=HEADERS)).json()
        assert suggested[0]["guide"]["person_id"] == "guide-1" and suggested[0]["covers_area"]

        assign = {"guide_person_id": "guide-1", "assigned_on": str(TODAY)}
        assert (
            await guidance.post(f"/cases/{client_id}/guide", json=assign, headers=HEADERS)
        ).status_code == 200
        full = await guidance.post(f"/cases/{other_id}/guide", json=assign, headers=HEADERS)
        assert full.status_code == 409 and "limit 1" in full.json()["detail"]
        forced = await guidance.post(
            f"/cases/{other_id}/guide",
            headers=HEADERS,
            json={**assign, "override_reason": "pair covers the area"},
        )
        assert forced.status_code == 403, "only a coordinator overrides the limit"
        forced = await guidance.post(
            f"/cases/{other_id}/guide",
            headers=COORDINATOR,
            json={**assign, "override_reason": "pair covers the area"},
        )
        assert forced.status_code == 200
        assert [g["caseload"] for g in (await guidance.get("/guides", headers=HEADERS)).json()] == [2]

        measures = [
            {"measure_id": "m1", "kind": "work_try_out", "provider": "Vartti", "start": str(TODAY)},
            {"measure_id": "m2", "kind": "health_check", "provider": "TYP nurse", "start": str(TODAY)},
        ]
        bad = [{**measures[0], "kind": "skydiving"}]
        refused = await guidance.post(
            f"/cases/{client_id}/plan", headers=HEADERS, json={"revised_on": str(TODAY), "measures": bad}
        )
        assert refused.status_code == 409 and "skydiving" in refused.json()["detail"]
        assert (
            await guidance.post(
                f"/cases/{client_id}/plan",
                headers=HEADERS,
                json={"revised_on": str(TODAY), "measures": measures},
            )
        ).status_code == 200
        assert (
            await guidance.post(
                f"/cases/{client_id}/phase",
                headers=HEADERS,
                json={"phase": "survey_and_research", "changed_on": str(TODAY)},
            )
        ).status_code == 200

        check = {
            "checked_on": str(TODAY),
            "work_restrictions_found": True,
            "recommended_next_step": "occupational health consultation",
            "details": "back pain since 2019",
        }
        assert (
            await guidance.post(f"/cases/{client_id}/health-check", json=check, headers=HEADERS)
        ).status_code == 403
        assert (
            await guidance.post(f"/cases/{client_id}/health-check", json=check, headers=NURSE)
        ).status_code == 200
        case = (await guidance.get(f"/cases/{client_id}", headers=HEADERS)).json()
        assert case["health_check"]["work_restrictions_found"] is True
        assert "back pain" not in str(case), "details stay in the health partition"
        assert (await guidance.get(f"/cases/{client_id}/health-details", headers=HEADERS)).status_code == 403
        details = (await guidance.get(f"/cases/{client_id}/health-details", headers=NURSE)).json()
        assert details[0]["details"] == "back pain since 2019"

        plan = {"start": str(TODAY), "months": 6, "days_per_week": 5, "hours_per_day": 8, "place": "Vartti"}
        too_much = await guidance.post(
            f"/cases/{client_id}/transfers",
            headers=HEADERS,
            json={"transferred_on": str(TODAY), "activation_plan": plan, "relationship_stays_open": True},
        )
        assert too_much.status_code == 409 and "days per week" in too_much.json()["detail"]
        moved = await guidance.post(
            f"/cases/{client_id}/transfers",
            headers=HEADERS,
            json={
                "transferred_on": str(TODAY),
                "activation_plan": {**plan, "days_per_week": 4},
                "relationship_stays_open": True,
            },
        )
        assert moved.status_code == 201, moved.text
        transfer_id = moved.json()["transfer_id"]
        ack = {"accepted": True, "acknowledged_on": str(TODAY)}
        wrong = await guidance.post(
            f"/cases/{client_id}/transfers/{transfer_id}/acknowledgement", json=ack, headers=HEADERS
        )
        assert wrong.status_code == 403
        assert (
            await guidance.post(
                f"/cases/{client_id}/transfers/{transfer_id}/acknowledgement",
                json=ack,
                headers=SOCIAL_SERVICES,
            )
        ).status_code == 200
        assert (await guidance.get(f"/cases/{client_id}", headers=HEADERS)).json()[
            "status"
        ] == "with_social_services"
        back = await guidance.post(
            f"/cases/{client_id}/transfers/{transfer_id}/return",
            headers=SOCIAL_SERVICES,
            json={"returned_on": str(TODAY)},
        )
        assert back.status_code == 200
        case = (await guidance.get(f"/cases/{client_id}", headers=HEADERS)).json()
        assert (case["status"], case["guide"]) == ("active", "guide-1")

        closure = {
            "closed_on": str(TODAY),
            "outcome": "outside_labour_force",
            "services_continue": "te_office",
            "final_assessment": {
                "text": "Pension inquiry started.",
                "work_ability_clarified": True,
                "competence_improved": False,
            },
        }
        no_reason = await guidance.post(f"/cases/{client_id}/closure", json=closure, headers=HEADERS)
        assert no_reason.status_code == 409 and "reason" in no_reason.json()["detail"]
        closure["outside_labour_force_reason"] = "pension"
        no_joint = await guidance.post(f"/cases/{client_id}/closure", json=closure, headers=HEADERS)
        assert no_joint.status_code == 409 and "joint decision" in no_joint.json()["detail"]
        closed = await guidance.post(
            f"/cases/{client_id}/closure", json={**closure, "joint_decision": JOINT}, headers=HEADERS
        )
        assert closed.status_code == 200, closed.text
        assert [g["caseload"] for g in (await guidance.get("/guides", headers=HEADERS)).json()] == [1]

        feed = await eventually(lambda: te_feed(nats_client, settings), lambda f: len(f) == 1)
    issued = feed[0]
    assert issued.type == "FinalAssessmentIssued"
    assert issued.subject == client_id
    assert issued.data["personal_identity_code"] == code
    assert issued.data["outcome"] == "outside_labour_force"
    assert issued.data["final_assessment"]["text"] == "Pension inquiry started."
    assert "back pain" not in issued.to_bytes().decode()


async def test_only_routes_into_the_centre_open_a_case_and_rehabilitative_work_opens_it_with_social_services(
    settings,
) -> None:
    async with running(intake_app(settings)) as intake, running(guidance_app(settings)) as guidance:
        guided, _ = await routed_client(intake)
        rehab, _ = await routed_client(intake, "rehabilitative_work_activity")
        elsewhere, _ = await routed_client(intake, "job_search_services")

        async def status(client_id: str) -> int:
            return (await guidance.get(f"/cases/{client_id}", headers=HEADERS)).status_code

        await eventually(lambda: status(rehab), lambda s: s == 200)
        await eventually(lambda: status(guided), lambda s: s == 200)
        assert (await guidance.get(f"/cases/{rehab}", headers=HEADERS)).json()[
            "status"
        ] == "with_social_services"
        assert (await guidance.get(f"/cases/{guided}", headers=HEADERS)).json()[
            "status"
        ] == "waiting_for_guide"
        assert await status(elsewhere) == 404
        waiting = {e["client_id"] for e in (await guidance.get("/waiting", headers=HEADERS)).json()}
        assert waiting == {guided}
