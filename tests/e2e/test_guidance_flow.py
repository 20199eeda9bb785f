"""From intake's API to the final assessment on the TE-office's feed: guidance consumes
the assessment exactly once and carries the relationship to closure, against real NATS
and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from nats.js.api import ConsumerConfig, DeliverPolicy

from contracts.envelope import CloudEventEnvelope
from runtime import clock, erasure
from services.guidance.app import create_app as guidance_app
from services.intake.app import create_app as intake_app
from tests.support.apps import eventually, running
from tests.support.auth import headers
from tests.support.closures import GUIDE_1, proposal, propose_closure
from tests.support.factories import AREAS, HEADERS, identity_code, referral_request
from tests.support.problems import invalid_fields

pytestmark = pytest.mark.integration

TODAY = clock.today()  # the Finnish business date, as the services see it
COORDINATOR = headers("service_coordinator", "coord-1", "mikkeli")
NURSE = headers("nurse", "nurse-1", "mikkeli")
SOCIAL_SERVICES = headers("social_worker", "sw-1", "social_services:mikkeli")
JOINT = {
    "decided_on": str(TODAY),
    "te_office_person_id": "advisor-1",
    "municipality_person_id": "sw-1",
    "kela_person_id": "kela-1",
}


GUIDE = {"person_id": "guide-1", "name": "Sari Ohjaaja", "role": "service_guide", "areas": ["Mikkeli"]}


async def assign_guide(guidance, client_id: str) -> None:
    """Assign guide-1 (already added) to the client's case, today."""
    assign = {"guide_person_id": "guide-1", "assigned_on": str(TODAY)}
    assert (await guidance.post(f"/cases/{client_id}/guide", json=assign, headers=HEADERS)).status_code == 200


async def routed_client(
    intake, route: str = "individual_service_guidance", *, on: date | None = None
) -> tuple[str, str]:
    client_id, code, _ = await routed(intake, route, on=on)
    return client_id, code


async def routed(
    intake, route: str = "individual_service_guidance", *, on: date | None = None
) -> tuple[str, str, str]:
    """A client referred, consenting and assessed (``on``, by default today): their id,
    identity code and the AssessmentCompleted event's id."""
    today = on or TODAY
    code = identity_code()
    referral = referral_request(code=code)
    referral["referral_date"] = str(today - timedelta(days=20))
    client_id = (await intake.post("/referrals", json=referral, headers=HEADERS)).json()["client_id"]
    scopes = {
        "scopes": ["move_to_centre", "data_exchange_within_centre", "disclosure_to_organisations"],
        "organisations": ["social_services:mikkeli"],
        "given_on": str(today),
    }
    assert (
        await intake.post(f"/clients/{client_id}/consents", json=scopes, headers=HEADERS)
    ).status_code == 201
    assessment = {
        "assessed_on": str(today),
        "capacity_allows_rehabilitative_work": True,
        "profile": "centre",
        "ministry_segment": 3,
        "route": route,
        "assessors": [{"person_id": "advisor-1", "role": "employment_advisor", "organisation": "te-office"}],
        "findings": [{"area": a, "support_need": "some"} for a in AREAS],
    }
    response = await intake.post(f"/clients/{client_id}/assessment", json=assessment, headers=HEADERS)
    assert response.status_code == 201, response.text
    [assessed] = response.json()["event_ids"]
    return client_id, code, assessed


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


async def revealed(pool, envelope: CloudEventEnvelope) -> CloudEventEnvelope:
    """The envelope as Reitti reads it: on the wire its personal fields are sealed with the
    client's key (docs/adr/0011); partners get them readable on their own feeds."""
    assert erasure.is_sealed(envelope.data), "personal fields travel encrypted"
    return erasure.reveal(envelope, await erasure.fetch_keys(pool, [envelope.subject]))


