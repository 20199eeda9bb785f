"""FastStream wiring of exactly-once consumers: a durable JetStream pull subscriber
with explicit acknowledgement, handing every delivery to :class:`ExactlyOnceConsumer`."""

from __future__ import annotations

from collections.abc import Callable

from faststream import AckPolicy
from faststream.nats import ConsumerConfig, DeliverPolicy, JStream, NatsBroker, PullSub
from faststream.nats.annotations import NatsMessage

from contracts.subjects import events_wildcard
from runtime.config import Settings
from runtime.consumer import DEAD_LETTER_MARGIN, ExactlyOnceConsumer


def subscribe_exactly_once(
    broker: NatsBroker,
    settings: Settings,
    name: str,
    consumer: Callable[[], ExactlyOnceConsumer],
    *,
    description: str,
    subject: str | None = None,
) -> None:
    """Register a durable pull subscriber ``name`` that feeds ``consumer()``.

    ``consumer`` is called per message so the consumer object (which needs the started
    pool) can be built after the broker is declared, in the lifespan.
    """
    subscriber = broker.subscriber(
        subject or events_wildcard(settings.namespace),
        stream=JStream(settings.events_stream, declare=False),
        durable=name,
        pull_sub=PullSub(batch_size=200, timeout=1.0),
        config=ConsumerConfig(
            durable_name=name,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=settings.ack_wait,
            # our own bound (settings.max_deliver) dead-letters first; see DEAD_LETTER_MARGIN
            max_deliver=settings.max_deliver + DEAD_LETTER_MARGIN,
            max_ack_pending=1000,
        ),
        # Never REJECT_ON_ERROR (FastStream's NATS default): that drops failing events.
        ack_policy=AckPolicy.MANUAL,
        title=f"{name}:events",
        description=description,
    )

    @subscriber
    async def on_event(msg: NatsMessage) -> None:
        await consumer().handle(msg.raw_message)
