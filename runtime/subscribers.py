"""Durable JetStream subscriptions feeding exactly-once consumers.

The consumers' delivery path is nats-py, not FastStream: a durable push subscription in
a queue group, with explicit acknowledgement. Measured here on one backlog of 5,000
events, the same consumer applied 992 events/s behind FastStream's subscriber and 5,324
events/s behind nats-py's callback: FastStream's per-message handling was the ceiling,
and this is a hot path (see docs/benchmarks.md). FastStream's batch pull subscriber
(``PullSub(batch=True)``, manual acks, the same exactly-once batches) was measured too,
with ``python -m bench.faststream_batch``: below 0.90 of this path (ADR 0034), because
its next fetch waits for the batch before it, where the push callbacks keep queueing
while a batch is applied. FastStream still declares each consumer for the AsyncAPI
document (:func:`document_exactly_once`), on the brokers that ``reitti asyncapi`` builds
and never starts. (The one broker a service starts, reporting's, only publishes the
partner feeds: services/reporting/feed_broker.py, ADR 0043.)

Why push and not pull: a pull subscription's fetch either runs its messages
concurrently (FastStream) or must be looped by hand; a push subscription's callbacks run
one at a time in delivery order, and the queue group lets replicas of a service share
the durable consumer. The callback only queues the delivery; the consumer's worker
applies whatever has queued up as one batch (runtime/consumer.py). Redeliveries can
still arrive late; the consumer's per-stream version check puts them back in order.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable

from faststream import AckPolicy
from faststream.nats import ConsumerConfig, DeliverPolicy, JStream, NatsBroker
from faststream.nats.annotations import NatsMessage
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.errors import BadSubscriptionError
from nats.js import JetStreamContext

from contracts.subjects import events_wildcard
from runtime.config import Settings
from runtime.consumer import ExactlyOnceConsumer, jetstream_max_deliver

#: deliveries in flight per consumer: bounds what waits for ack_wait after a crash
MAX_ACK_PENDING = 256


def consumer_config(settings: Settings, name: str) -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=name,
        deliver_group=name,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=settings.ack_wait,
        # our own bounds dead-letter first; see runtime/consumer.py
        max_deliver=jetstream_max_deliver(settings.max_deliver),
        max_ack_pending=MAX_ACK_PENDING,
    )


class DurableSubscription:
    """A durable push subscription (queue group ``name``) whose deliveries go, in order,
    to ``consumer()``; started and stopped by the service host."""

    def __init__(
        self,
        settings: Settings,
        name: str,
        consumer: Callable[[], ExactlyOnceConsumer],
        *,
        subject: str | None = None,
    ) -> None:
        self.settings = settings
        self.name = name
        self.subject = subject or events_wildcard(settings.namespace)
        self._consumer = consumer
        self._sub: Subscription | None = None
        #: deliveries received by this process so far (runtime/stalls.py watches it)
        self.received = 0

    @property
    def idle(self) -> bool:
        """Whether the consumer's worker holds nothing (runtime/stalls.py)."""
        return self._consumer().idle

    async def _deliver(self, msg: Msg) -> None:
        self.received += 1
        await self._consumer().submit(msg)

    async def start(self, js: JetStreamContext) -> None:
        await self._subscribe(js)

    async def resubscribe(self, js: JetStreamContext) -> None:
        """Subscribe again to the same durable consumer (made again if the broker lost
        it), leaving the consumer's worker and what it has queued as they are: a stalled
        subscription's remedy (runtime/stalls.py)."""
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None
        await self._subscribe(js)

    async def _subscribe(self, js: JetStreamContext) -> None:
        self._sub = await js.subscribe(
            self.subject,
            queue=self.name,
            durable=self.name,
            stream=self.settings.events_stream,
            cb=self._deliver,
            manual_ack=True,
            config=consumer_config(self.settings, self.name),
            pending_msgs_limit=MAX_ACK_PENDING * 4,
        )

    async def stop(self) -> None:
        """Stop receiving; deliveries not yet applied are redelivered after ack_wait."""
        if self._sub is not None:
            with contextlib.suppress(BadSubscriptionError):  # its interest was lost already
                await self._sub.unsubscribe()
            self._sub = None
        await self._consumer().stop()


def document_exactly_once(
    broker: NatsBroker, settings: Settings, name: str, *, description: str, subject: str | None = None
) -> None:
    """Declare the consumer on a FastStream broker, for the AsyncAPI document only: such
    a broker is built by ``reitti asyncapi`` and never started."""
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
            config=consumer_config(settings, name),
            ack_policy=AckPolicy.MANUAL,
            title=f"{name}:events",
            description=description,
        )

    @subscriber
    async def documented(msg: NatsMessage) -> None:
        raise RuntimeError("a documentation broker is never started")
