"""Progress heartbeats: JetStream redelivers a delivery that is not acknowledged within
``ack_wait``. A short ``ack_wait`` makes a crashed consumer's deliveries come back soon
after its restart (docs/adr/0016); a consumer that is still working on a delivery (a slow
batch, a pause through a database outage) says so with ``in_progress`` (``+WPI``), which
restarts the delivery's ``ack_wait``, so a live consumer's work is not redelivered."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Protocol

log = logging.getLogger(__name__)


class InProgress(Protocol):
    async def in_progress(self) -> None: ...


def heartbeat_interval(ack_wait: float) -> float:
    """A third of ``ack_wait``: two beats may be lost or late before a redelivery."""
    return ack_wait / 3


@contextlib.asynccontextmanager
async def heartbeats(deliveries: Sequence[InProgress], *, every: float) -> AsyncIterator[None]:
    """While the block runs, send ``in_progress`` for each of ``deliveries`` every
    ``every`` seconds (the first after ``every``: a quick block sends none)."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(every)
            for delivery in deliveries:
                try:
                    await delivery.in_progress()
                except Exception as exc:  # the broker is away: JetStream redelivers, no harm
                    log.debug("heartbeat not sent: %s", type(exc).__name__)

    task = asyncio.create_task(beat(), name="heartbeats")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
