"""The demo year: 139 new clients of the seed's 2010 taken through the real HTTP APIs of
intake and guidance to closures, and reporting's statistics showing the seed's shares.
Against real NATS JetStream and PostgreSQL; a second run, by the ``reitti demo`` command,
adds nothing."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives import serialization
from fastapi import FastAPI

from reitti.demo import Endpoints, plan_year, run_demo
from runtime import clock, erasure
from runtime.deadletters import list_dead_letters
from runtime.eventstore import EventStore
from runtime.streams import connect_nats
from services.guidance.app import create_app as guidance_app
from services.intake.app import create_app as intake_app
from services.intake.application import erase_expired
from services.intake.identity import check_character_ok
from services.intake.repository import SCHEMA as INTAKE_SCHEMA
from services.intake.repository import IntakeRepository
from services.intake.retention import retention_context
from services.reporting.app import create_app as reporting_app
from services.reporting.config import POPULATIONS
from services.reporting.figures import apportion
from tests.support.apps import eventually
from tests.support.auth import ISSUER, headers

SEED_SOURCES = {"te_office": 0.52, "social_services": 0.05, "self_referral": 0.29, "other": 0.14}
SEED_OUTCOMES = {
    "open_labour_market": 0.13,
    "education": 0.15,
    "wage_subsidised_work": 0.17,
    "outside_labour_force": 0.28,
    "unemployed": 0.14,
    "interrupted": 0.13,
}


def rounds_to(counts: Counter[str], seed: dict[str, float]) -> None:
    total = sum(counts.values())
    for name, share in seed.items():
        assert abs(counts[name] / total - share) <= 0.005, (name, counts[name], total)


def test_the_plan_is_the_same_every_time_and_has_the_seed_s_mix() -> None:
    clients = plan_year()
    assert clients == plan_year(), "the same seed gives the same year"
    assert len(clients) == 139
    assert len({c.identity_code for c in clients}) == 139
    assert all(check_character_ok(c.identity_code) and int(c.identity_code[7:10]) >= 900 for c in clients)
    rounds_to(Counter(c.source for c in clients), SEED_SOURCES)
    rounds_to(Counter(c.closure.outcome for c in clients if c.closure), SEED_OUTCOMES)
    assert Counter(c.municipality for c in clients) == apportion(139, POPULATIONS)
    for c in clients:
        assert date(2010, 1, 1) <= c.referral_date <= c.consent_on <= c.assessed_on <= date(2010, 12, 31)
        if c.closure is not None:
            assert c.assigned_on is not None and c.plan_on is not None
            assert c.assessed_on <= c.assigned_on <= c.plan_on <= c.closure.closed_on <= date(2010, 12, 31)
            assert all(on <= c.closure.closed_on for _, on in c.phases)
            assert (c.closure.outcome == "outside_labour_force") == bool(
                c.closure.outside_labour_force_reason
            )
        if c.transfer is not None and c.transfer.returned_on is not None:
            assert c.closure is not None and c.transfer.returned_on < c.closure.closed_on


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def serving(apps: Mapping[str, FastAPI]) -> AsyncIterator[dict[str, str]]:
    """Each app on its own port, with real HTTP (the demo speaks HTTP, not ASGI)."""
    servers, tasks, urls = [], [], {}
    for name, app in apps.items():
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        servers.append(server)
        tasks.append(asyncio.create_task(server.serve()))
        urls[name] = f"http://127.0.0.1:{port}"
    try:
        for server in servers:

            async def started(s: Any = server) -> bool:
                return bool(s.started)

            await eventually(started, bool, within=60)
        yield urls
    finally:
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)


def shares_match(answer: dict[str, Any], seed: dict[str, float]) -> None:
    for name, share in seed.items():
        assert abs(answer["shares"][name] - share) <= 0.005, (name, answer)


@pytest.mark.integration
async def test_the_demo_year_goes_through_the_apis_and_reporting_shows_the_seed_s_shares(
    settings, pool, tmp_path: Path
) -> None:
    apps = {
        "intake": intake_app(settings),
        "guidance": guidance_app(settings),
        "reporting": reporting_app(settings),
    }
    async with serving(apps) as urls:
        endpoints = Endpoints(**urls)
        report = await run_demo(endpoints, ISSUER, concurrency=8)

        assert (report.clients, report.new_cases, report.already_present) == (139, 139, 0)
        assert report.closed_now == 100 and report.guidance_cases == 130
        # The 2010 closures are past retention today: held, the next start's sweep keeps them.
        assert report.held == 139
        async with pool.acquire() as conn:
            store = EventStore(pool, schema=INTAKE_SCHEMA, namespace=settings.namespace, source="/test")
            assert await erasure.expired_clients(conn, clock.today()) == []
            assert (
                await erase_expired(conn, IntakeRepository(store), clock.today(), ctx=retention_context())
                == []
            )
            # The seed's guide decides or proposes: some closures decided a proposal, by another
            closures = await conn.fetch(
                "SELECT envelope->'data'->>'proposed_by_person_id' AS proposer,"
                " envelope->'data'->'actor'->>'person_id' AS decider"
                " FROM guidance.events WHERE event_type = 'ClientRelationshipClosed'"
            )
        proposed = [r for r in closures if r["proposer"] is not None]
        assert len(closures) == 100 and 0 < len(proposed) < 100
        assert all(r["decider"] == "demo-coordinator" != r["proposer"] for r in proposed)
        stats = report.statistics
        assert stats["caught_up"], stats
        assert stats["intake"]["new_clients"] == 139
        # the seed's targets, set through intake's API as the steering group sets them
        assert (stats["intake"]["target"], stats["intake"]["target_set_on"]) == (350, "2009-12-15")
        by_municipality = {r["municipality"]: r["new_clients"] for r in stats["intake"]["municipalities"]}
        assert by_municipality == apportion(139, POPULATIONS)
        assert stats["referral_sources"]["total"] == 139
        shares_match(stats["referral_sources"], SEED_SOURCES)
        assert stats["outcomes"]["total"] == 100
        shares_match(stats["outcomes"], SEED_OUTCOMES)

        # The year leaves clients waiting for a named guide: the demo says how many, and
        # guidance counts their waits to the day asked for, never past it (docs/adr/0030).
        coordinator = headers("service_coordinator", "coord-1", "mikkeli")
        async with httpx.AsyncClient(base_url=urls["guidance"]) as guidance:
            year_end = await guidance.get("/waiting", params={"as_of": "2010-12-31"}, headers=coordinator)
            today = await guidance.get("/waiting", headers=coordinator)
        assert year_end.status_code == today.status_code == 200, year_end.text
        assert report.left_waiting == len(year_end.json()) == len(today.json()) > 0
        assert all(0 <= e["waiting_days"] <= 365 for e in year_end.json())
        assert [e["waiting_since"] for e in year_end.json()] == [e["waiting_since"] for e in today.json()]

        # Again, by the command as a person runs it, with the key `reitti up` keeps: nothing is added.
        keys = tmp_path / "keys"
        keys.mkdir()
        (keys / "token-signing.key").write_bytes(
            ISSUER.private_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "reitti.cli",
            "demo",
            "--intake-url",
            urls["intake"],
            "--guidance-url",
            urls["guidance"],
            "--reporting-url",
            urls["reporting"],
            "--data-dir",
            str(tmp_path),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "COLUMNS": "120"},
        )
        out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
        text = out.decode()
        assert proc.returncode == 0, text + err.decode()
        assert "0 new, 139 already present" in text and "0 closed now (100 were closed before)" in text
        assert "new clients in 2010: 139" in text, "the second run added no client"
        assert "legal hold set on 139 demo clients" in text
        assert f"{report.left_waiting} clients end 2010 waiting for a named guide" in text
        assert "(total 100)" in text and "28.0 %" in text, "nor a closure"
        assert "(intake target 350)" in text
        async with pool.acquire() as conn:
            settings_made = await conn.fetch(
                f"SELECT stream_id, count(*) AS n FROM {INTAKE_SCHEMA}.events"
                " WHERE stream_id LIKE 'intake-target-%' GROUP BY stream_id ORDER BY stream_id"
            )
        assert [(r["stream_id"], r["n"]) for r in settings_made] == [
            ("intake-target-2010", 1),
            ("intake-target-2011", 1),
        ], "nor a target setting"

    # Every event of the year was applied: no consumer dead-lettered anything.
    nc = await connect_nats(settings.nats_url, name="test-demo")
    try:
        assert await list_dead_letters(nc.jetstream(), settings, limit=50) == []
    finally:
        await nc.close()
