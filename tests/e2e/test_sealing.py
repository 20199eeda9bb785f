"""No plaintext personal data at rest (architecture decision 14, docs/adr/0020), end to
end against real NATS and PostgreSQL: a client's names, identity code and every free
text about them are in no table of any schema, read as raw values, and on no page of
the database (dead row versions included), before erasure or after it; the APIs, the
views and the partner's feed read them while the key lives, and ``[erased]`` once it is
deleted."""

from __future__ import annotations

import uuid
from datetime import timedelta
from functools import partial

import asyncpg
import pytest

from runtime import clock, erasure
from services.guidance.app import create_app as guidance_app
from services.intake.app import create_app as intake_app
from services.reporting.app import create_app as reporting_app
from tests.e2e.test_erasure import LEAD, NURSE, stream_bytes, unique_name
from tests.support.apps import eventually, running
from tests.support.auth import headers, reader_for
from tests.support.factories import AREAS, HEADERS, identity_code, referral_request

pytestmark = pytest.mark.integration

TODAY = clock.today()
COORDINATOR = headers("service_coordinator", "coord-1", "mikkeli")
SOCIAL_SERVICES = headers("social_worker", "sw-1", "social_services:mikkeli")
CONSENT = {
    "scopes": ["move_to_centre", "data_exchange_within_centre", "disclosure_to_organisations"],
    "organisations": ["social_services:mikkeli"],
    "given_on": str(TODAY),
}


def marker(field: str) -> str:
    """A distinctive text for one field, found by a byte search only where it was put."""
    return f"{field}-{uuid.uuid4().hex[:12]}"


async def refer_and_route(intake, client: dict[str, str], **referral: str) -> str:
    body = {**referral_request(code=client["personal_identity_code"]), **referral, "client": client}
    body["referral_date"] = str(TODAY - timedelta(days=20))
    response = await intake.post("/referrals", json=body, headers=HEADERS)
    assert response.status_code == 201, response.text
    client_id = str(response.json()["client_id"])
    response = await intake.post(f"/clients/{client_id}/consents", json=CONSENT, headers=HEADERS)
    assert response.status_code == 201, response.text
    return client_id


async def assess(intake, client_id: str, destination: str | None = None) -> None:
    assessment = {
        "assessed_on": str(TODAY),
        "capacity_allows_rehabilitative_work": True,
        "profile": "centre",
        "ministry_segment": 3,
        "route": "individual_service_guidance",
        "assessors": [{"person_id": "advisor-1", "role": "employment_advisor", "organisation": "te-office"}],
        "findings": [{"area": a, "support_need": "some"} for a in AREAS],
        **({"destination": destination} if destination else {}),
    }
    response = await intake.post(f"/clients/{client_id}/assessment", json=assessment, headers=HEADERS)
    assert response.status_code == 201, response.text


async def every_stored_value(pool: asyncpg.Pool) -> dict[str, str]:
    """Every value of every text, json, bytea (and array) column of every table of every
    schema, raw as stored (bytea decoded as UTF-8), by table."""
    out: dict[str, str] = {}
    async with pool.acquire() as conn:
        columns = await conn.fetch(
            """
            SELECT c.table_schema, c.table_name, c.column_name
            FROM information_schema.columns c
            JOIN information_schema.tables t USING (table_schema, table_name)
            WHERE t.table_type = 'BASE TABLE'
              AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
              AND (c.data_type IN ('text', 'character varying', 'json', 'jsonb', 'bytea', 'ARRAY'))
            ORDER BY 1, 2, 3
            """
        )
        for c in columns:
            table = f'"{c["table_schema"]}"."{c["table_name"]}"'
            values = await conn.fetch(f'SELECT "{c["column_name"]}"::text AS v FROM {table}')
            text = "\n".join(r["v"] for r in values if r["v"] is not None)
            if c["column_name"] in ("payload",):
                # bytea as text is hex: decode it, so a search sees the bytes themselves
                text = "\n".join(
                    bytes(r["v"]).decode("utf-8", errors="replace")
                    for r in await conn.fetch(f'SELECT "{c["column_name"]}" AS v FROM {table}')
                    if r["v"] is not None
                )
            key = f"{c['table_schema']}.{c['table_name']}"
            out[key] = out.get(key, "") + "\n" + text
    return out


