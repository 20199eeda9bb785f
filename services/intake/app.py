"""Intake's composition root: the one place its parts are built and wired."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from faststream.nats import NatsBroker

from contracts.intake import (
    AssessmentCompleted,
    ClientReferred,
    ConsentGiven,
    ConsentWithdrawn,
    InfoSessionScheduled,
    IntakeTargetSet,
)
from runtime import clock
from runtime.access_log import AccessLog
from runtime.config import Settings
from runtime.db import Migration, event_store_migrations
from runtime.eventstore import EventStore
from runtime.http import install_error_handlers, install_forbidden
from runtime.openapi_names import document_municipalities
from runtime.problems import ProblemType, problem
from runtime.reconcile import reconcile_task
from runtime.relay import OutboxSignal
from runtime.service import BackgroundTask, ServiceHost, relay_task, service_app
from services.disclosure.policy import DisclosureForbidden, DisclosureRefused
from services.intake import api
from services.intake.application import (
    ClientNotFound,
    IntakeService,
    PossibleDuplicateNotFound,
    SessionNotFound,
)
from services.intake.domain.errors import DomainError
from services.intake.identity import InvalidIdentityCode
from services.intake.imports import TooManyRows
from services.intake.info_list import InfoListError
from services.intake.repository import SCHEMA, IntakeRepository
from services.intake.retention import Sweep, retention_sweep_task, sweep_hours_from_env

log = logging.getLogger(__name__)

SOURCE = "/reitti/intake"
MIGRATIONS = [
    *event_store_migrations(),
    Migration.from_package("services.intake.migrations", "0101_intake_read_model.sql"),
    Migration.from_package("services.intake.migrations", "0102_possible_duplicates.sql"),
    Migration.from_package("services.intake.migrations", "0103_stage_business_dates.sql"),
]


def build_broker(settings: Settings) -> NatsBroker:
    """The broker, with intake's published events declared for the AsyncAPI document only:
    it is never started (the relay itself publishes with nats-py; see runtime/relay.py)."""
    broker = NatsBroker(settings.nats_servers, logger=None)
    client_subject = f"{settings.namespace}.events.intake.centre.{{municipality}}"
    for event, what in (
        (ClientReferred, "A client was referred to the centre"),
        (ConsentGiven, "The client gave a consent with its scopes"),
        (ConsentWithdrawn, "The client withdrew a consent"),
        (AssessmentCompleted, "The service-needs assessment routed the client"),
    ):
        broker.publisher(
            f"{client_subject}.{event.event_type}",
            schema=event,
            title=f"intake:{event.event_type}",
            description=f"{what} (CloudEvents envelope; the event is its data)",
        )
    broker.publisher(
        f"{settings.namespace}.events.intake.centre.centre.InfoSessionScheduled",
        schema=InfoSessionScheduled,
        title="intake:InfoSessionScheduled",
        description="An info session was scheduled",
    )
    broker.publisher(
        f"{settings.namespace}.events.intake.centre.centre.IntakeTargetSet",
        schema=IntakeTargetSet,
        title="intake:IntakeTargetSet",
        description="The steering group set a year's intake target (a later one supersedes)",
    )
    return broker


def look_alike_backfill_task(service: Callable[[], IntakeService]) -> BackgroundTask:
    """Once at start: the look-alike keys of clients registered before they existed
    (docs/adr/0019); then it waits for the service to stop."""

    async def run(host: ServiceHost, stop: asyncio.Event) -> None:
        made = await service().backfill_look_alikes()
        if made:
            log.info("intake: made the look-alike keys of %d earlier clients", made)
        await stop.wait()

    return run


def create_app(
    settings: Settings | None = None,
    *,
    retention_sweep_every: float | None = None,
) -> FastAPI:
    """Intake's app. ``retention_sweep_every``: seconds between retention sweeps
    (default ``REITTI_RETENTION_SWEEP_HOURS``; 0 turns the sweep off)."""
    settings = settings or Settings.from_env()
    outbox = OutboxSignal()  # appends wake this service's relay
    every = retention_sweep_every if retention_sweep_every is not None else sweep_hours_from_env() * 3600
    background = [
        relay_task(SCHEMA, outbox),
        reconcile_task(SCHEMA, "intake", on_queued=outbox.notify),
        look_alike_backfill_task(lambda: app.state.intake),
    ]
    if every > 0:

        def sweep() -> Sweep:
            service: IntakeService = app.state.intake
            return lambda conn, ctx: service.erase_expired(clock.today(), ctx, conn=conn)

        background.append(retention_sweep_task(sweep, every))
    host = ServiceHost(
        name="intake",
        settings=settings,
        schema=SCHEMA,
        migrations=MIGRATIONS,
        background=background,
    )

    async def wire(h: ServiceHost) -> None:
        store = EventStore(
            h.pool, schema=SCHEMA, namespace=settings.namespace, source=SOURCE, on_append=outbox.notify
        )
        repository = IntakeRepository(store)
        app.state.event_store = store
        app.state.access_log = AccessLog(store)
        app.state.repository = repository
        app.state.intake = IntakeService(h.pool, repository, settings.municipalities, app.state.access_log)

    host.on_connected = [wire]
    app = service_app(
        host,
        title="Reitti intake",
        description="Referral, info session, consent and service-needs assessment: the front "
        "door of the centre, from the TE-office info list to a routed assessment.",
        version="0.2.0",
        import_paths=("/referrals/import",),
    )
    app.include_router(api.router())
    install_error_handlers(
        app,
        refusals=(DomainError, DisclosureRefused),
        not_found=(ClientNotFound, SessionNotFound, PossibleDuplicateNotFound),
        invalid=(InfoListError, InvalidIdentityCode),
    )
    install_forbidden(app, (DisclosureForbidden,))
    document_municipalities(app, settings.municipalities)

    async def too_many_rows(_: Request, exc: Exception) -> JSONResponse:
        # 413, as for a body over its byte limit: the list is too large, not invalid
        # (docs/adr/0026); the cure is the same, sending it in parts.
        return problem(ProblemType.TOO_LARGE, str(exc), title="too many rows")

    app.add_exception_handler(TooManyRows, too_many_rows)
    return app
