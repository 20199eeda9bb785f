"""Intake's composition root: the one place its parts are built and wired."""

from __future__ import annotations

import os

from fastapi import FastAPI
from faststream.nats import NatsBroker

from contracts.intake import ClientReferred
from runtime.config import Settings
from runtime.db import event_store_migrations
from runtime.eventstore import EventStore
from runtime.http import install_error_handlers
from runtime.service import ServiceHost, relay_task, service_app
from services.intake import api, domain

SCHEMA = "intake"
MIGRATIONS = event_store_migrations()
SOURCE = "/reitti/intake"


def municipalities_from_env() -> tuple[str, ...]:
    raw = os.environ.get("REITTI_MUNICIPALITIES")
    if not raw:
        return domain.DEFAULT_MUNICIPALITIES
    return tuple(m.strip() for m in raw.split(",") if m.strip())


def build_broker(settings: Settings) -> NatsBroker:
    broker = NatsBroker(settings.nats_servers, logger=None)
    # Documented publishers (AsyncAPI); the relay publishes with nats-py for speed.
    broker.publisher(
        f"{settings.namespace}.events.intake.centre.{{municipality}}.ClientReferred",
        schema=ClientReferred,
        title="intake:ClientReferred",
        description="A client was referred to the centre (CloudEvents envelope, data below)",
    )
    return broker


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    host = ServiceHost(
        name="intake",
        settings=settings,
        schema=SCHEMA,
        migrations=MIGRATIONS,
        broker=build_broker(settings),
        background=[relay_task(SCHEMA)],
    )

    async def wire(h: ServiceHost) -> None:
        app.state.event_store = EventStore(h.pool, schema=SCHEMA, namespace=settings.namespace, source=SOURCE)

    host.on_connected = [wire]
    app = service_app(
        host,
        title="Reitti intake",
        description="Referral, info session, consent and service-needs assessment.",
        version="0.1.0",
    )
    app.state.municipalities = municipalities_from_env()
    app.include_router(api.router())
    install_error_handlers(app, refusals=(domain.DomainError,))
    return app
