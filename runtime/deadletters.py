"""Reading the dead-letter stream, for operators."""

from __future__ import annotations

from typing import Any

from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy

from contracts.subjects import dead_letter_wildcard
from runtime.config import Settings


async def list_dead_letters(
    js: JetStreamContext, settings: Settings, *, limit: int = 100
) -> list[dict[str, Any]]:
    """The newest ``limit`` dead letters: reason, consumer, original subject and data."""
    info = await js.stream_info(settings.dead_letter_stream)
    last = int(info.state.last_seq)
    if info.state.messages == 0:
        return []
    start = max(int(info.state.first_seq), last - limit + 1)
    sub = await js.subscribe(
        dead_letter_wildcard(settings.namespace),
        stream=settings.dead_letter_stream,
        ordered_consumer=True,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start),
    )
    letters: list[dict[str, Any]] = []
    try:
        while len(letters) < limit:
            try:
                msg = await sub.next_msg(timeout=2)
            except NatsTimeout:
                break
            headers = msg.headers or {}
            letters.append(
                {
                    "dlq_seq": msg.metadata.sequence.stream,
                    "consumer": headers.get("Reitti-Consumer"),
                    "reason": headers.get("Reitti-Dead-Letter-Reason"),
                    "original_subject": headers.get("Reitti-Original-Subject"),
                    "original_stream_seq": headers.get("Reitti-Original-Stream-Seq"),
                    "deliveries": headers.get("Reitti-Deliveries"),
                    "data": msg.data.decode("utf-8", errors="replace"),
                }
            )
            if msg.metadata.sequence.stream >= last:
                break
    finally:
        await sub.unsubscribe()
    return letters
