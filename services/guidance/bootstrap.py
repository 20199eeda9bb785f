"""Guidance's composition root: :func:`bootstrap` builds every part of the service once
(event store, repository, queries, access log, application service, its consumer) and
returns them in one typed container, :class:`GuidanceParts`. The app's start-up builds it
and puts it on ``app.state.parts``; handlers get it through ``Depends``; the operator
commands (``reitti redrive``) build it the same way."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import asyncpg
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from runtime.access_log import AccessLog
from runtime.config import Settings
from runtime.consumer import ExactlyOnceConsumer
from runtime.eventstore import EventStore
from runtime.reconcile import RepairRequests
from services.guidance.application import GuidanceService, IntakeEventsConsumer
from services.guidance.queries import GuidanceQueries
from services.guidance.repository import SCHEMA, GuidanceRepository
from services.settings import ReittiConfig

SOURCE = "/reitti/guidance"
CONSUMER = IntakeEventsConsumer.name


@dataclass(frozen=True)
class GuidanceSettings:
    """Guidance's own configuration (ohjauksen asetukset): its section of the settings model
    and the shared caseload limit (services/settings.py)."""

    #: the measures a plan may contain: code -> name
    measure_catalogue: Mapping[str, str]
    #: when each measure is meant to be used: code -> text
    measure_uses: Mapping[str, str]
    #: days before a hand-over to social services left unanswered is flagged
    acknowledgement_days: int
    #: the most active clients a guide should have (services/rules/caseload.py)
    caseload_limit: int


def guidance_settings(config: ReittiConfig) -> GuidanceSettings:
    """Guidance's settings from the settings model, read once by the composition root."""
    return GuidanceSettings(
        measure_catalogue=config.guidance.measure_catalogue,
        measure_uses=config.guidance.measure_uses,
        acknowledgement_days=config.guidance.transfer_ack_days,
        caseload_limit=config.shared.caseload_limit,
    )


@dataclass(frozen=True)
class GuidanceParts:
    """Everything guidance's handlers and consumers use, built once."""

    settings: Settings
    options: GuidanceSettings
    pool: asyncpg.Pool
    store: EventStore
    repository: GuidanceRepository
    queries: GuidanceQueries
    access_log: AccessLog
    service: GuidanceService
    #: the consumer of intake's events; None when built without a broker connection
    consumer: ExactlyOnceConsumer | None

    @property
    def consumers(self) -> list[ExactlyOnceConsumer]:
        return [] if self.consumer is None else [self.consumer]


def bootstrap(
    settings: Settings,
    pool: asyncpg.Pool,
    *,
    js: JetStreamContext | None = None,
    nats: NatsClient | None = None,
    options: GuidanceSettings | None = None,
    on_append: Callable[[], None] | None = None,
) -> GuidanceParts:
    """Guidance's parts on ``pool``. With ``js`` it has its consumer of intake's events;
    with ``nats`` too, that consumer asks intake to re-publish a predecessor lost from
    JetStream (docs/adr/0015). ``on_append`` is the relay's wake-up."""
    options = options or guidance_settings(ReittiConfig.from_env())
    store = EventStore(pool, schema=SCHEMA, namespace=settings.namespace, source=SOURCE, on_append=on_append)
    repository = GuidanceRepository(store)
    service = GuidanceService(pool, repository, caseload_limit=options.caseload_limit)
    consumer = None
    if js is not None:
        consumer = ExactlyOnceConsumer(
            pool=pool, js=js, settings=settings, projection=IntakeEventsConsumer(service)
        )
        if nats is not None:
            consumer.on_early = RepairRequests(nats, pool, settings, consumer=CONSUMER, schema=SCHEMA)
    return GuidanceParts(
        settings=settings,
        options=options,
        pool=pool,
        store=store,
        repository=repository,
        queries=GuidanceQueries(pool, repository),
        access_log=AccessLog(store),
        service=service,
        consumer=consumer,
    )
