"""Intake's retention sweep against real PostgreSQL: one sweep at a time, and a legal
hold set while a sweep runs wins."""

from __future__ import annotations

from datetime import date

import asyncpg
import pytest

from runtime import erasure
from runtime.decision import Context
from runtime.eventstore import EventStore
from runtime.service import ServiceHost
from services.intake.application import erase_expired
from services.intake.repository import SCHEMA, IntakeRepository
from services.intake.retention import retention_context, sweep_once

pytestmark = pytest.mark.integration

LOCK = "SELECT pg_advisory_lock(hashtext('reitti.retention-sweep'))"
UNLOCK = "SELECT pg_advisory_unlock(hashtext('reitti.retention-sweep'))"


async def test_a_sweep_waits_its_turn_while_another_holds_the_lock(settings, pool) -> None:
    host = ServiceHost(name="intake", settings=settings, schema=SCHEMA, migrations=())
    swept: list[str] = []

    async def sweep(conn: asyncpg.Connection, ctx: Context) -> list[str]:
        swept.append(ctx.actor.person_id)
        return []

    async with pool.acquire() as other_replica:
        await other_replica.execute(LOCK)
        assert await sweep_once(host, sweep) is None
        assert swept == []
        await other_replica.execute(UNLOCK)
    assert await sweep_once(host, sweep) == []
    assert swept == ["system:erasure"]
    assert await sweep_once(host, sweep) == [], "the lock went with the sweep's connection"


async def test_a_legal_hold_set_after_the_sweep_listed_the_client_wins(settings, pool, monkeypatch) -> None:
    client = "client-held-meanwhile"
    async with pool.acquire() as conn:
        await erasure.record_closure(conn, client, date(2020, 1, 1))
        listed = await erasure.expired_clients(conn, date(2026, 6, 1))
        assert client in listed
        await erasure.set_legal_hold(conn, client, True)  # an operator, a moment later

        async def stale_list(_: asyncpg.Connection, __: date) -> list[str]:
            return listed

        monkeypatch.setattr(erasure, "expired_clients", stale_list)
        store = EventStore(pool, schema=SCHEMA, namespace=settings.namespace, source="/test")
        erased = await erase_expired(conn, IntakeRepository(store), date(2026, 6, 1), ctx=retention_context())
        vault = await erasure.vault_status(conn, client)
    assert client not in erased
    assert vault is not None and vault["has_key"] and vault["legal_hold"]


async def test_a_sweep_logs_whom_it_erased_by_id_and_that_it_erased_nobody(settings, caplog) -> None:
    host = ServiceHost(name="intake", settings=settings, schema=SCHEMA, migrations=())

    async def sweep(conn: asyncpg.Connection, ctx: Context) -> list[str]:
        return ["client-a", "client-b"]

    async def sweep_nobody(conn: asyncpg.Connection, ctx: Context) -> list[str]:
        return []

    with caplog.at_level("INFO", logger="services.intake.retention"):
        assert await sweep_once(host, sweep) == ["client-a", "client-b"]
        assert await sweep_once(host, sweep_nobody) == []
    erased, nobody = (r for r in caplog.records if "retention sweep erased" in r.getMessage())
    assert erased.levelname == "WARNING", "an erasure is seen in a log kept at WARNING"
    assert "erased the personal data of 2 clients" in erased.getMessage()
    assert "client-a, client-b" in erased.getMessage()
    assert nobody.getMessage() == "intake: retention sweep erased nobody"
