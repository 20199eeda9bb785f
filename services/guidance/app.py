"""Guidance's composition root."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import asyncpg
from fastapi import FastAPI
from faststream.nats import NatsBroker
from nats.js import JetStreamContext

from contracts.guidance import (
    ClientRelationshipClosed,
    ClosureProposed,
    FinalAssessmentIssued,
    GuidanceCaseOpened,
    GuideAssigned,
    HealthCheckDetailsRecorded,
    HealthCheckSummaryRecorded,
    PlanRevised,
    ReturnedFromSocialServices,
    TransferAcknowledged,
    TransferredToSocialServices,
)
from runtime.access_log import AccessLog
from runtime.config import ConfigError, Settings
from runtime.consumer import ExactlyOnceConsumer
from runtime.db import Migration, event_store_migrations
from runtime.eventstore import EventStore
from runtime.http import install_error_handlers, install_forbidden
from runtime.openapi_names import document_municipalities
from runtime.reconcile import RepairRequests, reconcile_task
from runtime.relay import OutboxSignal
from runtime.service import ServiceHost, relay_task, service_app
from runtime.subscribers import DurableSubscription, document_exactly_once
from services.disclosure.policy import DisclosureForbidden, DisclosureRefused
from services.guidance import api
from services.guidance.application import CaseNotFound, GuidanceService, GuideNotFound, IntakeEventsConsumer
from services.guidance.domain.errors import DomainError, NotPermitted
from services.guidance.domain.plan import DEFAULT_MEASURE_CATALOGUE
from services.guidance.domain.transfer import DEFAULT_ACKNOWLEDGEMENT_DAYS
from services.guidance.repository import SCHEMA, GuidanceRepository
from services.rules.caseload import caseload_limit as configured_caseload_limit

SOURCE = "/reitti/guidance"
MIGRATIONS = [
    *event_store_migrations(),
    Migration.from_package("services.guidance.migrations", "0101_guidance_read_model.sql"),
    Migration.from_package("services.guidance.migrations", "0102_guidance_consents.sql"),
]
CONSUMER = IntakeEventsConsumer.name


def measure_catalogue_from_env() -> Mapping[str, str]:
    path = os.environ.get("REITTI_MEASURE_CATALOGUE")
    if not path:
        return DEFAULT_MEASURE_CATALOGUE
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"REITTI_MEASURE_CATALOGUE {path}: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ConfigError("REITTI_MEASURE_CATALOGUE must be a JSON object of code -> name")
    return data


def build_broker(settings: Settings) -> NatsBroker:
    """The broker with guidance's subscriber and its published events declared (the
    relay publishes with nats-py; the declarations feed the AsyncAPI document only: it is
    never started)."""

    broker = NatsBroker(settings.nats_servers, logger=None)
    # the consumer itself runs on a nats-py subscription (runtime/subscribers.py)
    document_exactly_once(
        broker,
        settings,
        CONSUMER,
        subject=f"{settings.namespace}.events.intake.>",
        description="Intake's events: referrals fill the client directory, assessments open cases",
    )
    client_subject = f"{settings.namespace}.events.guidance.centre.{{municipality}}"
    for event in (
        GuidanceCaseOpened,
        GuideAssigned,
        PlanRevised,
        HealthCheckSummaryRecorded,
        TransferredToSocialServices,
        TransferAcknowledged,
        ReturnedFromSocialServices,
        ClosureProposed,
        ClientRelationshipClosed,
    ):
        broker.publisher(
            f"{client_subject}.{event.event_type}",
            schema=event,
            title=f"guidance:{event.event_type}",
            description=(event.__doc__ or "").strip(),
        )
    broker.publisher(
        f"{settings.namespace}.events.guidance.health.{{municipality}}.HealthCheckDetailsRecorded",
        schema=HealthCheckDetailsRecorded,
        title="guidance:HealthCheckDetailsRecorded",
        description="Health check details: the health partition only",
    )
    broker.publisher(
        f"{settings.namespace}.events.guidance.te.te-office.FinalAssessmentIssued",
        schema=FinalAssessmentIssued,
        title="guidance:FinalAssessmentIssued",
        description="The final assessment for URA, on the TE-office's feed",
    )
    return broker


def guidance_service(
    settings: Settings,
    pool: asyncpg.Pool,
    *,
    caseload_limit: int | None = None,
    on_append: Callable[[], None] | None = None,
) -> GuidanceService:
    """The guidance service on its event store (``on_append``: the relay's wake-up)."""
    limit = caseload_limit or configured_caseload_limit()
    store = EventStore(pool, schema=SCHEMA, namespace=settings.namespace, source=SOURCE, on_append=on_append)
    return GuidanceService(pool, GuidanceRepository(store), caseload_limit=limit)


def operator_consumers(
    settings: Settings, pool: asyncpg.Pool, js: JetStreamContext
) -> list[ExactlyOnceConsumer]:
    """This service's consumers as the operator commands run them (``reitti redrive``).
    What they append is published by the running service's relay."""
    projection = IntakeEventsConsumer(guidance_service(settings, pool))
    return [ExactlyOnceConsumer(pool=pool, js=js, settings=settings, projection=projection)]


def create_app(settings: Settings | None = None, *, caseload_limit: int | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    outbox = OutboxSignal()  # appends wake this service's relay
    ack_days = int(os.environ.get("REITTI_TRANSFER_ACK_DAYS", DEFAULT_ACKNOWLEDGEMENT_DAYS))
    catalogue = measure_catalogue_from_env()
    holder: list[ExactlyOnceConsumer] = []
    intake_events = DurableSubscription(
        settings, CONSUMER, lambda: holder[0], subject=f"{settings.namespace}.events.intake.>"
    )

    async def wire(h: ServiceHost) -> None:
        svc = guidance_service(settings, h.pool, caseload_limit=caseload_limit, on_append=outbox.notify)
        app.state.guidance = svc
        app.state.access_log = AccessLog(svc.repo.store)
        consumer = ExactlyOnceConsumer(
            pool=h.pool, js=h.js, settings=settings, projection=IntakeEventsConsumer(svc)
        )
        # a predecessor lost from JetStream: ask intake to re-publish it (docs/adr/0015)
        consumer.on_early = RepairRequests(h.nats, h.pool, settings, consumer=CONSUMER, schema=SCHEMA)
        holder[:] = [consumer]

    host = ServiceHost(
        name="guidance",
        settings=settings,
        schema=SCHEMA,
        migrations=MIGRATIONS,
        background=[relay_task(SCHEMA, outbox), reconcile_task(SCHEMA, "guidance", on_queued=outbox.notify)],
        on_connected=[wire],
        subscriptions=[intake_events],
    )
    app = service_app(
        host,
        title="Reitti guidance",
        description="The client relationship from route to closure: named guide and caseload, plan and "
        "measures, health check, transfer to social services and back, re-assessment, closure.",
        version="0.2.0",
    )
    app.state.consumers = holder  # (as reporting's: its consumer, once started)
    app.include_router(
        api.router(catalogue=catalogue, acknowledgement_days=ack_days, municipalities=settings.municipalities)
    )
    install_error_handlers(
        app, refusals=(DomainError, DisclosureRefused), not_found=(CaseNotFound, GuideNotFound)
    )
    install_forbidden(app, (NotPermitted, DisclosureForbidden))
    document_municipalities(app, settings.municipalities)
    return app
