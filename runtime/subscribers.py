"""FastStream wiring of exactly-once consumers: a durable JetStream push subscriber in a
queue group, with explicit acknowledgement, handing each delivery to
:class:`ExactlyOnceConsumer`.

The callback only queues the delivery: the consumer's worker applies whatever has
queued up as one batch in one transaction (see runtime/consumer.py), in delivery order.

Why push and not pull: FastStream's pull subscriber either runs every message of a fetch
as its own concurrent task (one client's events would apply in any order) or, with
``batch=True``, holds a partial batch until its timeout (latency on every event). A push
subscription's callbacks run one at a time in delivery order (nats-py awaits each), and
the queue group lets replicas of a service share the durable consumer. Redeliveries can
still arrive late; the consumer's per-stream version check puts them back in order.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

from faststream import AckPolicy
from faststream.nats import ConsumerConfig, DeliverPolicy, JStream, NatsBroker
from faststream.nats.annotations import NatsMessage

from contracts.subjects import events_wildcard
from runtime.config import Settings
from runtime.consumer import ExactlyOnceConsumer, jetstream_max_deliver

#: deliveries in flight per consumer: bounds what waits for ack_wait after a crash
MAX_ACK_PENDING = 256


def subscribe_exactly_once(
    broker: NatsBroker,
    settings: Settings,
    name: str,
    consumer: Callable[[], ExactlyOnceConsumer],
    *,
    description: str,
    subject: str | None = None,
) -> None:
    """Register the durable subscriber ``name`` that feeds ``consumer()``.

    ``consumer`` is called per message so the consumer object (which needs the started
    pool) can be built after the broker is declared, in the lifespan.
    """
    with warnings.catch_warnings():
        # FastStream warns that a durable push consumer cannot scale out; ours has a
        # deliver group (queue=name), which is exactly what lets replicas share it.
        warnings.filterwarnings("ignore", message="The JetStream Push consumer", category=RuntimeWarning)
        subscriber = broker.subscriber(
            subject or events_wildcard(settings.namespace),
            queue=name,
            stream=JStream(settings.events_stream, declare=False),
            durable=name,
            deliver_policy=DeliverPolicy.ALL,
            config=ConsumerConfig(
                durable_name=name,
                deliver_group=name,
                deliver_policy=DeliverPolicy.ALL,
                ack_wait=settings.ack_wait,
                # our own bounds dead-letter first; see runtime/consumer.py
                max_deliver=jetstream_max_deliver(settings.max_deliver),
                max_ack_pending=MAX_ACK_PENDING,
            ),
            # Never REJECT_ON_ERROR (FastStream's NATS default): that drops failing events.
            ack_policy=AckPolicy.MANUAL,
            title=f"{name}:events",
            description=description,
        )

    @subscriber
    async def on_event(msg: NatsMessage) -> None:
        await consumer().submit(msg.raw_message)