async def test_a_routed_client_is_followed_to_closure_and_the_final_assessment_reaches_the_te_office(
    settings, nats_client, pool
) -> None:
    async with (
        running(intake_app(settings)) as intake,
        running(guidance_app(settings, caseload_limit=1)) as guidance,
    ):
        client_id, code = await routed_client(intake)
        other_id, _ = await routed_client(intake)

        async def waiting() -> list[dict[str, Any]]:
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
        joint = {**closure, "joint_decision": JOINT}
        unproposed = await guidance.post(f"/cases/{client_id}/closure", json=joint, headers=HEADERS)
        assert unproposed.status_code == 409 and "first proposes" in unproposed.json()["detail"]
        url = f"/cases/{client_id}/closure-proposal"
        not_the_guide = await guidance.post(
            url, json=proposal(outcome="outside_labour_force"), headers=HEADERS
        )
        assert not_the_guide.status_code == 403 and "named guide" in not_the_guide.json()["detail"]
        nurse = await guidance.post(url, json=proposal(), headers=NURSE)
        assert nurse.status_code == 403 and "closure:propose" in nurse.json()["detail"]
        await propose_closure(guidance, client_id)
        pending = (await guidance.get(f"/cases/{client_id}", headers=HEADERS)).json()["closure_proposal"]
        assert (pending["proposed_by"], pending["decision"]) == ("guide-1", "joint_assessment")
        own = await guidance.post(f"/cases/{client_id}/closure", json=joint, headers=GUIDE_1)
        assert own.status_code == 403 and "their own proposal" in own.json()["detail"]
        closed = await guidance.post(f"/cases/{client_id}/closure", json=joint, headers=HEADERS)
        assert closed.status_code == 200, closed.text
        assert [g["caseload"] for g in (await guidance.get("/guides", headers=HEADERS)).json()] == [1]

        feed = await eventually(lambda: te_feed(nats_client, settings), lambda f: len(f) == 1)
        assert code not in feed[0].to_bytes().decode()
        issued = await revealed(pool, feed[0])
    assert issued.type == "FinalAssessmentIssued"
    assert issued.subject == client_id
    assert issued.data["personal_identity_code"] == code
    assert issued.data["outcome"] == "outside_labour_force"
    assert issued.data["final_assessment"]["text"] == "Pension inquiry started."
    assert "back pain" not in issued.to_bytes().decode()


async def consumed(pool, event_id: str) -> bool:
    """Whether guidance's consumer of intake's events has applied ``event_id``."""
    async with pool.acquire() as conn:
        return bool(
            await conn.fetchval(
                "SELECT 1 FROM guidance.consumed_events WHERE consumer = 'guidance-intake' AND event_id = $1",
                UUID(event_id),
            )
        )


async def test_only_routes_into_the_centre_open_a_case_and_rehabilitative_work_opens_it_with_social_services(
    settings, pool
) -> None:
    async with running(intake_app(settings)) as intake, running(guidance_app(settings)) as guidance:
        guided, _ = await routed_client(intake)
        rehab, _ = await routed_client(intake, "rehabilitative_work_activity")
        elsewhere, _, elsewhere_assessed = await routed(intake, "job_search_services")

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
        # guidance has seen the assessment that routes elsewhere, and opened nothing for it
        await eventually(lambda: consumed(pool, elsewhere_assessed), bool)
        assert await status(elsewhere) == 404
        waiting = {e["client_id"] for e in (await guidance.get("/waiting", headers=HEADERS)).json()}
        assert waiting == {guided}


async def test_a_client_opened_with_social_services_is_acknowledged_returned_and_then_guided(
    settings,
) -> None:
    async with running(intake_app(settings)) as intake, running(guidance_app(settings)) as guidance:
        client_id, _ = await routed_client(intake, "rehabilitative_work_activity")

        async def case() -> dict[str, Any]:
            response = await guidance.get(f"/cases/{client_id}", headers=HEADERS)
            return response.json() if response.status_code == 200 else {}

        opened = await eventually(case, bool)
        assert opened["status"] == "with_social_services"
        assert opened["transfers"] == [
            {
                "transfer_id": "opening",
                "receiving_municipality": "Mikkeli",
                "transferred_on": str(TODAY),
                "stays_open": True,
                "accepted": None,
                "acknowledged_on": None,
                "returned_on": None,
            }
        ]
        assert opened["flags"]["transfer_unacknowledged"] is False
        url = f"/cases/{client_id}/transfers/opening"
        ack = {"accepted": True, "acknowledged_on": str(TODAY)}
        elsewhere = headers("social_worker", "sw-9", "social_services:puumala")
        assert (await guidance.post(f"{url}/acknowledgement", json=ack, headers=elsewhere)).status_code == 403
        acknowledged = await guidance.post(f"{url}/acknowledgement", json=ack, headers=SOCIAL_SERVICES)
        assert acknowledged.status_code == 200, acknowledged.text
        assert (await case())["transfers"][0]["accepted"] is True

        back = await guidance.post(f"{url}/return", json={"returned_on": str(TODAY)}, headers=SOCIAL_SERVICES)
        assert back.status_code == 200, back.text
        returned = await case()
        assert (returned["status"], returned["guide"], returned["waiting_since"]) == (
            "waiting_for_guide",
            None,
            str(TODAY),
        )
        assert client_id in {e["client_id"] for e in (await guidance.get("/waiting", headers=HEADERS)).json()}
        late = await guidance.post(f"{url}/acknowledgement", json=ack, headers=SOCIAL_SERVICES)
        assert late.status_code == 409

        assert (await guidance.post("/guides", json=GUIDE, headers=COORDINATOR)).status_code == 201
        await assign_guide(guidance, client_id)
        assert ((await case())["status"], (await case())["guide"]) == ("active", "guide-1")
        assert [g["caseload"] for g in (await guidance.get("/guides", headers=HEADERS)).json()] == [1]


