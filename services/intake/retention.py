"""The retention sweep: a client's personal data is erased four years after the
relationship closed, unless a legal hold is set (architecture decision 8, ADR 11).

Intake runs the sweep itself, at start and then every ``REITTI_RETENTION_SWEEP_HOURS``
(24 by default; 0 turns it off, for example when a scheduler runs `reitti erase-expired`
instead). With several intake replicas, one sweeps at a time: the sweep runs on a
connection of its own that holds a session advisory lock, and a replica that cannot
take it skips that round. The connection is closed after each round, so the lock can
never outlive it, whatever happens to the round.

After a round, if anyone was erased since the key-encryption key became current (by the
sweep, or by a request in the meantime), the KEK is rotated (runtime/keyvault.py, ADR
0021): so an erased key's old copies stop opening within one sweep interval at most.
`reitti rotate-keys` rotates at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from uuid import uuid4

import asyncpg

from contracts.base import Actor
from runtime import clock, keyvault
from runtime.decision import Context
from runtime.erasure import RETENTION_YEARS
from runtime.service import BackgroundTask, ServiceHost

log = logging.getLogger(__name__)

#: who erases when the retention period ends (the access and audit trails name it)
RETENTION_ACTOR = Actor(person_id="system:erasure", role="system", organisation="centre")
_TRY_LOCK = "SELECT pg_try_advisory_lock(hashtext('reitti.retention-sweep'))"

#: erase the expired clients on this connection, as ``ctx``; returns those erased now
Sweep = Callable[[asyncpg.Connection, Context], Awaitable[list[str]]]


def retention_context() -> Context:
    return Context(actor=RETENTION_ACTOR, now=clock.now(), correlation_id=uuid4())


def retention_sweep_task(sweep: Callable[[], Sweep], every: float) -> BackgroundTask:
    """A background task that runs ``sweep()`` now and then every ``every`` seconds, one
    replica at a time. A failed round is logged and retried at the next one."""

    async def run(host: ServiceHost, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await sweep_once(host, sweep())
            except Exception:
                log.exception("intake: retention sweep failed; the next round tries again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every)

    return run


async def rotate_if_due(conn: asyncpg.Connection) -> keyvault.Rotation | None:
    """After a round: if anyone was erased since the key-encryption key became current (by
    this sweep or by a request), rotate it, so no old copy of their key opens (ADR 0021)."""
    if not await keyvault.erased_since_rotation(conn):
        return None
    try:
        done = await keyvault.rotate(conn)
    except keyvault.RotationBusy:
        log.info("intake: key rotation skipped: another process is rotating")
        return None
    log.info("intake: rotated the key-encryption key: %d client keys re-wrapped", done.rewrapped)
    return done


async def sweep_once(host: ServiceHost, sweep: Sweep) -> list[str] | None:
    """One round under the sweep's lock; None when another replica holds it."""
    conn = await asyncpg.connect(host.settings.database_url)
    try:
        if not await conn.fetchval(_TRY_LOCK):
            log.info("intake: retention sweep skipped: another replica is sweeping")
            return None
        erased = await sweep(conn, retention_context())
        await rotate_if_due(conn)
    finally:
        await conn.close()  # and with it the lock
    if erased:
        # Who was erased, by id only (never a name): an operator must be able to see that
        # a sweep erased something, and whom, without the log keeping the personal data.
        log.warning(
            "intake: retention sweep erased the personal data of %d clients closed more than %d "
            "years ago (not under a legal hold): %s",
            len(erased),
            RETENTION_YEARS,
            ", ".join(erased),
        )
    else:
        log.info("intake: retention sweep erased nobody")
    return erased
