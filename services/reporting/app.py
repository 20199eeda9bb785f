"""Reporting's composition root."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from faststream.nats import NatsBroker

from runtime.config import Settings
from runtime.consumer import ExactlyOnceConsumer
from runtime.service import ServiceHost, service_app
from runtime.subscribers import subscribe_exactly_once
from services.reporting import api
from services.reporting.projections import MIGRATIONS, ReferralStatistics

SCHEMA = "reporting"
CONSUMER = ReferralStatistics.name


def build_broker(settings: Settings, consumer: Callable[[], ExactlyOnceConsumer] | None = None) -> NatsBroker:
    def not_started() -> ExactlyOnceConsumer:
        raise RuntimeError("reporting is not started")

    broker = NatsBroker(settings.nats_servers, logger=None)
    subscribe_exactly_once(
        broker,
        settings,
        CONSUMER,
        consumer or not_started,
        description="Every event, applied exactly once to reporting's projections",
    )
    return broker


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    statistics = ReferralStatistics(SCHEMA)
    consumers: list[ExactlyOnceConsumer] = []

    async def wire(h: ServiceHost) -> None:
        consumers[:] = [ExactlyOnceConsumer(pool=h.pool, js=h.js, settings=settings, projection=statistics)]

    host = ServiceHost(
        name="reporting",
        settings=settings,
        schema=SCHEMA,
        migrations=MIGRATIONS,
        broker=build_broker(settings, lambda: consumers[0]),
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