async def every_page(pool: asyncpg.Pool) -> dict[str, bytes]:
    """Every page of every table, TOAST table and index of the database, raw, as the
    server holds them (``pageinspect``): row versions that were updated or deleted (dead
    tuples) are still on their pages, so a value ever written to a row is found here."""
    out: dict[str, bytes] = {}
    async with pool.acquire() as conn:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
        relations = await conn.fetch(
            """
            SELECT c.oid::regclass::text AS rel,
                   pg_relation_size(c.oid) / current_setting('block_size')::int AS blocks
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 't', 'i', 'm') AND n.nspname <> 'information_schema'
              AND n.nspname NOT LIKE 'pg_temp%'
            """
        )
        for r in relations:
            if r["blocks"]:
                out[r["rel"]] = await conn.fetchval(
                    "SELECT string_agg(get_raw_page($1, b::int), ''::bytea ORDER BY b)"
                    " FROM generate_series(0, $2 - 1) AS b",
                    r["rel"],
                    r["blocks"],
                )
    return out


def found_on_pages(secrets: dict[str, str], pages: dict[str, bytes]) -> list[tuple[str, str]]:
    return [
        (name, rel)
        for name, secret in secrets.items()
        for rel, raw in pages.items()
        if secret.encode() in raw
    ]


def found(secrets: dict[str, str], texts: dict[str, str]) -> list[tuple[str, str]]:
    return [
        (name, where) for name, secret in secrets.items() for where, text in texts.items() if secret in text
    ]


