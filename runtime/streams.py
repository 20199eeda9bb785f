"""JetStream streams: the events stream (the distribution log), the dead-letter stream,
and the partner organisations' feeds with one durable consumer per partner (ADR 0009)."""

from __future__ import annotations

import asyncio
import logging

import nats
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError

from contracts.subjects import dead_letter_wildcard, events_wildcard
from runtime.broker_access import PartnerFeed, feeds_wildcard, partner_feeds
from runtime.config import Settings

#: Unacknowledged deliveries a partner may hold before its consumer pauses.
FEED_MAX_ACK_PENDING = 1000


def events_stream_config(settings: Settings) -> StreamConfig:
    return StreamConfig(
        name=settings.events_stream,
        description="Reitti events (CloudEvents JSON); Postgres is the system of record",
        subjects=[events_wildcard(settings.namespace)],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        num_replicas=settings.stream_replicas,
        duplicate_window=settings.duplicate_window,
    )


def dead_letter_stream_config(settings: Settings) -> StreamConfig:
    return StreamConfig(
        name=settings.dead_letter_stream,
        description="Messages a consumer could not apply, with the reason in headers",
        subjects=[dead_letter_wildcard(settings.namespace)],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        num_replicas=settings.stream_replicas,
        duplicate_window=settings.duplicate_window,
    )


def feeds_stream_config(settings: Settings) -> StreamConfig:
    """Every partner organisation's feed, ``<ns>.feeds.<org>.<EventType>``.

    Reitti publishes here only what a partner may see (consent-filtered, decision 7);
    each partner reads its own subjects through its consumer (:func:`feed_consumer_config`).
    """
    return StreamConfig(
        name=settings.feeds_stream,
        description="Partner organisations' feeds: <ns>.feeds.<organisation>.<EventType>",
        subjects=[feeds_wildcard(settings.namespace)],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        num_replicas=settings.stream_replicas,
        duplicate_window=settings.duplicate_window,
    )


def feed_consumer_config(settings: Settings, feed: PartnerFeed) -> ConsumerConfig:
    """The durable pull consumer a partner reads its feed through.

    Reitti, not the partner, sets the filter: the partner's account can only pull from
    and acknowledge on this consumer (see runtime/broker_access.py)."""
    return ConsumerConfig(
        name=feed.consumer,
        durable_name=feed.consumer,
        description=f"the feed of {feed.organisation}",
        filter_subject=feed.filter_subject(settings.namespace),
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=settings.ack_wait,
        max_ack_pending=FEED_MAX_ACK_PENDING,
        num_replicas=settings.stream_replicas,
    )


async def ensure_feed_consumers(js: JetStreamContext, settings: Settings) -> None:
    """One durable consumer per partner organisation on the feeds stream; idempotent.

    Only missing or changed consumers are written (every service start runs this)."""
    existing = {info.name: info.config for info in await js.consumers_info(settings.feeds_stream)}
    wanted = [feed_consumer_config(settings, feed) for feed in partner_feeds(settings.municipalities)]
    stale = [config for config in wanted if not _same_consumer(existing.get(config.name or ""), config)]
    await asyncio.gather(*(js.add_consumer(settings.feeds_stream, config) for config in stale))


def _same_consumer(current: ConsumerConfig | None, wanted: ConsumerConfig) -> bool:
    return current is not None and all(
        getattr(current, name) == getattr(wanted, name)
        for name in ("filter_subject", "deliver_policy", "ack_policy", "ack_wait", "max_ack_pending")
    )


async def ensure_streams(js: JetStreamContext, settings: Settings) -> None:
    """Create the streams (and the partners' feed consumers) if missing, or update them
    to the current configuration."""
    for config in (
        events_stream_config(settings),
        dead_letter_stream_config(settings),
        feeds_stream_config(settings),
    ):
        try:
            await js.stream_info(config.name or "")
        except NotFoundError:
            await js.add_stream(config)
        else:
            await js.update_stream(config)
    await ensure_feed_consumers(js, settings)


log = logging.getLogger("runtime.streams")


async def connect_nats(url: str, *, name: str) -> NatsClient:
    """A nats-py connection that keeps reconnecting while the server is away.

    ``url`` may list a cluster's servers, comma-separated. Losing the server, finding one
    again and the client's errors (a slow consumer's dropped messages) are logged, so an
    operator sees what the connection went through; no URL or credential is logged."""

    client: NatsClient | None = None

    async def disconnected() -> None:
        if client is not None and client.is_closed:
            return  # closed on purpose: not news
        log.warning("nats %s: disconnected; reconnecting", name)

    async def reconnected() -> None:
        log.warning("nats %s: reconnected", name)

    async def error(exc: Exception) -> None:
        log.warning("nats %s: %s", name, type(exc).__name__)

    client = await nats.connect(
        [u.strip() for u in url.split(",") if u.strip()],
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        connect_timeout=5,
        allow_reconnect=True,
        disconnected_cb=disconnected,
        reconnected_cb=reconnected,
        error_cb=error,
    )
    return client
