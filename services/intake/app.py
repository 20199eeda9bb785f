"""Intake's composition root: the one place its parts are built and wired."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
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
from runtime.config import Settings
from runtime.db import Migration, event_store_migrations
from runtime.http import install_error_handlers, install_forbidden
from runtime.openapi_names import document_municipalities
from runtime.problems import ProblemType, problem
from runtime.reconcile import reconcile_task
from runtime.relay import OutboxSignal
from runtime.service import BackgroundTask, ServiceHost, relay_task, service_app
from services.disclosure.policy import DisclosureForbidden, DisclosureRefused
from services.intake import api
from services.intake.application import ClientNotFound, PossibleDuplicateNotFound, SessionNotFound
from services.intake.bootstrap import SOURCE, bootstrap, parts_of
from services.intake.domain.errors import DomainError, FieldRequired
from services.intake.identity import InvalidIdentityCode
from services.intake.imports import TooManyRows
from services.intake.info_list import InfoListError
from services.intake.repository import SCHEMA
from services.intake.retention import Sweep, retention_sweep_task
from services.settings import ReittiConfig

log = logging.getLogger(__name__)

__all__ = ["MIGRATIONS", "SOURCE", "build_broker", "create_app"]

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


def look_alike_backfill_task(app: FastAPI) -> BackgroundTask:
    """Once at start: the look-alike keys of clients registered before they existed
    (docs/adr/0019); then it waits for the service to stop. Background tasks start after
    ``on_connected``, so the app's parts are built by then."""

    async def run(host: ServiceHost, stop: asyncio.Event) -> None:
        made = await parts_of(app).service.backfill_look_alikes()
        if made:
            log.info("intake: made the look-alike keys of %d earlier clients", made)
        await stop.wait()

    return run


def background_tasks(app: FastAPI, outbox: OutboxSignal, sweep_every: float) -> list[BackgroundTask]:
    """Intake's background tasks: the relay, reconciliation, the look-alike backfill and,
    unless ``sweep_every`` is 0, the retention sweep. They run after start-up has built
    the app's parts, and read them from there."""

    def sweep() -> Sweep:
        service = parts_of(app).service
        return lambda conn, ctx: service.erase_expired(clock.today(), ctx, conn=conn)

    tasks = [
        relay_task(SCHEMA, outbox),
        reconcile_task(SCHEMA, "intake", on_queued=outbox.notify),
        look_alike_backfill_task(app),
    ]
    if sweep_every > 0:
        tasks.append(retention_sweep_task(sweep, sweep_every))
    return tasks


def create_app(
    settings: Settings | None = None,
    *,
    retention_sweep_every: float | None = None,
    config: ReittiConfig | None = None,
) -> FastAPI:
    """Intake's app. ``retention_sweep_every``: seconds between retention sweeps
    (default ``REITTI_RETENTION_SWEEP_HOURS``; 0 turns the sweep off). ``config`` (the
    settings model) is read from the environment here, once, unless given."""
    config = config or ReittiConfig.from_env()
    settings = settings or config.settings()
    clock.use_zone(config.shared.time_zone)
    outbox = OutboxSignal()  # appends wake this service's relay
    every = (
        retention_sweep_every
        if retention_sweep_every is not None
        else config.intake.retention_sweep_hours * 3600
    )
    host = ServiceHost(name="intake", settings=settings, schema=SCHEMA, migrations=MIGRATIONS)
    app = service_app(
        host,
        title="Reitti intake",
        description="Referral, info session, consent and service-needs assessment: the front "
        "door of the centre, from the TE-office info list to a routed assessment.",
        version="0.2.0",
        import_paths=("/referrals/import",),
    )

    async def build_parts(h: ServiceHost) -> None:
        app.state.parts = bootstrap(settings, h.pool, on_append=outbox.notify)

    host.on_connected = [build_parts]
    host.background = background_tasks(app, outbox, every)
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

    async def field_required(request: Request, exc: Exception) -> Response:
        # A domain rule that needs a field the request left out: 422 naming the field, in
        # the one shape of invalid input (the rule itself is written once, in the domain).
        assert isinstance(exc, FieldRequired)
        answer = app.exception_handlers[RequestValidationError]
        error = {"loc": ("body", exc.field), "msg": str(exc), "type": exc.code}
        answered = answer(request, RequestValidationError([error]))
        return answered if isinstance(answered, Response) else await answered

    app.add_exception_handler(FieldRequired, field_required)
    return app
