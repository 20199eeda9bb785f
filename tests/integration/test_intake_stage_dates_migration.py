"""Migration 0103 on a queue written before it: the stage's instant becomes a business
date, and a case still waiting for its first invitation waits from its referral's date
(docs/adr/0030). Real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from runtime.db import apply_migrations
from services.intake.app import MIGRATIONS

pytestmark = pytest.mark.integration

SCHEMA = "intake_before_0103"
ROW = """
INSERT INTO intake_before_0103.case_overview (client_id, version, municipality, source, referral_date,
    received_by, received_at, stage, stage_since, rule_set)
VALUES ($1, 1, 'Mikkeli', 'te_office', $2, 'advisor-1', $3, $4, $3, 'seed')
"""
INVITED = """
INSERT INTO intake_before_0103.events (stream_id, stream_version, event_id, event_type, schema_version,
    occurred_at, recorded_at, envelope)
VALUES ($1, 2, gen_random_uuid(), 'InvitedToInfoSession', 1, $2, $2, '{}'::jsonb)
"""


async def test_the_queue_written_before_0103_gets_business_dates(pool) -> None:
    before = [m for m in MIGRATIONS if m.name != "0103_stage_business_dates.sql"]
    [after] = [m for m in MIGRATIONS if m.name == "0103_stage_business_dates.sql"]
    recorded = datetime(2026, 12, 2, 22, 30, tzinfo=UTC)  # 3 December in Helsinki
    async with pool.acquire() as conn:
        await conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        await apply_migrations(conn, SCHEMA, before)
        await conn.execute(ROW, "waits", date(2010, 3, 1), recorded, "invitation")
        await conn.execute(ROW, "missed", date(2010, 3, 1), recorded, "invitation")
        await conn.execute(INVITED, "missed", datetime(2026, 11, 1, tzinfo=UTC))
        await conn.execute(ROW, "invited", date(2010, 3, 1), recorded, "info_session")
        assert await apply_migrations(conn, SCHEMA, [after]) == [after.name]
        rows = await conn.fetch(f"SELECT client_id, stage_since FROM {SCHEMA}.case_overview ORDER BY 1")
        await conn.execute(f"DROP SCHEMA {SCHEMA} CASCADE")
    assert {r["client_id"]: r["stage_since"] for r in rows} == {
        "invited": date(2026, 12, 3),
        "missed": date(2026, 12, 3),
        "waits": date(2010, 3, 1),
    }
