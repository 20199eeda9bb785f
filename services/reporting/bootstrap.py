"""Reporting's composition root (*kokoonpano*): the one place its parts are built.

:func:`bootstrap` builds the projection, the statistics and side-view queries, the access
log over reporting's own event store and, given JetStream, the consumer that applies every
event exactly once. The app's start-up (``ServiceHost.on_connected``) calls it once and puts
the result on ``app.state.parts``; handlers get it through ``Depends`` (:data:`Parts`);
the operator commands (``reitti redrive``) build it the same way (issue 13)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import asyncpg
from fastapi import Depends, FastAPI, Request
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from runtime.access_log import AccessLog
from runtime.config import Settings
from runtime.consumer import ExactlyOnceConsumer
from runtime.eventstore import EventStore
from runtime.reconcile import RepairRequests
from services.reporting.config import ReportingConfig
from services.reporting.feeds import FEEDS_SCHEMA, FeedPublisher
from services.reporting.projections import ReportingProjection
from services.reporting.statistics import Statistics
from services.reporting.views import SideViews
from services.settings import ReittiConfig

SCHEMA = "reporting"
#: Reporting's own events (the access log of its reads) live apart from the projections,
#: which replay rebuilds and swaps.
EVENTS_SCHEMA = "reporting_events"
SOURCE = "/reitti/reporting"
CONSUMER = ReportingProjection.name


def live_projection(
    settings: Settings, *, on_feed_queued: Callable[[], None] | None = None
) -> ReportingProjection:
    """Reporting's projection as the live service applies it: partner feeds included
    (``on_feed_queued``: the feeds relay's wake-up). A replay builds one without feeds."""
    return ReportingProjection(
        SCHEMA, feeds=FeedPublisher(settings.namespace, schema=FEEDS_SCHEMA, on_queue=on_feed_queued)
    )


@dataclass(frozen=True)
class ReportingParts:
    """Everything reporting's handlers and its consumer use, built once."""

    settings: Settings
    config: ReportingConfig
    pool: asyncpg.Pool
    #: reporting's own event store (the access log of its reads, lokitiedot)
    store: EventStore
    access_log: AccessLog
    projection: ReportingProjection
    statistics: Statistics
    views: SideViews
    #: the consumer of every event; None when built without a broker connection
    consumer: ExactlyOnceConsumer | None
    #: JetStream now, or BrokerUnavailable (503) while the connection is down; None without one
    broker: Callable[[], JetStreamContext] | None = None

    @property
    def consumers(self) -> list[ExactlyOnceConsumer]:
        return [] if self.consumer is None else [self.consumer]

    def require_broker(self) -> JetStreamContext:
        """JetStream for a request that reads the log (the audit export)."""
        assert self.broker is not None, "bootstrapped with the host's broker"
        return self.broker()


def bootstrap(
    settings: Settings,
    pool: asyncpg.Pool,
    *,
    config: ReportingConfig | None = None,
    js: JetStreamContext | None = None,
    nats: NatsClient | None = None,
    broker: Callable[[], JetStreamContext] | None = None,
    on_feed_queued: Callable[[], None] | None = None,
) -> ReportingParts:
    """Reporting's parts on ``pool``. With ``js`` it has its consumer; with ``nats`` too,
    that consumer asks a predecessor's owner to re-publish one lost from JetStream
    (docs/adr/0015). ``on_feed_queued`` wakes the feeds relay; ``broker`` is the host's
    JetStream check for requests."""
    # an operator command's wiring: the settings model is read here, once
    config = config or ReportingConfig.from_config(
        ReittiConfig.from_env(), municipalities=settings.municipalities
    )
    projection = live_projection(settings, on_feed_queued=on_feed_queued)
    store = EventStore(
        pool, schema=EVENTS_SCHEMA, namespace=settings.namespace, source=SOURCE, service="reporting"
    )
    consumer = None
    if js is not None:
        consumer = ExactlyOnceConsumer(pool=pool, js=js, settings=settings, projection=projection)
        if nats is not None:
            consumer.on_early = RepairRequests(
                nats, pool, settings, consumer=CONSUMER, schema=projection.schema
            )
    return ReportingParts(
        settings=settings,
        config=config,
        pool=pool,
        store=store,
        access_log=AccessLog(store),
        projection=projection,
        statistics=Statistics(SCHEMA, config),
        views=SideViews(SCHEMA),
        consumer=consumer,
        broker=broker,
    )


def parts_of(app: FastAPI) -> ReportingParts:
    """The parts the app's start-up built (``app.state.parts``)."""
    parts: ReportingParts = app.state.parts
    return parts


def parts(request: Request) -> ReportingParts:
    """The dependency that hands a handler reporting's parts."""
    return parts_of(request.app)


Parts = Annotated[ReportingParts, Depends(parts)]
