"""Erasure by key deletion (docs/adr/0011), end to end against real NATS and PostgreSQL:
personal fields rest and travel encrypted, deleting the client's key makes them read
``[erased]`` in every store, stream, projection and API, and replay and statistics are
untouched."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

import asyncpg
import pytest
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import ConsumerConfig, DeliverPolicy

from runtime import clock, erasure
from runtime.replay import rebuild_and_switch
from runtime.streams import connect_nats
from services.guidance.app import create_app as guidance_app
from services.intake.app import create_app as intake_app
from services.reporting.app import create_app as reporting_app
from services.reporting.projections import MIGRATIONS, ReportingProjection
from tests.support.apps import eventually, running
from tests.support.auth import headers, reader_for
from tests.support.cli import reitti
from tests.support.closures import propose_closure
from tests.support.factories import AREAS, HEADERS, identity_code, referral_request

pytestmark = pytest.mark.integration

TODAY = clock.today()
LEAD = headers("lead_employment_advisor", "lead-1", "te-office")
NURSE = headers("nurse", "nurse-1", "mikkeli")
DETAILS = "Selkakipu vuodesta 2019 ja uniapnea"
NEXT_STEP = "Tyoterveyslaakarin arvio ennen kokeilua"
FINAL_TEXT = "Eläkeselvitys aloitettu, kuntoutustuki haettu"
NOTES = "Asiakas kertoi velkajärjestelystä"
JOINT = {
    "decided_on": str(TODAY),
    "te_office_person_id": "advisor-1",
    "municipality_person_id": "sw-1",
    "kela_person_id": "kela-1",
}


def unique_name(prefix: str) -> str:
    return prefix + "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:10])


async def refer(intake, *, first: str, last: str, code: str) -> str:
    body = referral_request(code=code)
    body["referral_date"] = str(TODAY - timedelta(days=20))
    body["client"] = {"first_name": first, "last_name": last, "personal_identity_code": code}
    response = await intake.post("/referrals", json=body, headers=HEADERS)
    assert response.status_code == 201, response.text
    return str(response.json()["client_id"])


async def route_into_guidance(intake, client_id: str) -> None:
    consent = {
        "scopes": ["move_to_centre", "data_exchange_within_centre", "disclosure_to_organisations"],
        "organisations": ["social_services:mikkeli"],
        "given_on": str(TODAY),
    }
    response = await intake.post(f"/clients/{client_id}/consents", json=consent, headers=HEADERS)
    assert response.status_code == 201, response.text
    assessment = {
        "assessed_on": str(TODAY),
        "capacity_allows_rehabilitative_work": True,
        "profile": "centre",
        "ministry_segment": 3,
        "route": "individual_service_guidance",
        "assessors": [{"person_id": "advisor-1", "role": "employment_advisor", "organisation": "te-office"}],
        "findings": [
            {"area": a, "support_need": "some", **({"notes": NOTES} if a == "competence" else {})}
            for a in AREAS
        ],
        "summary": NOTES,
    }
    response = await intake.post(f"/clients/{client_id}/assessment", json=assessment, headers=HEADERS)
    assert response.status_code == 201, response.text


async def all_stored_text(pool: asyncpg.Pool, schemas: tuple[str, ...]) -> dict[str, str]:
    """Every row of every table in ``schemas`` as text (bytea decoded as UTF-8), by table."""
    out: dict[str, str] = {}
    async with pool.acquire() as conn:
        tables = await conn.fetch(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema = ANY($1::text[]) AND table_type = 'BASE TABLE'",
            list(schemas),
        )
        for t in tables:
            rows = await conn.fetch(f'SELECT * FROM "{t["table_schema"]}"."{t["table_name"]}"')
            parts = []
            for row in rows:
                for value in row.values():
                    if isinstance(value, bytes | bytearray | memoryview):
                        parts.append(bytes(value).decode("utf-8", errors="replace"))
                    else:
                        parts.append(str(value))
            out[f"{t['table_schema']}.{t['table_name']}"] = "\n".join(parts)
    return out


async def stream_bytes(nats_client, settings, stream: str | None = None) -> bytes:
    """Every message of the events stream (or ``stream``), raw, as the broker stores them."""
    js = nats_client.jetstream()
    sub = await js.subscribe(
        f"{settings.namespace}.>",
        stream=stream or settings.events_stream,
        ordered_consumer=True,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
    )
    out = []
    try:
        while True:
            try:
                msg = await sub.next_msg(timeout=1.0)
            except NatsTimeout:
                break
            out.append(msg.data)
    finally:
        await sub.unsubscribe()
    assert out or stream is not None, "the events stream has the events"
    return b"\n".join(out)


def found_in(secrets: list[str], texts: dict[str, str]) -> list[tuple[str, str]]:
    return [(secret, where) for secret in secrets for where, text in texts.items() if secret in text]


async def statistics(reporting, year: int) -> dict[str, object]:
    out = {}
    for path in ("/statistics/referral-sources", "/statistics/outcomes", "/statistics/intake"):
        response = await reporting.get(path, params={"year": year}, headers=reader_for(path))
        assert response.status_code == 200, response.text
        out[path] = response.json()
    return out


async def reporting_caught_up(pool: asyncpg.Pool, client_id: str) -> tuple[int, int, str | None]:
    async with pool.acquire() as conn:
        return (
            await conn.fetchval(
                "SELECT count(*) FROM reporting.health_checks WHERE client_id = $1", client_id
            ),
            await conn.fetchval(
                "SELECT count(*) FROM reporting.te_final_assessments WHERE client_id = $1", client_id
            ),
            await conn.fetchval(
                "SELECT details FROM reporting.health_checks WHERE client_id = $1 LIMIT 1", client_id
            ),
        )


async def test_erased_personal_data_is_unreadable_in_every_store_stream_and_projection_while_statistics_and_replay_survive(  # noqa: E501
    settings, pool, nats_client
) -> None:
    first, last, code = unique_name("Ilmari"), unique_name("Virtanen"), identity_code()
    personal = [first, last, code, DETAILS, NEXT_STEP, FINAL_TEXT, NOTES]
    async with (
        running(intake_app(settings)) as intake,
        running(guidance_app(settings)) as guidance,
        running(reporting_app(settings)) as reporting,
    ):
        client_id = await refer(intake, first=first, last=last, code=code)
        await route_into_guidance(intake, client_id)

        async def case_status() -> int:
            return (await guidance.get(f"/cases/{client_id}", headers=HEADERS)).status_code

        await eventually(case_status, lambda s: s == 200)
        check = {
            "checked_on": str(TODAY),
            "work_restrictions_found": True,
            "recommended_next_step": NEXT_STEP,
            "details": DETAILS,
        }
        response = await guidance.post(f"/cases/{client_id}/health-check", json=check, headers=NURSE)
        assert response.status_code == 200, response.text
        guide = {
            "person_id": "guide-1",
            "name": "Sari Ohjaaja",
            "role": "service_guide",
            "areas": ["Mikkeli"],
        }
        coordinator = headers("service_coordinator", "coord-1", "mikkeli")
        assert (await guidance.post("/guides", json=guide, headers=coordinator)).status_code == 201
        assign = {"guide_person_id": "guide-1", "assigned_on": str(TODAY)}
        assert (
            await guidance.post(f"/cases/{client_id}/guide", json=assign, headers=HEADERS)
        ).status_code == 200
        closure = {
            "closed_on": str(TODAY),
            "outcome": "outside_labour_force",
            "outside_labour_force_reason": "pension",
            "services_continue": "te_office",
            "final_assessment": {
                "text": FINAL_TEXT,
                "work_ability_clarified": True,
                "competence_improved": False,
            },
            "joint_decision": JOINT,
        }
        await propose_closure(guidance, client_id)
        response = await guidance.post(f"/cases/{client_id}/closure", json=closure, headers=HEADERS)
        assert response.status_code == 200, response.text
        await eventually(lambda: reporting_caught_up(pool, client_id), lambda r: r[0] == 1 and r[1] == 1)

        # Before erasure: encrypted at rest and in transit, readable through the APIs.
        case = (await intake.get(f"/clients/{client_id}", headers=HEADERS)).json()
        assert (case["client"]["first_name"], case["client"]["personal_identity_code"]) == (first, code)
        assert case["assessment"]["summary"] == NOTES
        details = (await guidance.get(f"/cases/{client_id}/health-details", headers=NURSE)).json()
        assert details[0]["details"] == DETAILS
        events = await all_stored_text(pool, ("intake", "guidance"))
        assert "enc:v1:" in events["intake.events"] and "enc:v1:" in events["guidance.events"]
        logs = {k: v for k, v in events.items() if k.endswith((".events", ".outbox"))}
        assert found_in(personal, logs) == []
        assert found_in(personal, {"jetstream": (await stream_bytes(nats_client, settings)).decode()}) == []
        async with pool.acquire() as conn:
            vault = await erasure.vault_status(conn, client_id)
        assert vault is not None and vault["has_key"] and vault["relationship_closed_on"] == TODAY
        # The projections hold the text sealed with the client's key (docs/adr/0020).
        projections = await all_stored_text(pool, ("reporting",))
        assert found_in(personal, projections) == []
        assert erasure.PREFIX in projections["reporting.health_checks"]
        assert erasure.PREFIX in projections["reporting.te_final_assessments"]
        # The TE-office's own feed carries the final assessment readable (for URA).
        te_feed = await eventually(
            lambda: stream_bytes(nats_client, settings, settings.feeds_stream), lambda b: code.encode() in b
        )
        assert b"enc:v1:" not in te_feed
        year = TODAY.year
        before = await statistics(reporting, year)

        # Erasure: only the roles holding client:erase, once.
        body = {"reference": "DPO-2026-17"}
        denied = await intake.post(f"/clients/{client_id}/erasure", json=body, headers=HEADERS)
        assert denied.status_code == 403 and "client:erase" in denied.text
        erased = await intake.post(f"/clients/{client_id}/erasure", json=body, headers=LEAD)
        assert erased.status_code == 200, erased.text
        again = await intake.post(f"/clients/{client_id}/erasure", json=body, headers=LEAD)
        assert again.status_code == 409 and "already erased" in again.text

        await eventually(lambda: reporting_caught_up(pool, client_id), lambda r: r[2] == erasure.ERASED)

        async def directory_rows() -> int:
            async with pool.acquire() as conn:
                return int(
                    await conn.fetchval(
                        "SELECT count(*) FROM guidance.client_directory WHERE client_id = $1", client_id
                    )
                )

        await eventually(directory_rows, lambda n: n == 0)

        # The APIs show the fields as erased; everything else is as it was.
        case = (await intake.get(f"/clients/{client_id}", headers=HEADERS)).json()
        assert case["client"] == {
            "first_name": erasure.ERASED,
            "last_name": erasure.ERASED,
            "personal_identity_code": erasure.ERASED,
        }
        assert case["assessment"]["summary"] == erasure.ERASED
        assert case["assessment"]["route"] == "individual_service_guidance"
        details = (await guidance.get(f"/cases/{client_id}/health-details", headers=NURSE)).json()
        assert details[0]["details"] == erasure.ERASED
        health = await reporting.get(
            f"/views/health/clients/{client_id}", headers=reader_for("/views/health/clients")
        )
        assert health.status_code == 200 and erasure.ERASED in health.text and DETAILS not in health.text
        after = await statistics(reporting, year)
        assert after == before

        # Nowhere in plain text: event stores, outboxes, read models, pseudonyms, JetStream.
        stored = await all_stored_text(pool, ("intake", "guidance", "reporting", "reporting_events", "keys"))
        assert found_in(personal, stored) == []
        assert found_in(personal, {"jetstream": (await stream_bytes(nats_client, settings)).decode()}) == []
        async with pool.acquire() as conn:
            assert (
                await conn.fetchval(
                    "SELECT count(*) FROM intake.client_identities WHERE client_id = $1", client_id
                )
                == 0
            )
            vault = await erasure.vault_status(conn, client_id)
        assert vault is not None and not vault["has_key"] and vault["reason"] == "lawful_request: DPO-2026-17"

        # A replay from the start of the log succeeds, and changes no statistic.
        nc = await connect_nats(settings.nats_url, name="test-erasure-replay")
        try:
            report = await rebuild_and_switch(
                pool,
                nc.jetstream(),
                settings,
                live_schema="reporting",
                migrations=MIGRATIONS,
                projection=ReportingProjection,
            )
        finally:
            await nc.close()
        assert report.invalid == 0 and report.applied > 0
        assert await statistics(reporting, year) == before
        replayed = await all_stored_text(pool, ("reporting",))
        assert found_in(personal, replayed) == []
        assert erasure.ERASED in replayed["reporting.health_checks"]
        assert erasure.ERASED in replayed["reporting.te_final_assessments"]

        # The same person referred again is a new client with a new key.
        again_id = await refer(intake, first=first, last=last, code=code)
        assert again_id != client_id


async def test_erase_expired_erases_a_client_closed_over_four_years_ago_but_not_one_under_legal_hold(
    settings, pool
) -> None:
    today = date(2026, 6, 1)
    async with running(intake_app(settings)) as intake:
        names = {k: unique_name(k) for k in ("expired", "held", "recent")}
        ids = {
            k: await refer(intake, first=n, last="Testinen", code=identity_code()) for k, n in names.items()
        }
        async with pool.acquire() as conn:
            await erasure.record_closure(conn, ids["expired"], date(2022, 5, 31))
            await erasure.record_closure(conn, ids["held"], date(2020, 1, 1))
            await erasure.record_closure(conn, ids["recent"], date(2022, 6, 1))
        hold = await intake.post(f"/clients/{ids['held']}/legal-hold", json={"hold": True}, headers=LEAD)
        assert hold.status_code == 200, hold.text
        denied = await intake.post(
            f"/clients/{ids['held']}/legal-hold", json={"hold": False}, headers=HEADERS
        )
        assert denied.status_code == 403

        code, out, err = await reitti(settings, "erase-expired", "--today", str(today))
        assert code == 0, err
        assert "erased the personal data of 1 clients" in out and ids["expired"] in out

        async def first_name(client_id: str) -> str:
            response = await intake.get(f"/clients/{client_id}", headers=HEADERS)
            assert response.status_code == 200, response.text
            return str(response.json()["client"]["first_name"])

        assert await first_name(ids["expired"]) == erasure.ERASED
        assert await first_name(ids["held"]) == names["held"]
        assert await first_name(ids["recent"]) == names["recent"]
        async with pool.acquire() as conn:
            status = {k: await erasure.vault_status(conn, v) for k, v in ids.items()}
            erased_event = await conn.fetchval(
                "SELECT envelope->'data'->>'reason' FROM intake.events "
                "WHERE stream_id = $1 AND event_type = 'ClientDataErased'",
                ids["expired"],
            )
        assert status["expired"] is not None and status["expired"]["erased_at"] is not None
        assert (
            status["held"] is not None
            and status["held"]["erased_at"] is None
            and status["held"]["legal_hold"]
        )
        assert status["recent"] is not None and status["recent"]["erased_at"] is None
        assert erased_event == "retention_expired"

        # Clearing the hold lets the next run erase the held client too.
        assert (
            await intake.post(f"/clients/{ids['held']}/legal-hold", json={"hold": False}, headers=LEAD)
        ).status_code == 200
        code, _, err = await reitti(settings, "erase-expired", "--today", str(today))
        assert code == 0, err
        assert await first_name(ids["held"]) == erasure.ERASED
        assert await first_name(ids["recent"]) == names["recent"]


async def test_a_client_erased_while_in_guidance_can_still_be_closed_and_the_final_assessment_names_nobody(
    settings, pool
) -> None:
    first, code = unique_name("Aino"), identity_code()
    async with (
        running(intake_app(settings)) as intake,
        running(guidance_app(settings)) as guidance,
    ):
        client_id = await refer(intake, first=first, last="Testinen", code=code)
        await route_into_guidance(intake, client_id)

        async def case_status() -> int:
            return (await guidance.get(f"/cases/{client_id}", headers=HEADERS)).status_code

        await eventually(case_status, lambda s: s == 200)
        erased = await intake.post(f"/clients/{client_id}/erasure", json={"reference": "DPO-1"}, headers=LEAD)
        assert erased.status_code == 200, erased.text

        async def directory_rows() -> int:
            async with pool.acquire() as conn:
                return int(
                    await conn.fetchval(
                        "SELECT count(*) FROM guidance.client_directory WHERE client_id = $1", client_id
                    )
                )

        await eventually(directory_rows, lambda n: n == 0)
        guide = {
            "person_id": "guide-1",
            "name": "Sari Ohjaaja",
            "role": "service_guide",
            "areas": ["Mikkeli"],
        }
        coordinator = headers("service_coordinator", "coord-1", "mikkeli")
        assert (await guidance.post("/guides", json=guide, headers=coordinator)).status_code == 201
        assign = {"guide_person_id": "guide-1", "assigned_on": str(TODAY)}
        assert (
            await guidance.post(f"/cases/{client_id}/guide", json=assign, headers=HEADERS)
        ).status_code == 200
        closure = {
            "closed_on": str(TODAY),
            "outcome": "unemployed",
            "services_continue": "te_office",
            "final_assessment": {
                "text": FINAL_TEXT,
                "work_ability_clarified": False,
                "competence_improved": False,
            },
            "joint_decision": JOINT,
        }
        await propose_closure(guidance, client_id)
        response = await guidance.post(f"/cases/{client_id}/closure", json=closure, headers=HEADERS)
        assert response.status_code == 200, response.text
    async with pool.acquire() as conn:
        issued = await conn.fetchval(
            "SELECT envelope::text FROM guidance.events "
            "WHERE stream_id = $1 AND event_type = 'FinalAssessmentIssued'",
            client_id,
        )
        vault = await erasure.vault_status(conn, client_id)
    assert issued is not None
    assert json.loads(issued)["data"]["personal_identity_code"] == erasure.ERASED and code not in issued
    assert FINAL_TEXT not in issued and "enc:v1:" not in issued, "no new key for an erased client"
    assert vault is not None and not vault["has_key"] and vault["relationship_closed_on"] == TODAY


async def test_intake_sweeps_expired_clients_itself_one_replica_at_a_time(settings, pool) -> None:
    """Intake erases, on its own, the personal data of a client closed more than four
    years ago; one held is left alone. Two intake replicas sweep one at a time."""
    first, code = unique_name("Aino"), identity_code()
    held_name, held_code = unique_name("Eino"), identity_code()
    async with running(intake_app(settings, retention_sweep_every=0)) as intake:
        expired = await refer(intake, first=first, last="Testinen", code=code)
        held = await refer(intake, first=held_name, last="Testinen", code=held_code)
        async with pool.acquire() as conn:
            await erasure.record_closure(conn, expired, date(2020, 1, 1))
            await erasure.record_closure(conn, held, date(2020, 1, 1))
        hold = await intake.post(f"/clients/{held}/legal-hold", json={"hold": True}, headers=LEAD)
        assert hold.status_code == 200, hold.text

    async def first_name(intake, client_id: str) -> str:
        response = await intake.get(f"/clients/{client_id}", headers=HEADERS)
        assert response.status_code == 200, response.text
        return str(response.json()["client"]["first_name"])

    async with (
        running(intake_app(settings, retention_sweep_every=0.2)) as intake,
        running(intake_app(settings, retention_sweep_every=0.2)),
    ):
        assert (
            await eventually(lambda: first_name(intake, expired), lambda n: n == erasure.ERASED)
            == erasure.ERASED
        )
        assert await first_name(intake, held) == held_name
        async with pool.acquire() as conn:
            vault = await erasure.vault_status(conn, expired)
            erasures = await conn.fetchval(
                "SELECT count(*) FROM intake.events WHERE stream_id = $1 AND event_type = 'ClientDataErased'",
                expired,
            )
        assert vault is not None and vault["reason"].startswith("retention_expired")
        assert erasures == 1, "the two replicas' sweeps erased the client once"
