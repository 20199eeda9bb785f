"""The event store's group commit and client keys against real PostgreSQL: appends made
at the same moment share a statement, yet each gets its own outcome; personal fields are
sealed with the client's current key, whoever made it and whatever happened meanwhile."""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg
import pytest

from runtime import erasure
from runtime.config import Settings
from runtime.eventstore import ConcurrencyConflict, EventStore
from tests.support.factories import client_referred

pytestmark = pytest.mark.integration

PERSONAL_CODE = "010190-123M"  # the factory's


def store(pool: asyncpg.Pool, settings: Settings, *, max_writers: int = 4) -> EventStore:
    return EventStore(
        pool, schema="intake", namespace=settings.namespace, source="/test", max_writers=max_writers
    )


def new_client() -> str:
    return f"client-{uuid.uuid4()}"


async def stored_data(pool: asyncpg.Pool, stream_id: str) -> list[dict[str, object]]:
    rows = await pool.fetch(
        "SELECT envelope::text FROM intake.events WHERE stream_id = $1 ORDER BY stream_version", stream_id
    )
    return [json.loads(r["envelope"])["data"] for r in rows]


async def test_appends_made_at_once_share_commits_and_all_arrive_in_order(pool, settings) -> None:
    es = store(pool, settings, max_writers=1)
    clients = [new_client() for _ in range(40)]
    versions = await asyncio.gather(*(es.append(c, 0, [client_referred(c, 1)]) for c in clients))
    assert versions == [1] * 40
    transactions = await pool.fetchval("SELECT count(DISTINCT xmin::text) FROM intake.events")
    assert transactions < 40, "with one writer, appends made at once should share transactions"
    outbox = await pool.fetch(
        "SELECT e.stream_id FROM intake.outbox o JOIN intake.events e USING (event_id) ORDER BY o.outbox_id"
    )
    assert sorted(r["stream_id"] for r in outbox) == sorted(clients)
    positions = await pool.fetch(
        "SELECT e.global_position, o.outbox_id FROM intake.outbox o JOIN intake.events e USING (event_id)"
        " ORDER BY o.outbox_id"
    )
    assert [r["global_position"] for r in positions] == sorted(r["global_position"] for r in positions)


async def test_a_conflict_in_a_group_fails_only_its_own_append(pool, settings) -> None:
    es = store(pool, settings, max_writers=1)
    taken = new_client()
    await es.append(taken, 0, [client_referred(taken, 1)])
    others = [new_client() for _ in range(10)]
    results = await asyncio.gather(
        es.append(taken, 0, [client_referred(taken, 1)]),
        *(es.append(c, 0, [client_referred(c, 1)]) for c in others),
        return_exceptions=True,
    )
    assert isinstance(results[0], ConcurrencyConflict) and results[0].actual_version == 1
    assert results[1:] == [1] * 10
    assert await pool.fetchval("SELECT count(*) FROM intake.events") == 11


async def test_two_appends_to_one_stream_at_once_are_ordered_by_their_versions(pool, settings) -> None:
    es = store(pool, settings, max_writers=1)
    client = new_client()
    first, second = client_referred(client, 1), client_referred(client, 2)
    results = await asyncio.gather(es.append(client, 0, [first]), es.append(client, 1, [second]))
    assert results == [1, 2]
    assert [e.event_id for e in await es.read_stream(client)] == [str(first.event_id), str(second.event_id)]


async def test_a_group_stopped_by_a_concurrent_writer_settles_each_append_alone(pool, settings) -> None:
    """Another transaction holds version 1 of a stream uncommitted: the group's insert waits
    for it, then hits the primary key. Only that stream's caller gets the conflict."""
    es = store(pool, settings, max_writers=1)
    contested = new_client()
    async with pool.acquire() as blocker:
        tx = blocker.transaction()
        await tx.start()
        await es.append(contested, 0, [client_referred(contested, 1)], conn=blocker)
        others = [new_client() for _ in range(5)]
        group = asyncio.gather(
            es.append(contested, 0, [client_referred(contested, 1)]),
            *(es.append(c, 0, [client_referred(c, 1)]) for c in others),
            return_exceptions=True,
        )
        await asyncio.sleep(0.3)  # the group's statement is now waiting on the blocker's row
        await tx.commit()
        results = await group
    assert isinstance(results[0], ConcurrencyConflict)
    assert results[1:] == [1] * 5
    assert await pool.fetchval("SELECT count(*) FROM intake.events") == 6


