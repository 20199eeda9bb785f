"""JetStream streams: the events stream (the distribution log) and the dead-letter stream."""

from __future__ import annotations

import nats
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from contracts.subjects import dead_letter_wildcard, events_wildcard
from runtime.config import Settings


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


async def ensure_streams(js: JetStreamContext, settings: Settings) -> None:
    """Create the streams if missing, or update them to the current configuration."""
    for config in (events_stream_config(settings), dead_letter_stream_config(settings)):
        try:
            await js.stream_info(config.name or "")
        except NotFoundError:
            await js.add_stream(config)
        else:
            await js.update_stream(config)


async def connect_nats(url: str, *, name: str) -> NatsClient:
    """A nats-py connection that keeps reconnecting while the server is away.

    ``url`` may list a cluster's servers, comma-separated."""
    return await nats.connect(
        [u.strip() for u in url.split(",") if u.strip()],
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        connect_timeout=5,
        allow_reconnect=True,
    )
