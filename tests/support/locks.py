"""Waiting, without sleeping, until a statement really is waiting on a lock."""

from __future__ import annotations

import asyncpg

from tests.support.apps import eventually

#: backends of this database waiting on a lock held by the given backend
_WAITING_ON = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock' AND $1 = ANY(pg_blocking_pids(pid))
"""


async def waiting_on(pool: asyncpg.Pool, blocker: asyncpg.Connection, *, within: float = 10.0) -> int:
    """Poll ``pg_stat_activity`` until some statement waits on a lock ``blocker``'s
    transaction holds; return how many do. Fails (AssertionError) if none does within
    ``within`` seconds: the path the test means to take was not taken."""
    pid = blocker.get_server_pid()

    async def count() -> int:
        return int(await pool.fetchval(_WAITING_ON, pid))

    return await eventually(count, lambda n: n > 0, within=within)
