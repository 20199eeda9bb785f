"""Progress heartbeats: JetStream redelivers a delivery that is not acknowledged within
``ack_wait``. A short ``ack_wait`` makes a crashed consumer's deliveries come back soon
after its restart (docs/adr/0016); a consumer that is still working on a delivery (a slow
batch, a pause through a database outage) says so with ``in_progress`` (``+WPI``), which
restarts the delivery's ``ack_wait``, so a live consumer's work is not redelivered."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Protocol, TypeVar

log = logging.getLogger(__name__)


T = TypeVar("T")


class InProgress(Protocol):
    async def in_progress(self) -> None: ...


class WaitingQueue(asyncio.Queue[T]):
    """An asyncio queue that can tell what waits in it: deliveries queued behind the
    batch being applied need heartbeats as much as the batch itself."""

    def _init(self, maxsize: int) -> None:
        super()._init(maxsize)
        self._waiting: deque[T] = deque()

    def _put(self, item: T) -> None:
        super()._put(item)
        self._waiting.append(item)

    def _get(self) -> T:
        self._waiting.popleft()
        return super()._get()

    def waiting(self) -> list[T]:
        return list(self._waiting)


def heartbeat_interval(ack_wait: float) -> float:
    """A third of ``ack_wait``: two beats may be lost or late before a redelivery."""
    return ack_wait / 3


@contextlib.asynccontextmanager
async def heartbeats(deliveries: Callable[[], Iterable[InProgress]], *, every: float) -> AsyncIterator[None]:
    """While the block runs, send ``in_progress`` for each of ``deliveries()`` every
    ``every`` seconds (the first after ``every``: a quick block sends none)."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(every)
            for delivery in deliveries():
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