async def test_a_client_transferred_out_leaves_the_caseload_and_can_return_or_be_closed(
    settings, nats_client, pool
) -> None:
    async with running(intake_app(settings)) as intake, running(guidance_app(settings)) as guidance:
        client_id, code = await routed_client(intake)

        async def case() -> dict[str, Any]:
            response = await guidance.get(f"/cases/{client_id}", headers=HEADERS)
            return response.json() if response.status_code == 200 else {}

        async def caseloads() -> list[int]:
            return [g["caseload"] for g in (await guidance.get("/guides", headers=HEADERS)).json()]

        await eventually(case, bool)
        assert (await guidance.post("/guides", json=GUIDE, headers=COORDINATOR)).status_code == 201
        await assign_guide(guidance, client_id)
        assert await caseloads() == [1]

        plan = {"start": str(TODAY), "months": 6, "days_per_week": 4, "hours_per_day": 6, "place": "Vartti"}
        moving = {"transferred_on": str(TODAY), "activation_plan": plan, "relationship_stays_open": False}
        first = await guidance.post(f"/cases/{client_id}/transfers", json=moving, headers=HEADERS)
        assert first.status_code == 201, first.text
        assert ((await case())["status"], await caseloads()) == ("transferred_out", [0])
        phase = await guidance.post(
            f"/cases/{client_id}/phase",
            json={"phase": "survey_and_research", "changed_on": str(TODAY)},
            headers=HEADERS,
        )
        assert phase.status_code == 409
        assert (
            "the relationship ended at the transfer: record the client's return or close it"
            in phase.json()["detail"]
        )

        back = await guidance.post(
            f"/cases/{client_id}/transfers/{first.json()['transfer_id']}/return",
            json={"returned_on": str(TODAY)},
            headers=SOCIAL_SERVICES,
        )
        assert back.status_code == 200, back.text
        assert ((await case())["status"], (await case())["guide"], await caseloads()) == (
            "active",
            "guide-1",
            [1],
        )

        second = await guidance.post(f"/cases/{client_id}/transfers", json=moving, headers=HEADERS)
        assert second.status_code == 201, second.text
        assert await caseloads() == [0]
        closure = {
            "closed_on": str(TODAY),
            "outcome": "unemployed",
            "services_continue": "te_office",
            "final_assessment": {
                "text": "Continues in rehabilitative work activity.",
                "work_ability_clarified": False,
                "competence_improved": False,
            },
            "joint_decision": JOINT,
        }
        await propose_closure(guidance, client_id)
        closed = await guidance.post(f"/cases/{client_id}/closure", json=closure, headers=HEADERS)
        assert closed.status_code == 200, closed.text
        assert ((await case())["status"], await caseloads()) == ("closed", [0])
        feed = await eventually(lambda: te_feed(nats_client, settings), lambda f: len(f) == 1)
        issued = await revealed(pool, feed[0])
    assert (issued.type, issued.subject, issued.data["personal_identity_code"]) == (
        "FinalAssessmentIssued",
        client_id,
        code,
    )


