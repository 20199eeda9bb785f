"""A client from the TE-office info list to a routed assessment, through intake's API
alone, against real NATS and PostgreSQL; the events land in JetStream and match their
committed JSON Schemas."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from nats.js.api import ConsumerConfig, DeliverPolicy

from contracts.envelope import CloudEventEnvelope
from contracts.schema_export import SCHEMA_DIR
from contracts.subjects import events_wildcard
from runtime import clock
from services.intake.app import create_app as intake_app
from tests.support.apps import eventually, running
from tests.support.factories import AREAS, HEADERS, identity_code, referral_request
from tests.support.problems import invalid_fields

pytestmark = pytest.mark.integration

TODAY = clock.today()  # the Finnish business date, as intake sees it


def info_list(codes: list[str], *, bad_line: bool = True, name: tuple[str, str] | None = None) -> bytes:
    lines = ["personal_identity_code;first_name;last_name;municipality;referral_date;subsidy_days"]
    for n, code in enumerate(codes):
        first, last = name or (f"Etunimi{n}", "Sukunimi")
        lines.append(f"{code};{first};{last};Mikkeli;{TODAY - timedelta(days=10)};{300 + n}")
    if bad_line:
        lines.insert(2, f"not-a-code;X;Y;Atlantis;{TODAY};-1")
    return ("\n".join(lines) + "\n").encode()


def assessment_body(route: str = "individual_service_guidance") -> dict[str, Any]:
    return {
        "assessed_on": str(TODAY),
        "assessors": [
            {"person_id": "advisor-1", "role": "employment_advisor", "organisation": "te-office"},
            {"person_id": "sw-7", "role": "social_worker", "organisation": "mikkeli"},
        ],
        "findings": [{"area": a, "support_need": "some", "notes": "free text"} for a in AREAS],
        "capacity_allows_rehabilitative_work": True,
        "profile": "centre",
        "ministry_segment": 3,
        "route": route,
    }


async def stream_envelopes(nc, settings) -> list[tuple[str, CloudEventEnvelope]]:
    js = nc.jetstream()
    total = (await js.stream_info(settings.events_stream)).state.messages
    sub = await js.subscribe(
        events_wildcard(settings.namespace),
        stream=settings.events_stream,
        ordered_consumer=True,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
    )
    out = []
    try:
        for _ in range(total):
            msg = await sub.next_msg(timeout=5)
            out.append((msg.subject, CloudEventEnvelope.from_bytes(msg.data)))
    finally:
        await sub.unsubscribe()
    return out


async def test_a_client_goes_from_the_info_list_to_a_routed_assessment_through_the_api(
    settings, nats_client, monkeypatch
) -> None:
    real_now, ahead = clock._utc_now, [timedelta(0)]
    monkeypatch.setattr(clock, "_utc_now", lambda: real_now() + ahead[0])  # the business clock, movable
    codes = [identity_code() for _ in range(3)]
    async with running(intake_app(settings)) as intake:
        csv_headers = {**HEADERS, "content-type": "text/csv"}
        imported = (
            await intake.post("/referrals/import", content=info_list(codes), headers=csv_headers)
        ).json()
        assert (imported["rows"], imported["new_cases"], imported["already_present"]) == (4, 3, 0)
        assert {e["line"] for e in imported["errors"]} == {3}
        assert {e["field"] for e in imported["errors"]} >= {"personal_identity_code", "subsidy_days"}

        again = (await intake.post("/referrals/import", content=info_list(codes), headers=csv_headers)).json()
        assert (again["new_cases"], again["already_present"]) == (0, 3), "importing twice adds nothing"

        queue = (await intake.get("/queue", headers=HEADERS)).json()
        assert len(queue) == 3
        assert {q["waiting_for"] for q in queue} == {"invitation"}
        assert all(q["owner"] is None for q in queue)
        assert all(q["rule_set"].startswith("Act 381/2023") for q in queue), "rules of the referral date"
        client_id = queue[0]["client_id"]

        picked = await intake.post(f"/queue/{client_id}/pick", headers=HEADERS)
        assert picked.status_code == 200
        owners = {q["client_id"]: q["owner"] for q in (await intake.get("/queue", headers=HEADERS)).json()}
        assert owners[client_id] == "advisor-1"

        starts = (datetime.now(UTC) + timedelta(days=2)).isoformat()
        session = (
            await intake.post(
                "/info-sessions", json={"starts_at": starts, "place": "TYP", "capacity": 1}, headers=HEADERS
            )
        ).json()
        invite = await intake.post(
            f"/info-sessions/{session['session_id']}/invitations",
            json={"client_id": client_id},
            headers=HEADERS,
        )
        assert invite.status_code == 201
        full = await intake.post(
            f"/info-sessions/{session['session_id']}/invitations",
            json={"client_id": queue[1]["client_id"]},
            headers=HEADERS,
        )
        assert full.status_code == 409 and "full" in full.json()["detail"]

        attendance = {
            "session_id": session["session_id"],
            "attended": True,
            "attended_on": str(TODAY),
            "initial_survey_form_given": True,
            "data_protection_leaflet_given": True,
        }
        url = f"/clients/{client_id}/info-session-attendance"
        early = await intake.post(url, headers=HEADERS, json=attendance)
        assert early.status_code == 409 and "before the info session's date" in early.json()["detail"]
        session_day = datetime.fromisoformat(starts).astimezone(clock.zone()).date()
        on_the_day = {**attendance, "attended_on": str(session_day)}
        not_yet = await intake.post(url, headers=HEADERS, json=on_the_day)
        assert not_yet.status_code == 409 and "in the future" in not_yet.json()["detail"]
        ahead[0] = timedelta(days=2, hours=1)  # the session has begun
        tomorrow = {**attendance, "attended_on": str(clock.today() + timedelta(days=1))}
        future = await intake.post(url, headers=HEADERS, json=tomorrow)
        assert future.status_code == 409 and "in the future" in future.json()["detail"]
        attended = await intake.post(url, headers=HEADERS, json=on_the_day)
        assert attended.status_code == 200, attended.text
        booked = await intake.post(
            f"/clients/{client_id}/assessment-appointment",
            headers=HEADERS,
            json={
                "appointment_at": (datetime.now(UTC) + timedelta(days=5)).isoformat(),
                "assessor_person_id": "advisor-1",
            },
        )
        assert booked.status_code == 200
        waiting = {
            q["client_id"]: q["waiting_for"] for q in (await intake.get("/queue", headers=HEADERS)).json()
        }
        assert waiting[client_id] == "assessment"

        refused = await intake.post(
            f"/clients/{client_id}/assessment", json=assessment_body(), headers=HEADERS
        )
        assert refused.status_code == 409
        assert "move_to_centre" in refused.json()["detail"]
        # what is missing, for a caller to say it (the desk: services/desk/templates/forms.html)
        assert "move_to_centre" in refused.json()["missing_consents"]

        consent = await intake.post(
            f"/clients/{client_id}/consents",
            headers=HEADERS,
            json={"scopes": ["move_to_centre", "data_exchange_within_centre"], "given_on": str(TODAY)},
        )
        assert consent.status_code == 201

        done = await intake.post(f"/clients/{client_id}/assessment", json=assessment_body(), headers=HEADERS)
        assert done.status_code == 201, done.text

        case = (await intake.get(f"/clients/{client_id}", headers=HEADERS)).json()
        assert case["waiting_for"] == "routed"
        assert case["assessment"]["route"] == "individual_service_guidance"
        assert case["initial_survey_form_given"] and case["data_protection_leaflet_given"]
        assert case["info_session_attended_on"] == str(session_day)
        assert case["rules"]["rule_set"] == case["assessment"]["rule_set"]
        assert client_id not in {q["client_id"] for q in (await intake.get("/queue", headers=HEADERS)).json()}

        envelopes = await eventually(
            lambda: stream_envelopes(nats_client, settings),
            lambda found: any(e.type == "AssessmentCompleted" for _, e in found),
        )
    types = [e.type for _, e in envelopes if e.subject == client_id]
    assert types == [
        "ClientReferred",
        "ReferralPicked",
        "InvitedToInfoSession",
        "InfoSessionAttended",
        "AssessmentAppointmentBooked",
        "ConsentGiven",
        "AssessmentCompleted",
    ]
    for subject, envelope in envelopes:
        schema = json.loads((SCHEMA_DIR / f"{envelope.type}.v{envelope.schemaversion}.json").read_text())
        jsonschema.validate(envelope.data, schema)
        assert subject.endswith(f".{envelope.type}")
    assessed = next(s for s, e in envelopes if e.type == "AssessmentCompleted")
    assert assessed == f"{settings.namespace}.events.intake.centre.mikkeli.AssessmentCompleted"


async def test_intake_answers_bad_input_unknown_clients_and_refusals_clearly(settings, pool) -> None:
    async with running(intake_app(settings)) as intake:
        assert (await intake.get("/clients/client-nope", headers=HEADERS)).status_code == 404
        missing = await intake.post("/queue/client-nope/pick", headers=HEADERS)
        assert missing.status_code == 404 and "client-nope" in missing.json()["detail"]
        bad_check = referral_request()
        bad_check["client"]["personal_identity_code"] = "010190-123A"
        response = await intake.post("/referrals", json=bad_check, headers=HEADERS)
        assert response.status_code == 422 and "check character" in response.text
        wrong_type = await intake.post(
            "/referrals/import", content=b"x", headers={**HEADERS, "content-type": "application/pdf"}
        )
        assert wrong_type.status_code == 415 and "text/csv" in wrong_type.json()["detail"]
        first = await intake.post(
            "/referrals", json=referral_request(code=(code := identity_code())), headers=HEADERS
        )
        assert first.status_code == 201 and first.json()["outcome"] == "new_case"
        again = await intake.post("/referrals", json=referral_request(code=code), headers=HEADERS)
        assert again.status_code == 200 and again.json()["outcome"] == "already_present"
        assert again.json()["client_id"] == first.json()["client_id"]
        other = await intake.post(
            "/referrals", json=referral_request("self_referral", code=code), headers=HEADERS
        )
        assert other.json()["outcome"] == "recorded_on_existing_case"
        assert (await intake.get(f"/clients/{first.json()['client_id']}", headers=HEADERS)).json()[
            "duplicate_referrals"
        ] == 1
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM intake.case_overview") == 1


async def test_a_self_referred_client_on_an_info_list_imported_three_times_is_recorded_once(
    settings, pool
) -> None:
    code = identity_code()
    async with running(intake_app(settings)) as intake:
        self_referred = referral_request("self_referral", code=code)
        self_referred["referral_date"] = str(TODAY - timedelta(days=30))
        first = await intake.post("/referrals", json=self_referred, headers=HEADERS)
        assert first.status_code == 201
        client_id = first.json()["client_id"]
        csv_headers = {**HEADERS, "content-type": "text/csv"}
        imports = [
            (
                await intake.post(
                    "/referrals/import",
                    content=info_list([code], bad_line=False, name=("Maija", "Meikäläinen")),
                    headers=csv_headers,
                )
            ).json()
            for _ in range(3)
        ]
        assert [(i["new_cases"], i["recorded_on_existing"], i["already_present"]) for i in imports] == [
            (0, 1, 0),
            (0, 0, 1),
            (0, 0, 1),
        ]
        again = await intake.post("/referrals", json=self_referred, headers=HEADERS)
        assert again.json()["outcome"] == "already_present"
        case = (await intake.get(f"/clients/{client_id}", headers=HEADERS)).json()
        assert case["duplicate_referrals"] == 1
    async with pool.acquire() as conn:
        duplicates = await conn.fetchval(
            "SELECT count(*) FROM intake.events"
            " WHERE stream_id = $1 AND event_type = 'DuplicateReferralReceived'",
            client_id,
        )
    assert duplicates == 1


async def test_a_nul_character_in_a_request_is_a_422_naming_the_field_not_a_500(settings) -> None:
    async with running(intake_app(settings)) as intake:
        body = referral_request()
        body["client"]["first_name"] = "Ma\x00ija"
        refused = await intake.post("/referrals", json=body, headers=HEADERS)
        assert refused.status_code == 422, refused.text
        [error] = refused.json()["errors"]
        assert (error["in"], error["field"], error["code"]) == ("body", "client", "nul_character")
        assert error["reason"].startswith("client.first_name: must not contain the NUL character")
        assert "Ma" not in refused.text, "the rejected value is not echoed"

        client_id = (await intake.post("/referrals", json=referral_request(), headers=HEADERS)).json()[
            "client_id"
        ]
        consent = {"scopes": ["move_to_centre"], "given_on": str(TODAY)}
        given = await intake.post(f"/clients/{client_id}/consents", json=consent, headers=HEADERS)
        assert given.status_code == 201
        assessment = {**assessment_body("job_search_services"), "summary": "text\x00"}
        refused = await intake.post(f"/clients/{client_id}/assessment", json=assessment, headers=HEADERS)
        assert (refused.status_code, invalid_fields(refused)) == (422, [("body", "summary")])

        in_path = await intake.get("/clients/client-%00", headers=HEADERS)
        assert in_path.status_code == 422
        assert invalid_fields(in_path) == [("path", "client_id")]
        in_query = await intake.get("/queue", params={"municipality": "Mikkeli\x00"}, headers=HEADERS)
        assert (in_query.status_code, invalid_fields(in_query)) == (422, [("query", "municipality")])

        row = f"{identity_code()};Ma\x00ija;Meik;Mikkeli;{TODAY};300"
        listed = info_list([identity_code()], bad_line=False) + row.encode() + b"\n"
        imported = await intake.post(
            "/referrals/import", content=listed, headers={**HEADERS, "content-type": "text/csv"}
        )
        assert imported.status_code == 200, imported.text
        result = imported.json()
        assert (result["rows"], result["new_cases"]) == (2, 1)
        assert [(e["line"], e["field"]) for e in result["errors"]] == [(3, "first_name")]


async def test_today_is_the_finnish_date_even_when_it_is_still_yesterday_in_utc(
    settings, monkeypatch
) -> None:
    late_evening = datetime(2024, 6, 14, 21, 30, tzinfo=UTC)  # 00:30 on 15 June in Helsinki
    monkeypatch.delenv(clock.TIME_ZONE_VARIABLE, raising=False)
    monkeypatch.setattr(clock, "_utc_now", lambda: late_evening)
    finnish_today = "2024-06-15"
    async with running(intake_app(settings)) as intake:
        body = {**referral_request(), "referral_date": finnish_today}
        referred = await intake.post("/referrals", json=body, headers=HEADERS)
        assert referred.status_code == 201, referred.text
        client_id = referred.json()["client_id"]
        consent = {"scopes": ["move_to_centre", "data_exchange_within_centre"], "given_on": finnish_today}
        assert (
            await intake.post(f"/clients/{client_id}/consents", json=consent, headers=HEADERS)
        ).status_code == 201
        case = (await intake.get(f"/clients/{client_id}", headers=HEADERS)).json()
        assert case["consents"][0]["in_force"] is True
        assessed = await intake.post(
            f"/clients/{client_id}/assessment",
            json={**assessment_body(), "assessed_on": finnish_today},
            headers=HEADERS,
        )
        assert assessed.status_code == 201, assessed.text
        tomorrow = await intake.post(
            "/referrals", json={**referral_request(), "referral_date": "2024-06-16"}, headers=HEADERS
        )
        assert tomorrow.status_code == 409 and "future" in tomorrow.json()["detail"]


async def test_two_invitations_racing_for_the_last_place_let_exactly_one_in(settings) -> None:
    async with running(intake_app(settings)) as intake:
        clients = []
        for _ in range(6):
            response = await intake.post("/referrals", json=referral_request(), headers=HEADERS)
            clients.append(response.json()["client_id"])
        starts = (datetime.now(UTC) + timedelta(days=2)).isoformat()
        session = (
            await intake.post(
                "/info-sessions", json={"starts_at": starts, "place": "TYP", "capacity": 2}, headers=HEADERS
            )
        ).json()
        url = f"/info-sessions/{session['session_id']}/invitations"
        answers = await asyncio.gather(
            *(intake.post(url, json={"client_id": c}, headers=HEADERS) for c in clients)
        )
        assert sorted(a.status_code for a in answers) == [201, 201, 409, 409, 409, 409]
        sessions = (await intake.get("/info-sessions", headers=HEADERS)).json()
        assert [(s["invited"], s["places_left"]) for s in sessions] == [(2, 0)]


async def test_the_cli_imports_an_info_list_through_the_api_with_line_numbers(
    settings, tmp_path: Path
) -> None:
    import socket
    import sys

    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(intake_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: asyncio.sleep(0, server.started), bool)
        path = tmp_path / "infolista.csv"
        path.write_bytes(info_list([identity_code() for _ in range(7)]))
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "reitti.cli",
            "import-info-list",
            str(path),
            "--url",
            f"http://127.0.0.1:{port}",
            "--token",
            HEADERS["Authorization"].removeprefix("Bearer "),
            "--chunk",
            "3",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
    finally:
        server.should_exit = True
        await serving
    assert proc.returncode == 1, "row errors make the exit code non-zero"
    assert "8 rows: 7 new cases" in out.decode()
    assert "line 3:" in err.decode()