@pytest.mark.slow
async def test_no_plaintext_of_a_client_is_at_rest_in_any_table_before_or_after_erasure_and_apis_read_it_until_then(  # noqa: E501
    settings, pool, nats_client
) -> None:
    client = {
        "first_name": unique_name("Ilmari"),
        "last_name": unique_name("Virtanen"),
        "personal_identity_code": identity_code(),
    }
    free_text = {
        field: marker(field)
        for field in (
            "need_based_reason",
            "source_description",
            "destination",
            "place",
            "acknowledgement_reason",
            "provider",
            "override_reason",
            "next_step",
            "details",
        )
    }
    secrets = {**client, **free_text}
    async with (
        running(intake_app(settings)) as intake,
        running(guidance_app(settings, caseload_limit=1)) as guidance,
        running(reporting_app(settings)) as reporting,
    ):
        filler = await refer_and_route(
            intake, {"first_name": "Aino", "last_name": "Testinen", "personal_identity_code": identity_code()}
        )
        await assess(intake, filler)
        client_id = await refer_and_route(
            intake,
            client,
            source="other",
            source_description=free_text["source_description"],
            need_based_reason=free_text["need_based_reason"],
        )
        await assess(intake, client_id, destination=free_text["destination"])

        async def case_status(cid: str) -> int:
            return (await guidance.get(f"/cases/{cid}", headers=HEADERS)).status_code

        for cid in (filler, client_id):
            await eventually(partial(case_status, cid), lambda s: s == 200)
        guide = {
            "person_id": "guide-1",
            "name": "Sari Ohjaaja",
            "role": "service_guide",
            "areas": ["Mikkeli"],
        }
        assert (await guidance.post("/guides", json=guide, headers=COORDINATOR)).status_code == 201
        assign = {"guide_person_id": "guide-1", "assigned_on": str(TODAY)}
        assert (
            await guidance.post(f"/cases/{filler}/guide", json=assign, headers=HEADERS)
        ).status_code == 200
        over = {**assign, "override_reason": free_text["override_reason"]}
        response = await guidance.post(f"/cases/{client_id}/guide", json=over, headers=COORDINATOR)
        assert response.status_code == 200, response.text
        measures = [
            {
                "measure_id": "m1",
                "kind": "work_try_out",
                "provider": free_text["provider"],
                "start": str(TODAY),
            }
        ]
        plan = {"revised_on": str(TODAY), "measures": measures}
        assert (
            await guidance.post(f"/cases/{client_id}/plan", json=plan, headers=HEADERS)
        ).status_code == 200
        check = {
            "checked_on": str(TODAY),
            "work_restrictions_found": True,
            "recommended_next_step": free_text["next_step"],
            "details": free_text["details"],
        }
        assert (
            await guidance.post(f"/cases/{client_id}/health-check", json=check, headers=NURSE)
        ).status_code == 200
        activation = {
            "start": str(TODAY),
            "months": 6,
            "days_per_week": 4,
            "hours_per_day": 6,
            "place": free_text["place"],
        }
        moved = await guidance.post(
            f"/cases/{client_id}/transfers",
            json={
                "transferred_on": str(TODAY),
                "activation_plan": activation,
                "relationship_stays_open": True,
            },
            headers=HEADERS,
        )
        assert moved.status_code == 201, moved.text
        ack = {"accepted": True, "acknowledged_on": str(TODAY), "reason": free_text["acknowledgement_reason"]}
        acknowledged = await guidance.post(
            f"/cases/{client_id}/transfers/{moved.json()['transfer_id']}/acknowledgement",
            json=ack,
            headers=SOCIAL_SERVICES,
        )
        assert acknowledged.status_code == 200, acknowledged.text

        async def views() -> str:
            """What the APIs show of the client: intake's case, guidance's case and the
            health details, reporting's TE, municipal and health views."""
            reads = [
                await intake.get(f"/clients/{client_id}", headers=HEADERS),
                await guidance.get(f"/cases/{client_id}", headers=HEADERS),
                await guidance.get(f"/cases/{client_id}/health-details", headers=NURSE),
                await reporting.get(
                    f"/views/te/clients/{client_id}", headers=reader_for("/views/te/clients")
                ),
                await reporting.get(
                    "/views/municipalities/Mikkeli/clients", headers=reader_for("/views/municipalities")
                ),
                await reporting.get(
                    f"/views/health/clients/{client_id}", headers=reader_for("/views/health/clients")
                ),
            ]
            assert all(r.status_code == 200 for r in reads), [r.text for r in reads if r.status_code != 200]
            return "\n".join(r.text for r in reads)

        shown_in_views = {
            "first_name",
            "personal_identity_code",
            "source_description",
            "destination",
            "place",
            "provider",
            "next_step",
            "details",
        }
        # Before erasure: the views read every value (once reporting has caught up) ...
        shown = await eventually(
            views, lambda text: all(secrets[f] in text for f in shown_in_views), within=30
        )
        assert erasure.ERASED not in shown
        # ... and no table of any schema holds any of them in plaintext: no read model,
        # directory or outbox row is ever written with one.
        assert found(secrets, await every_stored_value(pool)) == []
        pages = await every_page(pool)
        assert "reporting.te_measures" in pages and "guidance.client_directory" in pages
        assert found_on_pages(secrets, pages) == [], "not in any row version on any page either"
        assert found(secrets, {"jetstream": (await stream_bytes(nats_client, settings)).decode()}) == []
        # The partner's feed (its own copy, outside our stores) reads them.
        feed = await eventually(
            lambda: stream_bytes(nats_client, settings, settings.feeds_stream),
            lambda b: free_text["acknowledgement_reason"].encode() in b,
            within=30,
        )
        assert all(free_text[f].encode() in feed for f in ("place", "destination"))
        assert erasure.PREFIX.encode() not in feed
        export = await reporting.get(
            "/audit/export", params={"since": "2000-01-01T00:00:00Z"}, headers=reader_for("/audit/export")
        )
        assert export.status_code == 200, export.text
        assert erasure.PREFIX in export.text and found(secrets, {"export": export.text}) == []

        response = await intake.post(
            f"/clients/{client_id}/erasure", json={"reference": "DPO-9"}, headers=LEAD
        )
        assert response.status_code == 200, response.text

        # After erasure: the APIs read [erased] wherever they showed the values ...
        erased = await eventually(views, lambda text: not any(secrets[f] in text for f in shown_in_views))
        assert found(secrets, {"apis": erased}) == []
        assert erased.count(erasure.ERASED) >= len(shown_in_views)
        # ... and still no table holds any of them, on any page.
        assert found(secrets, await every_stored_value(pool)) == []
        assert found_on_pages(secrets, await every_page(pool)) == []
        assert found(secrets, {"jetstream": (await stream_bytes(nats_client, settings)).decode()}) == []