async def test_a_duplicate_event_id_in_a_group_fails_only_its_own_append(pool, settings) -> None:
    es = store(pool, settings, max_writers=1)
    first = client_referred(new_client(), 1)
    await es.append(first.stream_id, 0, [first])
    again = first.model_copy(update={"stream_id": new_client()})
    others = [client_referred(new_client(), 1) for _ in range(4)]
    results = await asyncio.gather(
        es.append(again.stream_id, 0, [again]),
        *(es.append(e.stream_id, 0, [e]) for e in others),
        return_exceptions=True,
    )
    assert isinstance(results[0], ValueError) and "event_id" in str(results[0])
    assert results[1:] == [1] * 4


async def test_a_new_clients_key_is_made_by_the_append_and_opens_its_fields(pool, settings) -> None:
    es = store(pool, settings)
    client = new_client()
    await es.append(client, 0, [client_referred(client, 1)])
    [data] = await stored_data(pool, client)
    assert PERSONAL_CODE not in json.dumps(data) and str(data["client"]["personal_identity_code"]).startswith(  # type: ignore[index]
        erasure.PREFIX
    )
    [event] = await es.load_events(client)
    assert event.client.personal_identity_code == PERSONAL_CODE  # type: ignore[attr-defined]


async def test_a_key_made_before_the_first_event_is_used_not_replaced(pool, settings) -> None:
    """A legal hold set before any event made the client's key: the first append, which
    proposed a key of its own, seals again with the existing one."""
    es = store(pool, settings)
    client = new_client()
    async with pool.acquire() as conn:
        await erasure.set_legal_hold(conn, client, True)
        before = await conn.fetchval("SELECT key FROM keys.client_keys WHERE client_id = $1", client)
    await es.append(client, 0, [client_referred(client, 1)])
    after = await pool.fetchval("SELECT key FROM keys.client_keys WHERE client_id = $1", client)
    assert after == before
    [event] = await es.load_events(client)
    assert event.client.personal_identity_code == PERSONAL_CODE  # type: ignore[attr-defined]


async def test_an_erased_client_gets_no_new_key_and_no_personal_data(pool, settings) -> None:
    es = store(pool, settings)
    client = new_client()
    async with pool.acquire() as conn:
        assert await erasure.delete_key(conn, client, "test")
    await es.append(client, 0, [client_referred(client, 1)])
    [data] = await stored_data(pool, client)
    assert data["client"]["personal_identity_code"] == erasure.ERASED  # type: ignore[index]
    assert await pool.fetchval("SELECT key FROM keys.client_keys WHERE client_id = $1", client) is None


async def test_an_erasure_between_reading_the_key_and_appending_is_not_missed(pool, settings) -> None:
    """The append reads the key, then its statement waits on the key's row, which an
    erasure is changing; when the erasure commits, the append sees the key is gone and
    seals its fields as erased instead of writing them under a deleted key."""
    es = store(pool, settings)
    client = new_client()
    await es.append(client, 0, [client_referred(client, 1)])
    async with pool.acquire() as eraser:
        tx = eraser.transaction()
        await tx.start()
        assert await erasure.delete_key(eraser, client, "test")
        append = asyncio.ensure_future(es.append(client, 1, [client_referred(client, 2)]))
        await asyncio.sleep(0.3)
        assert not append.done(), "the append should wait for the erasure's transaction"
        await tx.commit()
    assert await append == 2
    first, second = await stored_data(pool, client)
    assert str(first["client"]["personal_identity_code"]).startswith(erasure.PREFIX)  # type: ignore[index]
    assert second["client"]["personal_identity_code"] == erasure.ERASED  # type: ignore[index]


async def test_a_caller_cancelled_mid_statement_does_not_cut_short_the_others(pool, settings) -> None:
    """The statement carrying a group runs in a writer task of its own: cancelling one of
    its callers leaves the statement, and so the other callers' appends, to finish."""
    es = store(pool, settings, max_writers=1)
    contested, cancelled, kept = new_client(), new_client(), new_client()
    async with pool.acquire() as blocker:
        tx = blocker.transaction()
        await tx.start()
        await es.append(contested, 0, [client_referred(contested, 1)], conn=blocker)
        calls = [
            asyncio.ensure_future(es.append(c, 0, [client_referred(c, 1)]))
            for c in (contested, cancelled, kept)
        ]
        await asyncio.sleep(0.3)  # the group's statement waits on the blocker's row
        calls[1].cancel()
        await tx.commit()
        results = await asyncio.gather(*calls, return_exceptions=True)
    assert isinstance(results[0], ConcurrencyConflict)
    assert isinstance(results[1], asyncio.CancelledError)
    assert results[2] == 1
    stored = {r["stream_id"] for r in await pool.fetch("SELECT stream_id FROM intake.events")}
    assert stored == {contested, cancelled, kept}, "the cancelled caller's append was not cut short"
