"""Reporting's composition root."""

from __future__ import annotations

import asyncpg
from fastapi import FastAPI
from faststream.nats import NatsBroker
from nats.js import JetStreamContext

from runtime import clock
from runtime.config import Settings
from runtime.consumer import ExactlyOnceConsumer
from runtime.db import event_store_migrations
from runtime.http import install_error_handlers, install_forbidden
from runtime.openapi_names import document_municipalities
from runtime.reconcile import reconcile_task
from runtime.relay import OutboxSignal
from runtime.service import ServiceHost, relay_task, service_app
from runtime.subscribers import DurableSubscription, document_exactly_once
from services.disclosure.policy import DisclosureForbidden, DisclosureRefused
from services.reporting import api, feed_erasure, sign_in
from services.reporting.bootstrap import CONSUMER, EVENTS_SCHEMA, SCHEMA, bootstrap, parts_of
from services.reporting.config import ReportingConfig
from services.reporting.dashboard_session import SIGN_IN_PATH, SIGN_OUT_PATH, DashboardSessions, session_key
from services.reporting.feed_broker import FEED_BATCH, FeedBroker
from services.reporting.feeds import FEEDS_SCHEMA
from services.reporting.projections import MIGRATIONS
from services.reporting.sensitive_headers import SensitiveHeaders
from services.settings import ReittiConfig

OTHER_SCHEMAS = {
    EVENTS_SCHEMA: event_store_migrations(),
    FEEDS_SCHEMA: [*event_store_migrations(), feed_erasure.MIGRATION],
}

__all__ = [
    "CONSUMER",
    "EVENTS_SCHEMA",
    "MIGRATIONS",
    "SCHEMA",
    "build_broker",
    "build_feed_broker",
    "create_app",
]


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


def build_feed_broker(settings: Settings) -> FeedBroker:
    """The broker that publishes the partner feeds: the running service starts it, and
    ``reitti asyncapi`` documents the feed publishers from one built here."""
    return FeedBroker(settings)


def operator_consumers(
    settings: Settings, pool: asyncpg.Pool, js: JetStreamContext, config: ReittiConfig
) -> list[ExactlyOnceConsumer]:
    """This service's consumers as the operator commands run them (``reitti redrive``),
    with the settings model the command read. Feed copies they queue are published by the
    running service's feeds relay."""
    reporting = ReportingConfig.from_config(config, municipalities=settings.municipalities)
    return bootstrap(settings, pool, config=reporting, js=js).consumers


def create_app(
    settings: Settings | None = None,
    config: ReportingConfig | None = None,
    *,
    options: ReittiConfig | None = None,
) -> FastAPI:
    """Reporting's app. ``options`` (the settings model) is read from the environment here,
    once, unless given: a wrong value stops the start, not a request."""
    options = options or ReittiConfig.from_env()
    settings = settings or options.settings()
    clock.use_zone(options.shared.time_zone)
    outbox = OutboxSignal()  # appends wake this service's relay
    config = config or ReportingConfig.from_config(options, municipalities=settings.municipalities)
    feeds_outbox = OutboxSignal()
    feeds = build_feed_broker(settings)  # the feeds relay publishes through it

    def consumer() -> ExactlyOnceConsumer:
        found = parts_of(app).consumer
        assert found is not None, "bootstrapped with the host's JetStream"
        return found

    async def wire(h: ServiceHost) -> None:
        app.state.parts = bootstrap(
            settings,
            h.pool,
            config=config,
            js=h.js,
            nats=h.nats,
            broker=h.require_broker,
            on_feed_queued=feeds_outbox.notify,
        )

    host = ServiceHost(
        name="reporting",
        settings=settings,
        schema=SCHEMA,
        migrations=MIGRATIONS,
        subscriptions=[DurableSubscription(settings, CONSUMER, consumer)],
        on_connected=[wire],
        other_schemas=OTHER_SCHEMAS,
        brokers=[feeds.broker],
        background=[
            relay_task(EVENTS_SCHEMA, outbox),
            # reporting's own events (its access log) are reconciled like a write service's
            reconcile_task(EVENTS_SCHEMA, "reporting", on_queued=outbox.notify),
            relay_task(
                FEEDS_SCHEMA,
                feeds_outbox,
                stream=lambda s: s.feeds_stream,
                publisher=feeds,
                batch_size=FEED_BATCH,
            ),
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
    app.state.dashboard_sessions = DashboardSessions(session_key(options.reporting.dashboard_session_key))
    app.include_router(api.router())
    sign_in.install(app)
    app.add_middleware(SensitiveHeaders)
    install_error_handlers(app, refusals=(DisclosureRefused,))
    install_forbidden(app, (DisclosureForbidden,))
    document_municipalities(app, config.municipalities)
    return app
