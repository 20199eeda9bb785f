"""The partner feeds' FastStream broker: one publisher per partner feed (docs/adr/0043).

Reporting's feeds relay (runtime/relay.py) publishes each partner's copies through that
partner's publisher, ``<ns>.feeds.<org>.{event_type}.{client}`` on the feeds stream, and
the AsyncAPI document (``reitti asyncapi``) is rendered from a broker this same function
builds: what it describes is what publishes. The broker holds publishers only, so
starting it consumes nothing; it connects to the same NATS servers as the service.

The relay's guarantees stay the relay's: a publish goes to the feeds stream with
``Nats-Msg-Id`` (JetStream drops a re-publish inside its window) and returns JetStream's
ack, or raises, so a row leaves the outbox only after its ack (a failure rolls the batch
back). A batch is published one message after the other, each awaiting its ack, so the
feed keeps the outbox's order: FastStream's publisher has no pipelined publish, and the
feeds carry a few copies per applied event, not the event stores' rate. The feeds relay
takes smaller batches (:data:`FEED_BATCH`) so that one batch's acks stay well inside the
relay's bound. A row for a
partner that no longer has a feed (a municipality taken out of ``REITTI_MUNICIPALITIES``
after its copy was queued) is still published, through the broker itself, as before.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from faststream.nats import JStream, NatsBroker
from faststream.nats.publisher.usecase import LogicPublisher
from nats.js.api import PubAck

from contracts.envelope import CloudEventEnvelope
from contracts.intake import ClientDataErased
from contracts.names import TE_OFFICE
from runtime.broker_access import PartnerFeed, partner_feeds
from runtime.config import Settings
from runtime.relay import Outgoing
from services.reporting.feeds import MUNICIPAL_FEED

log = logging.getLogger(__name__)

#: the feed messages are CloudEvents in structured mode
CONTENT_TYPE = "application/cloudevents+json"
#: rows per feeds batch: published one ack at a time, a batch of 100 stays far inside the
#: relay's bound T (5 s by default) even at 40 ms an ack; about 2,000 acks/s were
#: measured on one local server, so 500 took ~0.27 s there (docs/adr/0043)
FEED_BATCH = 100


def _feed_types(feed: PartnerFeed) -> str:
    types = ["FinalAssessmentIssued"] if feed.token == TE_OFFICE else [t.event_type for t in MUNICIPAL_FEED]
    return ", ".join([*types, ClientDataErased.event_type])


class FeedBroker:
    """A FastStream broker with one publisher per partner feed; the feeds relay's
    :class:`runtime.relay.StreamPublisher`. ``start`` and ``stop`` are the service's."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.broker = NatsBroker(
            settings.nats_servers,
            name="reitti-reporting-feeds",
            logger=None,
            allow_reconnect=True,
            max_reconnect_attempts=-1,
            reconnect_time_wait=1,
            connect_timeout=5,
        )
        stream = JStream(settings.feeds_stream, declare=False)  # the service host keeps the streams
        #: each partner's publisher by its feed's subject prefix, ``<ns>.feeds.<org>.``
        self.publishers: dict[str, LogicPublisher] = {}
        for feed in partner_feeds(settings.municipalities):
            prefix = feed.filter_subject(settings.namespace).removesuffix(">")
            self.publishers[prefix] = self.broker.publisher(
                prefix + "{event_type}.{client}",
                stream=stream,
                timeout=settings.relay_ack_timeout,
                schema=CloudEventEnvelope,
                title=f"reporting:feed-{feed.token}",
                description=f"The feed of {feed.organisation}: consent-filtered copies "
                f"({_feed_types(feed)}), CloudEvents envelopes, personal fields readable; "
                "published by reporting's feeds relay with Nats-Msg-Id",
            )

    async def start(self) -> None:
        await self.broker.start()

    async def stop(self) -> None:
        await self.broker.stop()

    def publisher_of(self, subject: str) -> LogicPublisher | None:
        """The publisher of the feed that ``subject`` is on (None: not a partner's now)."""
        return next((p for prefix, p in self.publishers.items() if subject.startswith(prefix)), None)

    async def publish(self, message: Outgoing, *, stream: str, within: float) -> PubAck:
        headers = {"Nats-Msg-Id": message.msg_id, "content-type": CONTENT_TYPE}
        publisher = self.publisher_of(message.subject)
        if publisher is None:
            log.warning(
                "feeds: %s is no partner's feed now; published without its publisher", message.subject
            )
        target = self.broker if publisher is None else publisher
        return await target.publish(
            message.payload,
            message.subject,
            headers=headers,
            correlation_id=message.msg_id,
            stream=stream,
            timeout=within,
        )

    async def publish_batch(self, messages: Sequence[Outgoing], *, stream: str) -> list[PubAck]:
        # One after the other: the feed keeps the outbox's order (see the module's docstring).
        return [
            await self.publish(message, stream=stream, within=self.settings.relay_ack_timeout)
            for message in messages
        ]
