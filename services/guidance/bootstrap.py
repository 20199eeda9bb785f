"""Guidance's composition root: :func:`bootstrap` builds every part of the service once
(event store, repository, queries, access log, application service, its consumer) and
returns them in one typed container, :class:`GuidanceParts`. The app's start-up builds it
and puts it on ``app.state.parts``; handlers get it through ``Depends``; the operator
commands (``reitti redrive``) build it the same way."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from runtime.access_log import AccessLog
from runtime.config import ConfigError, Settings
from runtime.consumer import ExactlyOnceConsumer
from runtime.eventstore import EventStore
from runtime.reconcile import RepairRequests
from services.guidance.application import GuidanceService, IntakeEventsConsumer
from services.guidance.domain.plan import DEFAULT_MEASURE_CATALOGUE
from services.guidance.domain.transfer import DEFAULT_ACKNOWLEDGEMENT_DAYS
from services.guidance.queries import GuidanceQueries
from services.guidance.repository import SCHEMA, GuidanceRepository
from services.rules.caseload import caseload_limit as configured_caseload_limit

SOURCE = "/reitti/guidance"
CONSUMER = IntakeEventsConsumer.name
MEASURE_CATALOGUE_VARIABLE = "REITTI_MEASURE_CATALOGUE"
ACKNOWLEDGEMENT_DAYS_VARIABLE = "REITTI_TRANSFER_ACK_DAYS"


@dataclass(frozen=True)
class GuidanceSettings:
    """Guidance's own configuration (ohjauksen asetukset), read once from the environment
    until the one config model carries a section for it."""

    #: the measures a plan may contain: code -> name
    measure_catalogue: Mapping[str, str]
    #: days before a hand-over to social services left unanswered is flagged
    acknowledgement_days: int
    #: the most active clients a guide should have (services/rules/caseload.py)
    caseload_limit: int


def guidance_settings(env: Mapping[str, str] | None = None) -> GuidanceSettings:
    """Guidance's settings from ``env`` (default: the process environment)."""
    env = os.environ if env is None else env
    raw_days = env.get(ACKNOWLEDGEMENT_DAYS_VARIABLE, "").strip()
    try:
        days = int(raw_days) if raw_days else DEFAULT_ACKNOWLEDGEMENT_DAYS
    except ValueError:
        raise ConfigError(f"{ACKNOWLEDGEMENT_DAYS_VARIABLE} must be a whole number of days") from None
    return GuidanceSettings(
        measure_catalogue=_measure_catalogue(env.get(MEASURE_CATALOGUE_VARIABLE)),
        acknowledgement_days=days,
        caseload_limit=configured_caseload_limit(env),
    )


def _measure_catalogue(path: str | None) -> Mapping[str, str]:
    if not path:
        return DEFAULT_MEASURE_CATALOGUE
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{MEASURE_CATALOGUE_VARIABLE} {path}: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ConfigError(f"{MEASURE_CATALOGUE_VARIABLE} must be a JSON object of code -> name")
    return data


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
    options = options or guidance_settings()
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
