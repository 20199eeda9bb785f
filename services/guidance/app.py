"""Guidance's composition root."""

from __future__ import annotations

from dataclasses import replace

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
from runtime import clock
from runtime.config import Settings
from runtime.consumer import ExactlyOnceConsumer
from runtime.db import Migration, event_store_migrations
from runtime.http import install_error_handlers, install_forbidden
from runtime.openapi_names import document_municipalities
from runtime.reconcile import reconcile_task
from runtime.relay import OutboxSignal
from runtime.service import ServiceHost, relay_task, service_app
from runtime.subscribers import DurableSubscription, document_exactly_once
from services.disclosure.policy import DisclosureForbidden, DisclosureRefused
from services.guidance import api
from services.guidance.application import CaseNotFound, GuideNotFound
from services.guidance.bootstrap import CONSUMER, GuidanceParts, bootstrap, guidance_settings
from services.guidance.domain.errors import DomainError, NotPermitted
from services.guidance.repository import SCHEMA
from services.settings import ReittiConfig

MIGRATIONS = [
    *event_store_migrations(),
    Migration.from_package("services.guidance.migrations", "0101_guidance_read_model.sql"),
    Migration.from_package("services.guidance.migrations", "0102_guidance_consents.sql"),
]


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


def operator_consumers(
    settings: Settings, pool: asyncpg.Pool, js: JetStreamContext, config: ReittiConfig
) -> list[ExactlyOnceConsumer]:
    """This service's consumers as the operator commands run them (``reitti redrive``),
    with the settings model the command read. What they append is published by the
    running service's relay."""
    return bootstrap(settings, pool, js=js, options=guidance_settings(config)).consumers


def create_app(
    settings: Settings | None = None,
    *,
    caseload_limit: int | None = None,
    config: ReittiConfig | None = None,
) -> FastAPI:
    """Guidance's app. ``config`` (the settings model) is read from the environment here,
    once, unless given: a wrong value stops the start, not a request."""
    config = config or ReittiConfig.from_env()
    settings = settings or config.settings()
    clock.use_zone(config.shared.time_zone)
    options = guidance_settings(config)
    if caseload_limit is not None:
        options = replace(options, caseload_limit=caseload_limit)
    outbox = OutboxSignal()  # appends wake this service's relay

    def consumer() -> ExactlyOnceConsumer:
        found: GuidanceParts = app.state.parts
        assert found.consumer is not None, "bootstrapped with the host's JetStream"
        return found.consumer

    async def wire(h: ServiceHost) -> None:
        app.state.parts = bootstrap(
            settings, h.pool, js=h.js, nats=h.nats, options=options, on_append=outbox.notify
        )

    host = ServiceHost(
        name="guidance",
        settings=settings,
        schema=SCHEMA,
        migrations=MIGRATIONS,
        background=[relay_task(SCHEMA, outbox), reconcile_task(SCHEMA, "guidance", on_queued=outbox.notify)],
        on_connected=[wire],
        subscriptions=[
            DurableSubscription(settings, CONSUMER, consumer, subject=f"{settings.namespace}.events.intake.>")
        ],
    )
    app = service_app(
        host,
        title="Reitti guidance",
        description="The client relationship from route to closure: named guide and caseload, plan and "
        "measures, health check, transfer to social services and back, re-assessment, closure.",
        version="0.2.0",
    )
    app.include_router(api.router())
    install_error_handlers(
        app, refusals=(DomainError, DisclosureRefused), not_found=(CaseNotFound, GuideNotFound)
    )
    install_forbidden(app, (NotPermitted, DisclosureForbidden))
    document_municipalities(app, settings.municipalities)
    return app
