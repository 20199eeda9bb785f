"""Reitti's copy of the partner feeds forgets an erased client (architecture decision 14,
docs/adr/0021).

The feeds stream (``<NS>_FEEDS``) holds the readable copies sent to partners (a partner
cannot hold our keys). Each copy's subject ends with its client's id,
``<ns>.feeds.<org>.<EventType>.<client-id>``, so the client's messages can be found without
reading the stream. When reporting applies ``ClientDataErased`` it records, in the same
transaction, that the client's feed messages must go (``<feeds schema>.erasures``). A
background task then waits until the feeds outbox holds no more copies of that client
(all that were queued before the erasure are published), and deletes every message of the
client from the stream, except the ``ClientDataErased`` notices themselves (they carry no
personal data and tell partners to erase theirs). JetStream's message delete overwrites
the stored message (``no_erase`` is false: secure delete), so the bytes are gone from the
stream's files too. What a partner already fetched stays with the partner (ADR 0011).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from runtime.db import Migration
from runtime.service import BackgroundTask, ServiceHost
from runtime.sql import SqlStatements

log = logging.getLogger(__name__)

ERASURE_NOTICE = "ClientDataErased"
#: seconds between looks at the erasures waiting for their copies to be published
POLL_SECONDS = 1.0

MIGRATION = Migration(
    name="feeds_0001_erasures.sql",
    sql="""
CREATE TABLE IF NOT EXISTS {schema}.erasures (
    client_id  text        PRIMARY KEY,
    queued_at  timestamptz NOT NULL DEFAULT now()
);
""",
)


class FeedErasureSql(SqlStatements):
    """The erasures waiting in the feeds schema."""

    due = """
SELECT e.client_id FROM {schema}.erasures e
WHERE NOT EXISTS (SELECT 1 FROM {schema}.outbox o WHERE o.subject LIKE '%.' || e.client_id)
ORDER BY e.queued_at LIMIT 100
"""
    done = "DELETE FROM {schema}.erasures WHERE client_id = $1"


def client_filter(namespace: str, client_id: str) -> str:
    """Every feed message of ``client_id``, whichever partner and event type."""
    return f"{namespace}.feeds.*.*.{client_id}"


async def erase_client_messages(js: JetStreamContext, stream: str, namespace: str, client_id: str) -> int:
    """Delete (securely) every message of ``client_id`` on the feeds stream except the
    erasure notices; returns how many."""
    wanted = client_filter(namespace, client_id)
    seq, erased = 1, 0
    while True:
        try:
            msg = await js.get_msg(stream, seq=seq, subject=wanted, next=True)
        except NotFoundError:
            return erased
        assert msg.seq is not None and msg.subject is not None
        if msg.subject.split(".")[-2] != ERASURE_NOTICE:
            await js.delete_msg(stream, msg.seq)
            erased += 1
        seq = msg.seq + 1


class FeedEraser:
    """Works through ``<schema>.erasures``: a client whose copies are all published has
    its feed messages deleted, then its row goes."""

    def __init__(self, pool: asyncpg.Pool, js: JetStreamContext, *, schema: str, stream: str, namespace: str):
        self._pool, self._js, self._stream, self._namespace = pool, js, stream, namespace
        self.sql = FeedErasureSql(schema)

    async def run_once(self) -> int:
        """Erase every client whose copies are all published; returns how many clients."""
        due = [r["client_id"] for r in await self._pool.fetch(self.sql.due)]
        for client_id in due:
            erased = await erase_client_messages(self._js, self._stream, self._namespace, client_id)
            await self._pool.execute(self.sql.done, client_id)
            log.info("reporting: deleted %d feed messages of an erased client", erased)
        return len(due)


def feed_erasure_task(schema: str) -> BackgroundTask:
    """The background task of :class:`FeedEraser`, every :data:`POLL_SECONDS`."""

    async def run(host: ServiceHost, stop: asyncio.Event) -> None:
        eraser = FeedEraser(
            host.pool,
            host.js,
            schema=schema,
            stream=host.settings.feeds_stream,
            namespace=host.settings.namespace,
        )
        while not stop.is_set():
            try:
                await eraser.run_once()
            except Exception as exc:  # the broker or database away: the next round retries
                log.warning("reporting: feed erasure failed, will retry: %s", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=POLL_SECONDS)

    return run
