"""Reporting's composition root."""

from __future__ import annotations

from collections.abc import Callable

import asyncpg
from fastapi import FastAPI
from faststream.nats import NatsBroker
from nats.js import JetStreamContext

from runtime.access_log import AccessLog
from runtime.config import Settings
from runtime.consumer import ExactlyOnceConsumer
from runtime.db import event_store_migrations
from runtime.eventstore import EventStore
from runtime.http import install_error_handlers, install_forbidden
from runtime.openapi_names import document_municipalities
from runtime.reconcile import RepairRequests, reconcile_task
from runtime.relay import OutboxSignal
from runtime.service import ServiceHost, relay_task, service_app
from runtime.subscribers import DurableSubscription, document_exactly_once
from services.disclosure.policy import DisclosureForbidden, DisclosureRefused
from services.reporting import api, feed_erasure, sign_in
from services.reporting.config import ReportingConfig
from services.reporting.dashboard_session import SIGN_IN_PATH, SIGN_OUT_PATH, DashboardSessions, session_key
from services.reporting.feeds import FEEDS_SCHEMA, FeedPublisher
from services.reporting.projections import MIGRATIONS, ReferralStatistics, ReportingProjection
from services.reporting.sensitive_headers import SensitiveHeaders
from services.reporting.statistics import Statistics
from services.reporting.views import SideViews

SCHEMA = "reporting"
#: Reporting's own events (the access log of its reads) live apart from the projections,
#: which replay rebuilds and swaps.
EVENTS_SCHEMA = "reporting_events"
OTHER_SCHEMAS = {
    EVENTS_SCHEMA: event_store_migrations(),
    FEEDS_SCHEMA: [*event_store_migrations(), feed_erasure.MIGRATION],
}
CONSUMER = ReportingProjection.name

__all__ = ["CONSUMER", "MIGRATIONS", "SCHEMA", "build_broker", "create_app"]


def build_broker(settings: Settings) -> NatsBroker:
    """The broker with reporting's consumer declared, for the AsyncAPI document only: it is
    never started (the consumer runs on a nats-py subscription, runtime/subscribers.py)."""
    broker = NatsBroker(settings.nats_servers, logger=None)
    document_exactly_once(
        broker,
        settings,
        CONSUMER,
        description="Every event, applied exactly once to reporting's projections and audit log",
    )
    return broker


def live_projection(
    settings: Settings, *, on_feed_queued: Callable[[], None] | None = None
) -> ReportingProjection:
    """Reporting's projection as the live service applies it: partner feeds included
    (``on_feed_queued``: the feeds relay's wake-up). A replay builds one without feeds."""
    return ReportingProjection(
        SCHEMA, feeds=FeedPublisher(settings.namespace, schema=FEEDS_SCHEMA, on_queue=on_feed_queued)
    )


def operator_consumers(
    settings: Settings, pool: asyncpg.Pool, js: JetStreamContext
) -> list[ExactlyOnceConsumer]:
    """This service's consumers as the operator commands run them (``reitti redrive``).
    Feed copies they queue are published by the running service's feeds relay."""
    return [ExactlyOnceConsumer(pool=pool, js=js, settings=settings, projection=live_projection(settings))]


def create_app(settings: Settings | None = None, config: ReportingConfig | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    outbox = OutboxSignal()  # appends wake this service's relay
    config = config or ReportingConfig.from_env(municipalities=settings.municipalities)
    feeds_outbox = OutboxSignal()
    projection = live_projection(settings, on_feed_queued=feeds_outbox.notify)
    consumers: list[ExactlyOnceConsumer] = []

    async def wire(h: ServiceHost) -> None:
        consumer = ExactlyOnceConsumer(pool=h.pool, js=h.js, settings=settings, projection=projection)
        # a predecessor lost from JetStream: ask its owner to re-publish it (docs/adr/0015)
        consumer.on_early = RepairRequests(
            h.nats, h.pool, settings, consumer=CONSUMER, schema=projection.schema
        )
        consumers[:] = [consumer]
        store = EventStore(
            h.pool,
            schema=EVENTS_SCHEMA,
            namespace=settings.namespace,
            source="/reitti/reporting",
            service="reporting",
        )
        app.state.access_log = AccessLog(store)

    host = ServiceHost(
        name="reporting",
        settings=settings,
        schema=SCHEMA,
        migrations=MIGRATIONS,
        subscriptions=[DurableSubscription(settings, CONSUMER, lambda: consumers[0])],
        on_connected=[wire],
        other_schemas=OTHER_SCHEMAS,
        background=[
            relay_task(EVENTS_SCHEMA, outbox),
            # reporting's own events (its access log) are reconciled like a write service's
            reconcile_task(EVENTS_SCHEMA, "reporting", on_queued=outbox.notify),
            relay_task(FEEDS_SCHEMA, feeds_outbox, stream=lambda s: s.feeds_stream),
            feed_erasure.feed_erasure_task(FEEDS_SCHEMA),
        ],
    )
    app = service_app(
        host,
        title="Reitti reporting",
        description="Side-separated projections, the steering group's statistics, the audit log "
        "and the dashboard, built from the event log.",
        version="0.2.0",
        # the dashboard's sign-in takes its token in the form (its sign-out needs none)
        token_in_body=(SIGN_IN_PATH, SIGN_OUT_PATH),
    )
    app.state.projection = projection
    app.state.statistics = ReferralStatistics(SCHEMA)
    app.state.statistics_queries = Statistics(SCHEMA, config)
    app.state.views = SideViews(SCHEMA)
    app.state.reporting_config = config
    app.state.consumers = consumers
    app.state.dashboard_sessions = DashboardSessions(session_key())
    app.include_router(api.router())
    sign_in.install(app)
    app.add_middleware(SensitiveHeaders)
    install_error_handlers(app, refusals=(DisclosureRefused,))
    install_forbidden(app, (DisclosureForbidden,))
    document_municipalities(app, config.municipalities)
    return app
