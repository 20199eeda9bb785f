"""What ``GET /healthz`` reports (docs/adr/0016): the database and the broker reachable,
each outbox this process relays draining, and each of its consumers keeping up.

Reachable is not enough: a relay that froze holding its turn, or a consumer stuck behind
an event, leaves both servers answering while nothing moves. So the report also measures
how long events wait: the oldest unpublished row of each outbox, and the oldest event
each consumer has not yet acknowledged (its age in the stream). Either one waiting longer
than ``REITTI_LAG_LIMIT`` makes the service "degraded", with the reason named.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

from nats.js import JetStreamContext

from runtime.config import Settings


class Outbox(Protocol):
    async def oldest_waiting(self) -> float: ...


class Subscribed(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def subject(self) -> str: ...


@dataclass
class HealthReport:
    service: str
    lag_limit: float
    checks: dict[str, str] = field(default_factory=dict)
    outboxes: dict[str, dict[str, float]] = field(default_factory=dict)
    consumers: dict[str, dict[str, float]] = field(default_factory=dict)
    unreachable_reasons: list[str] = field(default_factory=list)
    lag_reasons: list[str] = field(default_factory=list)

    def reachable(self, what: str) -> None:
        self.checks[what] = "ok"

    def unreachable(self, what: str, exc: BaseException) -> None:
        self.checks[what] = f"unreachable: {type(exc).__name__}"
        self.unreachable_reasons.append(f"{what} unreachable ({type(exc).__name__})")

    def outbox(self, schema: str, oldest: float) -> None:
        self.outboxes[schema] = {"oldest_waiting_seconds": round(oldest, 1)}
        if oldest > self.lag_limit:
            self.lag_reasons.append(
                f"outbox {schema} is not draining: its oldest event has waited {oldest:.0f}s "
                f"(limit {self.lag_limit:.0f}s)"
            )

    def consumer(self, name: str, waiting: int, oldest: float) -> None:
        self.consumers[name] = {"waiting": waiting, "oldest_waiting_seconds": round(oldest, 1)}
        if oldest > self.lag_limit:
            self.lag_reasons.append(
                f"consumer {name} is behind: {waiting} events wait, the oldest for {oldest:.0f}s "
                f"(limit {self.lag_limit:.0f}s)"
            )

    def unknown(self, what: str, exc: BaseException) -> None:
        self.lag_reasons.append(f"{what}: lag unknown ({type(exc).__name__})")

    @property
    def status(self) -> str:
        if self.unreachable_reasons:
            return "unhealthy"
        return "degraded" if self.lag_reasons else "ok"

    def as_dict(self) -> dict[str, Any]:
        report: dict[str, Any] = {"service": self.service, "status": self.status, **self.checks}
        if self.outboxes:
            report["outboxes"] = self.outboxes
        if self.consumers:
            report["consumers"] = self.consumers
        reasons = self.unreachable_reasons + self.lag_reasons
        if reasons:
            report["reasons"] = reasons
        return report


async def outbox_delay(report: HealthReport, schema: str, outbox: Outbox, *, within: float) -> None:
    """How long the oldest row of ``schema``'s outbox has waited."""
    try:
        oldest = await asyncio.wait_for(outbox.oldest_waiting(), timeout=within)
    except Exception as exc:
        report.unknown(f"outbox {schema}", exc)
        return
    report.outbox(schema, oldest)


async def consumer_lag(
    report: HealthReport, js: JetStreamContext, settings: Settings, consumer: Subscribed, *, within: float
) -> None:
    """How many events ``consumer`` has not yet acknowledged, and how long the oldest of
    them has been in the stream: the first of its events after its ack floor."""
    try:
        waiting, oldest = await asyncio.wait_for(_lag(js, settings, consumer), timeout=within)
    except Exception as exc:
        report.unknown(f"consumer {consumer.name}", exc)
        return
    report.consumer(consumer.name, waiting, oldest)


async def _lag(js: JetStreamContext, settings: Settings, consumer: Subscribed) -> tuple[int, float]:
    info = await js.consumer_info(settings.events_stream, consumer.name)
    waiting = int(info.num_pending or 0) + int(info.num_ack_pending or 0)
    if waiting == 0:
        return 0, 0.0
    floor = int(info.ack_floor.stream_seq) if info.ack_floor else 0
    first = await js.get_msg(settings.events_stream, seq=floor + 1, subject=consumer.subject, next=True)
    if first.time is None:
        return waiting, 0.0
    return waiting, max(0.0, (dt.datetime.now(dt.UTC) - first.time).total_seconds())
