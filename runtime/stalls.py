"""A consumer that has work and stops receiving it is noticed and resubscribed (ADR 0051).

The cluster fault test twice saw reporting's durable push consumer stop short of the
stream's end beside another worker: events waiting, none delivered to the client, none
acknowledged, nothing logged, the service otherwise healthy (ADR 0047). Whatever the
cause inside the broker or the client (a subscription's interest lost across a leader
change or a reconnect), the remedy is the same: subscribe again to the same durable
consumer, which then delivers what waits; the exactly-once consumer absorbs any repeat.

:class:`StallWatch` is the rule, pure: a consumer is stalled when the broker says events
wait for it (pending, or delivered and not acknowledged), its worker holds nothing, and
for ``stall_after`` seconds neither its acknowledgement floor moved nor did this process
receive a delivery. A consumer held up by a database outage is not stalled: it holds its
deliveries (and keeps them with progress heartbeats) until the database is back.
:func:`watch_subscription` checks every ``every`` seconds, logs a warning naming what it
saw, and resubscribes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

log = logging.getLogger("reitti.stalls")

#: a service looks at each consumer once per ack wait, and calls it stalled after this
#: many ack waits with events waiting, nothing in hand and nothing arriving: an idle live
#: subscription gets any unacknowledged delivery back after one ack wait
STALL_ACK_WAITS = 4


@dataclass(frozen=True)
class Progress:
    """What one look at a consumer found."""

    #: events waiting for the consumer: not yet delivered, or delivered and not acknowledged
    waiting: int
    #: the stream sequence of the consumer's acknowledgement floor
    ack_floor: int
    #: deliveries this process has received on the subscription so far
    received: int
    #: whether the consumer holds nothing: a consumer with deliveries in hand (a batch, a
    #: wait on its database, with progress heartbeats) is busy, not stalled
    idle: bool = True


class StallWatch:
    """Says when a consumer with work has made no progress for ``stall_after`` seconds."""

    def __init__(self, stall_after: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.stall_after = stall_after
        self._clock = clock
        self._last: Progress | None = None
        self._since = clock()

    def stalled(self, now: Progress) -> bool:
        """Whether ``now``, after the looks before it, is a stall."""
        moved = (
            self._last is None
            or now.waiting == 0
            or not now.idle
            or now.ack_floor != self._last.ack_floor
            or now.received != self._last.received
        )
        if moved:
            self._last, self._since = now, self._clock()
            return False
        return self._clock() - self._since >= self.stall_after

    def restart(self) -> None:
        """After a resubscription: the next stall is counted from now."""
        self._last, self._since = None, self._clock()


class Resubscribable(Protocol):
    """What the watch needs of a subscription (runtime/subscribers.py)."""

    name: str
    received: int

    @property
    def idle(self) -> bool: ...

    async def resubscribe(self, js: JetStreamContext) -> None: ...


async def look(js: JetStreamContext, stream: str, subscription: Resubscribable) -> Progress | None:
    """The consumer's progress now; None if the broker no longer has the consumer."""
    try:
        info = await js.consumer_info(stream, subscription.name)
    except NotFoundError:
        return None
    waiting = int(info.num_pending or 0) + int(info.num_ack_pending or 0)
    floor = int(info.ack_floor.stream_seq or 0) if info.ack_floor else 0
    return Progress(waiting=waiting, ack_floor=floor, received=subscription.received, idle=subscription.idle)


async def watch_subscription(
    js: Callable[[], JetStreamContext],
    stream: str,
    subscription: Resubscribable,
    stop: asyncio.Event,
    *,
    every: float,
    stall_after: float,
) -> None:
    """Until ``stop``: look at the consumer every ``every`` seconds; resubscribe it when it
    is stalled or the broker lost it (a look that fails is tried again next time)."""
    watch = StallWatch(stall_after)
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
        if stop.is_set():
            return
        try:
            progress = await look(js(), stream, subscription)
            if progress is not None and not watch.stalled(progress):
                continue
            if progress is None:
                log.warning(
                    "consumer %s: the broker has no such consumer any more; subscribing again",
                    subscription.name,
                )
            else:
                log.warning(
                    "consumer %s stalled: %d events wait, acknowledged up to stream sequence %d, "
                    "no delivery received for %.0fs; subscribing again",
                    subscription.name,
                    progress.waiting,
                    progress.ack_floor,
                    stall_after,
                )
            await subscription.resubscribe(js())
            watch.restart()
        except Exception as exc:  # the broker away: the next look tries again
            log.info("consumer %s: stall check failed, will retry: %s", subscription.name, type(exc).__name__)
