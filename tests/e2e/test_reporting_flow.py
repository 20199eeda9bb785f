"""Reporting end to end: events published to JetStream as the relays publish them, the
live consumer, the API, replay from zero and the audit commands as an auditor runs them."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from contracts.guidance import Outcome
from contracts.intake import ConsentScope, ReferralSource
from runtime.replay import rebuild
from runtime.streams import connect_nats
from services.reporting.app import create_app as reporting_app
from services.reporting.projections import MIGRATIONS, ReportingProjection
from tests.support.apps import eventually, running
from tests.support.auth import reader_for
from tests.support.cli import reitti
from tests.support.problems import invalid_fields
from tests.support.reporting_events import Story, publish, seed_targets, target_set

pytestmark = pytest.mark.integration

SOURCES = [ReferralSource.TE_OFFICE] * 5 + [ReferralSource.SELF_REFERRAL] * 3 + [ReferralSource.OTHER] * 2
OUTCOMES = [Outcome.EDUCATION, Outcome.UNEMPLOYED, Outcome.EDUCATION, Outcome.OPEN_LABOUR_MARKET]


def stories() -> list[Story]:
    out = []
    for n, source in enumerate(SOURCES):
        story = Story(["Mikkeli", "Puumala"][n % 2])
        story.referred(date(2010, 2, 1 + n), source)
        story.consent(
            date(2010, 2, 10),
            scopes=(*(ConsentScope.MOVE_TO_CENTRE, ConsentScope.DATA_EXCHANGE_WITHIN_CENTRE),),
        )
        story.assessed(date(2010, 3, 1 + n))
        story.opened(date(2010, 3, 1 + n))
        story.guide(date(2010, 3, 11 + n), guide=f"guide-{n % 2 + 1}")
        if n < len(OUTCOMES):
            story.closed(date(2010, 11, 1), OUTCOMES[n])
            story.final_assessment(date(2010, 11, 1), OUTCOMES[n])
        out.append(story)
    return out


async def applied_events(pool) -> int:
    async with pool.acquire() as conn:
        return int(await conn.fetchval("SELECT count(*) FROM reporting.consumed_events"))


async def get(client, url: str, **params) -> Any:
    response = await client.get(url, params=params, headers=reader_for(url))
    assert response.status_code == 200, response.text
    return response.json()


async def test_published_events_reach_the_statistics_views_and_timeline_through_the_api(
    settings, pool, nats_client
) -> None:
    js = nats_client.jetstream()
    cases = stories()
    events = [e for s in cases for e in s.events] + seed_targets()
    await publish(js, settings, events)
    async with running(reporting_app(settings)) as reporting:
        await eventually(lambda: applied_events(pool), lambda n: n == len(events))

        outcomes = await get(reporting, "/statistics/outcomes", year=2010)
        assert outcomes["counts"]["education"] == 2 and outcomes["total"] == 4
        assert outcomes["shares"]["education"] == 0.5
        assert (await get(reporting, "/statistics/outcomes", year=2011))["total"] == 0
        sources = await get(reporting, "/statistics/referral-sources", year=2010, municipality="puumala")
        assert sources["total"] == 5 and sources["municipality"] == "Puumala"
        intake = await get(reporting, "/statistics/intake", year=2010)
        assert (intake["new_clients"], intake["target"]) == (10, 350)
        legacy = await get(reporting, "/statistics/referrals-by-source", year=2010)
        assert legacy["by_source"]["te_office"] == 5
        caseloads = await get(reporting, "/statistics/caseloads")
        assert {g["guide_person_id"]: g["active_clients"] for g in caseloads["guides"]} == {
            "guide-1": 3,
            "guide-2": 3,
        }
        waiting = await get(reporting, "/statistics/waiting-times", year=2010)
        assert waiting["assessment_to_named_guide"]["median_days"] == 10.0
        cost = await get(reporting, "/statistics/municipal-cost", year=2010, as_of="2010-12-31")
        assert {r["municipality"] for r in cost["municipalities"]} == {"Mikkeli", "Puumala"}

        for url, params in (
            ("/statistics/outcomes", {"year": 1800}),
            ("/statistics/outcomes", {"year": "last"}),
            ("/statistics/intake", {}),
            ("/statistics/outcomes", {"municipality": "Helsinki"}),
            ("/statistics/deadlines", {"as_of": "yesterday"}),
            ("/statistics/municipal-cost", {"year": 2010, "daily_amount": -1}),
            ("/audit/export", {"from_seq": 5, "to_seq": 2}),
            ("/audit/export", {"since": "2010-01-01T00:00:00"}),
        ):
            response = await reporting.get(url, params=params, headers=reader_for(url))
            assert response.status_code == 422, (url, params, response.text)
        assert (
            await reporting.get(
                "/views/municipalities/Helsinki/clients",
                headers=reader_for("/views/municipalities/Helsinki/clients"),
            )
        ).status_code == 422
        unknown = await reporting.get(
            "/statistics/outcomes",
            params={"municipality": "Helsinki"},
            headers=reader_for("/statistics/outcomes"),
        )
        assert invalid_fields(unknown) == [("query", "municipality")]

        client = cases[0].client_id
        te = await get(reporting, f"/views/te/clients/{client}")
        assert te["client"]["route"] == "individual_service_guidance"
        assert [f["outcome"] for f in te["final_assessments"]] == ["education"]

        withdrawal = cases[0].withdraw(date(2010, 12, 1))
        await publish(js, settings, [withdrawal])
        await eventually(lambda: get(reporting, f"/views/te/clients/{client}"), lambda r: r["client"] is None)
        listed = await get(reporting, "/views/te/clients")
        assert client not in [c["client_id"] for c in listed] and len(listed) == 9

        timeline = (
            await reporting.get(
                f"/audit/clients/{client}/timeline", headers=reader_for(f"/audit/clients/{client}/timeline")
            )
        ).json()
        assert [e["event_type"] for e in timeline] == [e.event_type for e in cases[0].events]
        assert timeline[1]["causation_id"] == str(cases[0].events[0].event_id)
        assert timeline[0]["actor_person_id"] == "advisor-1"
        intake_positions = [e["position"] for e in timeline if e["source"] == "/reitti/intake"]
        assert intake_positions == list(range(1, len(intake_positions) + 1)), (
            "one chain per event store's stream"
        )
        assert (
            await reporting.get(
                "/audit/clients/client-nobody/timeline",
                headers=reader_for("/audit/clients/client-nobody/timeline"),
            )
        ).status_code == 404

        export = await reporting.get(
            "/audit/export", params={"from_seq": 1, "to_seq": 3}, headers=reader_for("/audit/export")
        )
        lines = [json.loads(line) for line in export.text.splitlines()]
        assert [line["streamseq"] for line in lines] == [1, 2, 3]
        assert lines[0]["id"] == str(events[0].event_id) and lines[0]["specversion"] == "1.0"


async def test_replay_rebuilds_projections_equal_to_the_live_ones_and_switches_over(
    settings, pool, nats_client
) -> None:
    js = nats_client.jetstream()
    cases = stories()
    cases[1].withdraw(date(2010, 6, 1))
    cases[2].health_details(date(2010, 6, 1), "details")
    # the 2011 target set, then cut: the replay must rebuild both settings
    events = [e for s in cases for e in s.events] + [
        *seed_targets(),
        target_set(2011, 180, date(2011, 2, 1), version=2, municipalities={"Mikkeli": 150, "Puumala": 30}),
    ]
    await publish(js, settings, events)
    async with running(reporting_app(settings)):
        await eventually(lambda: applied_events(pool), lambda n: n == len(events))
        nc = await connect_nats(settings.nats_url, name="test-replay")
        try:
            report = await rebuild(
                pool,
                nc.jetstream(),
                settings,
                target_schema="reporting_replayed",
                migrations=MIGRATIONS,
                projection=ReportingProjection,
            )
        finally:
            await nc.close()
        assert report.applied == len(events)
        async with pool.acquire() as conn:
            live = await ReportingProjection("reporting").snapshot(conn)
            rebuilt = await ReportingProjection("reporting_replayed").snapshot(conn)
        assert set(live) >= {"centre_cases", "te_clients", "steering_counts", "audit_log", "health_checks"}
        assert all(
            live[t] for t in ("centre_cases", "te_clients", "steering_counts", "audit_log", "health_checks")
        )
        assert rebuilt == live
        assert len(live["intake_targets"]) == 3

        code, out, err = await reitti(settings, "replay", "reporting")
        assert code == 0, err
        assert f"replayed {len(events)} events" in out and "events/s" in out
        async with pool.acquire() as conn:
            switched = await ReportingProjection("reporting").snapshot(conn)
        assert switched == live


async def test_audit_verify_passes_on_the_log_and_on_an_export_and_names_a_tampered_row(
    settings, pool, nats_client, tmp_path: Path
) -> None:
    js = nats_client.jetstream()
    cases = stories()[:4]
    events = [e for s in cases for e in s.events]
    await publish(js, settings, events)
    async with running(reporting_app(settings)):
        await eventually(lambda: applied_events(pool), lambda n: n == len(events))

    code, out, err = await reitti(settings, "audit-verify")
    assert code == 0, err
    assert f"{len(events)} entries" in out and "8 chains" in out, (
        "intake's and guidance's stream of 4 clients"
    )

    exported = tmp_path / "audit.jsonl"
    code, _, err = await reitti(settings, "audit-export", "--output", str(exported))
    assert code == 0 and f"exported {len(events)} events" in err
    code, out, err = await reitti(settings, "audit-verify", str(exported))
    assert code == 0, err

    lines = exported.read_text().splitlines()
    record = json.loads(lines[4])
    record["data"]["actor"]["person_id"] = "mallory"
    lines[4] = json.dumps(record)
    forged = tmp_path / "forged.jsonl"
    forged.write_text("\n".join(lines) + "\n")
    code, _, err = await reitti(settings, "audit-verify", str(forged))
    assert code == 1
    assert err.startswith(
        f"broken link: stream {record['subject']} of {record['source']} position {record['auditposition']}"
    )
    assert "line 5: the envelope does not hash to its audithash" in err

    victim = cases[2]
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE reporting.audit_log SET actor_person_id = 'mallory' "
            "WHERE source = '/reitti/intake' AND stream_id = $1 AND position = 2",
            victim.client_id,
        )
    code, _, err = await reitti(settings, "audit-verify")
    assert code == 1
    first = err.splitlines()[0]
    tampered = victim.events[1].event_id
    assert first.startswith(
        f"broken link: stream {victim.client_id} of /reitti/intake position 2 (event {tampered}"
    )
    assert first.endswith("stored actor differ from the event")
