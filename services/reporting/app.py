"""Reporting's composition root."""

from __future__ import annotations

from fastapi import FastAPI
from faststream.nats import NatsBroker

from runtime.config import Settings
from runtime.consumer import ExactlyOnceConsumer
from runtime.db import consumer_tracking_migrations
from runtime.service import ServiceHost, service_app
from runtime.subscribers import subscribe_exactly_once
from services.reporting import api
from services.reporting.projections import ReferralStatistics

SCHEMA = "reporting"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    broker = NatsBroker(settings.nats_url, logger=None)
    statistics = ReferralStatistics(SCHEMA)
    consumers: list[ExactlyOnceConsumer] = []

    def consumer() -> ExactlyOnceConsumer:
        return consumers[0]

    subscribe_exactly_once(
        broker,
        settings,
        statistics.name,
        consumer,
        description="Every event, applied exactly once to reporting's projections",
    )

    async def wire(h: ServiceHost) -> None:
        async with h.pool.acquire() as conn:
            await statistics.create(conn)
        consumers[:] = [
            ExactlyOnceConsumer(pool=h.pool, js=h.js, settings=settings, projection=statistics)
        ]

    host = ServiceHost(
        name="reporting",
        settings=settings,
        schema=SCHEMA,
        migrations=consumer_tracking_migrations(),
        broker=broker,
        on_connected=[wire],
    )
    app = service_app(
        host,
        title="Reitti reporting",
        description="Statistics and side-separated projections built from the event log.",
        version="0.1.0",
    )
    app.state.statistics = statistics
    app.state.consumers = consumers
    app.include_router(api.router())
    return app