async def test_guidance_counts_days_by_the_finnish_date_even_when_it_is_still_yesterday_in_utc(
    settings, monkeypatch
) -> None:
    from runtime import clock as intake_clock

    late_evening = datetime(2024, 6, 14, 21, 30, tzinfo=UTC)  # 00:30 on 15 June in Helsinki
    monkeypatch.delenv(clock.TIME_ZONE_VARIABLE, raising=False)
    for module in (clock, intake_clock):
        monkeypatch.setattr(module, "_utc_now", lambda: late_evening)
    async with running(intake_app(settings)) as intake, running(guidance_app(settings)) as guidance:
        client_id, _ = await routed_client(intake, on=date(2024, 6, 15))

        async def waiting() -> list[dict[str, Any]]:
            return (await guidance.get("/waiting", headers=HEADERS)).json()

        [entry] = await eventually(waiting, lambda w: len(w) == 1)
        assert (entry["client_id"], entry["waiting_since"], entry["waiting_days"]) == (
            client_id,
            "2024-06-15",
            0,
        )
        case = (await guidance.get(f"/cases/{client_id}", headers=HEADERS)).json()
        assert case["waiting_days"] == 0


async def test_a_nul_character_in_a_guidance_request_is_a_422_naming_the_field_not_a_500(settings) -> None:
    async with running(guidance_app(settings)) as guidance:
        measures = [{"measure_id": "m1", "kind": "training", "provider": "Vart\x00ti", "start": str(TODAY)}]
        plan = await guidance.post(
            "/cases/client-1/plan", json={"revised_on": str(TODAY), "measures": measures}, headers=HEADERS
        )
        assert plan.status_code == 422, plan.text
        [error] = plan.json()["errors"]
        assert (error["in"], error["field"], error["code"]) == ("body", "measures", "nul_character")
        assert error["reason"].startswith("measures.0.provider: must not contain the NUL character")
        guide = {"person_id": "guide-\x00", "name": "G", "role": "service_guide"}
        added = await guidance.post("/guides", json=guide, headers=COORDINATOR)
        assert (added.status_code, invalid_fields(added)) == (422, [("body", "person_id")])
        in_path = await guidance.get("/cases/client-%00", headers=HEADERS)
        assert (in_path.status_code, invalid_fields(in_path)) == (422, [("path", "client_id")])
        in_query = await guidance.get("/worklist", params={"guide": "g\x00"}, headers=HEADERS)
        assert (in_query.status_code, invalid_fields(in_query)) == (422, [("query", "guide")])
        assert (await guidance.get("/guides", headers=HEADERS)).json() == [], "nothing was written"


async def test_two_closures_at_once_give_one_closure_and_one_clear_refusal_not_a_server_error(
    settings,
) -> None:
    """Closing records the retention date on the client's key row and appends; the append
    holds that row shared (ADR 12). Two closures at once: one closes, the other is refused
    with a 409 that says why, never a server error."""
    async with (
        running(intake_app(settings)) as intake,
        running(guidance_app(settings)) as guidance,
    ):
        client_id, _ = await routed_client(intake)

        async def case_status() -> int:
            return (await guidance.get(f"/cases/{client_id}", headers=HEADERS)).status_code

        await eventually(case_status, lambda s: s == 200)
        assert (await guidance.post("/guides", json=GUIDE, headers=COORDINATOR)).status_code == 201
        await assign_guide(guidance, client_id)
        closure = {
            "closed_on": str(TODAY),
            "outcome": "unemployed",
            "services_continue": "te_office",
            "final_assessment": {
                "text": "Jatkaa TE-palveluissa.",
                "work_ability_clarified": False,
                "competence_improved": False,
            },
            "joint_decision": JOINT,
        }
        for _ in range(3):  # the race is narrow: try it a few times on fresh clients
            await propose_closure(guidance, client_id)
            responses = await asyncio.gather(
                *(
                    guidance.post(f"/cases/{client_id}/closure", json=closure, headers=HEADERS)
                    for _ in range(2)
                )
            )
            statuses = sorted(r.status_code for r in responses)
            assert statuses == [200, 409], [r.text for r in responses]
            refusal = next(r.json() for r in responses if r.status_code == 409)
            assert refusal["detail"], refusal
            client_id, _ = await routed_client(intake)
            await eventually(case_status, lambda s: s == 200)
            await assign_guide(guidance, client_id)
