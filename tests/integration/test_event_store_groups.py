"""The event store's group commit and client keys against real PostgreSQL: appends made
at the same moment share a statement, yet each gets its own outcome; personal fields are
sealed with the client's current key, whoever made it and whatever happened meanwhile."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import asyncpg
import pytest

from contracts.intake import ClientReferred
from runtime import erasure
from runtime.config import Settings
from runtime.eventstore import ConcurrencyConflict, EventStore
from tests.support.apps import eventually
from tests.support.factories import client_referred, of_kind
from tests.support.locks import waiting_on

pytestmark = pytest.mark.integration

PERSONAL_CODE = "010190-123M"  # the factory's


def store(pool: asyncpg.Pool, settings: Settings, *, max_writers: int = 4) -> EventStore:
    return EventStore(
        pool, schema="intake", namespace=settings.namespace, source="/test", max_writers=max_writers
    )


def new_client() -> str:
    return f"client-{uuid.uuid4()}"


async def stored_data(pool: asyncpg.Pool, stream_id: str) -> list[dict[str, Any]]:  # JSON
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
    """With several writers, a stream's second append waits for the statement carrying
    its first; it is never written beside it, nor before it."""
    es = store(pool, settings, max_writers=4)
    for _ in range(20):
        client = new_client()
        first, second = client_referred(client, 1), client_referred(client, 2)
        others = [client_referred(new_client(), 1) for _ in range(6)]
        results = await asyncio.gather(
            es.append(client, 0, [first]),
            es.append(client, 1, [second]),
            *(es.append(e.stream_id, 0, [e]) for e in others),
        )
        assert results == [1, 2] + [1] * 6
        assert [e.event_id for e in await es.read_stream(client)] == [
            str(first.event_id),
            str(second.event_id),
        ]


async def test_an_append_that_cannot_be_prepared_fails_alone(pool, settings) -> None:
    es = store(pool, settings, max_writers=1)
    bad = client_referred(new_client(), 1, municipality="---")  # no subject can be made of it
    others = [client_referred(new_client(), 1) for _ in range(4)]
    results = await asyncio.gather(
        es.append(bad.stream_id, 0, [bad]),
        *(es.append(e.stream_id, 0, [e]) for e in others),
        return_exceptions=True,
    )
    assert isinstance(results[0], ValueError) and "subject" in str(results[0])
    assert results[1:] == [1] * 4


async def test_two_stores_appending_to_the_same_streams_in_opposite_orders_never_deadlock(
    pool, settings
) -> None:
    """Two processes' stores write groups over the same new streams, called in opposite
    orders. Each group is written in stream order, so one waits for the other instead of
    both waiting on each other: each stream has one winner, and every loser a conflict."""
    # Each insert takes a moment, so the two statements overlap (this test's own database).
    await pool.execute(
        "CREATE FUNCTION intake.slow() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN PERFORM pg_sleep(0.005); RETURN NEW; END $$"
    )
    await pool.execute(
        "CREATE TRIGGER slow BEFORE INSERT ON intake.events FOR EACH ROW EXECUTE FUNCTION intake.slow()"
    )
    one, other = store(pool, settings, max_writers=1), store(pool, settings, max_writers=1)
    for _ in range(3):
        streams = [new_stream("info-session-") for _ in range(10)]
        forward = [one.append(s, 0, [client_referred(s, 1)]) for s in streams]
        backward = [other.append(s, 0, [client_referred(s, 1)]) for s in reversed(streams)]
        results = await asyncio.gather(*forward, *backward, return_exceptions=True)
        assert not [r for r in results if not (r == 1 or isinstance(r, ConcurrencyConflict))], results
        assert results.count(1) == len(streams)


STREAM_KINDS = pytest.mark.parametrize(
    "prefix",
    [
        pytest.param("client-", id="client-streams (the key path)"),
        pytest.param("info-session-", id="other streams (the primary-key path)"),
    ],
)


def new_stream(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4()}"


@STREAM_KINDS
async def test_a_group_stopped_by_a_concurrent_writer_settles_each_append_alone(
    pool, settings, prefix
) -> None:
    """Another transaction holds version 1 of a stream uncommitted: the group's statement
    waits for it (on the client's key row, or on the primary key), then finds the stream
    taken. Only that stream's caller gets the conflict."""
    es = store(pool, settings, max_writers=1)
    contested = new_stream(prefix)
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
        await waiting_on(pool, blocker)  # the group's statement waits on the blocker's row
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
    assert PERSONAL_CODE not in json.dumps(data) and str(data["client"]["personal_identity_code"]).startswith(
        erasure.PREFIX
    )
    [event] = await es.load_events(client)
    assert of_kind(ClientReferred, event).client.personal_identity_code == PERSONAL_CODE


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
    assert of_kind(ClientReferred, event).client.personal_identity_code == PERSONAL_CODE


async def test_an_erased_client_gets_no_new_key_and_no_personal_data(pool, settings) -> None:
    es = store(pool, settings)
    client = new_client()
    async with pool.acquire() as conn:
        assert await erasure.delete_key(conn, client, "test")
    await es.append(client, 0, [client_referred(client, 1)])
    [data] = await stored_data(pool, client)
    assert data["client"]["personal_identity_code"] == erasure.ERASED
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
        await waiting_on(pool, eraser)
        assert not append.done(), "the append should wait for the erasure's transaction"
        await tx.commit()
    assert await append == 2
    first, second = await stored_data(pool, client)
    assert str(first["client"]["personal_identity_code"]).startswith(erasure.PREFIX)
    assert second["client"]["personal_identity_code"] == erasure.ERASED


@STREAM_KINDS
async def test_a_caller_cancelled_mid_statement_does_not_cut_short_the_others(pool, settings, prefix) -> None:
    """The statement carrying a group runs in a writer task of its own: cancelling one of
    its callers leaves the statement, and so the other callers' appends, to finish."""
    es = store(pool, settings, max_writers=1)
    contested, cancelled, kept = new_stream(prefix), new_stream(prefix), new_stream(prefix)
    async with pool.acquire() as blocker:
        tx = blocker.transaction()
        await tx.start()
        await es.append(contested, 0, [client_referred(contested, 1)], conn=blocker)
        calls = [
            asyncio.ensure_future(es.append(c, 0, [client_referred(c, 1)]))
            for c in (contested, cancelled, kept)
        ]
        await waiting_on(pool, blocker)  # the group's statement waits on the blocker's row
        calls[1].cancel()
        await tx.commit()
        results = await asyncio.gather(*calls, return_exceptions=True)
    assert isinstance(results[0], ConcurrencyConflict)
    assert isinstance(results[1], asyncio.CancelledError)
    assert results[2] == 1

    # The cancelled caller does not wait for its append, which the writer may still be
    # writing (on the primary-key path, each append of the group alone, in turn).
    async def stored() -> set[str]:
        return {r["stream_id"] for r in await pool.fetch("SELECT stream_id FROM intake.events")}

    expected = {contested, cancelled, kept}
    assert await eventually(stored, lambda s: s == expected, within=10) == expected, "not cut short"


async def test_updating_the_key_row_before_appending_makes_a_racing_append_wait_not_deadlock(
    pool, settings
) -> None:
    """The append holds the client's key row shared until commit. A transaction that also
    updates that row (guidance's closure records the retention date) must do so before its
    append: then a racing append to the same client waits for it and gets a conflict."""
    from datetime import date

    es = store(pool, settings)
    client = new_client()
    await es.append(client, 0, [client_referred(client, 1)])
    async with pool.acquire() as first:
        tx = first.transaction()
        await tx.start()
        await erasure.record_closure(first, client, date(2020, 1, 1))
        await es.append(client, 1, [client_referred(client, 2)], conn=first)
        racing = asyncio.ensure_future(es.append(client, 1, [client_referred(client, 2)]))
        await waiting_on(pool, first)
        assert not racing.done(), "the racing append waits for the first transaction"
        await tx.commit()
    with pytest.raises(ConcurrencyConflict):
        await racing
    assert [e.stream_version for e in await es.read_stream(client)] == [1, 2]
