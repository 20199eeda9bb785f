"""Guidance's composition root. The guidance domain is its own issue; today the service
owns its event store (and relays it) and answers health checks."""

from __future__ import annotations

from fastapi import FastAPI
from faststream.nats import NatsBroker

from runtime.config import Settings
from runtime.db import event_store_migrations
from runtime.service import ServiceHost, relay_task, service_app

SCHEMA = "guidance"
MIGRATIONS = event_store_migrations()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    host = ServiceHost(
        name="guidance",
        settings=settings,
        schema=SCHEMA,
        migrations=MIGRATIONS,
        broker=NatsBroker(settings.nats_servers, logger=None),
        background=[relay_task(SCHEMA)],
    )
    return service_app(
        host,
        title="Reitti guidance",
        description="The client relationship from route to closure.",
        version="0.1.0",
    )
