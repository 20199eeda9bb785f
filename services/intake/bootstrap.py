"""Intake's composition root (*kokoonpano*): the one place its parts are built.

The app's start-up (``ServiceHost.on_connected``) calls :func:`bootstrap` once and puts the
result on ``app.state.parts``, the one entry; handlers receive it through ``Depends``
(:data:`Parts`). Operator commands that need intake's parts (``reitti erase-expired``) call
:func:`bootstrap` too, so the service is wired in one place (issue 13).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import asyncpg
from fastapi import Depends, FastAPI, Request

from runtime.access_log import AccessLog
from runtime.config import Settings
from runtime.eventstore import EventStore
from services.intake.application import IntakeService
from services.intake.queries import IntakeQueries
from services.intake.repository import SCHEMA, IntakeRepository

#: the CloudEvents source of intake's events
SOURCE = "/reitti/intake"


@dataclass(frozen=True)
class IntakeParts:
    """Everything intake's handlers and tasks use, built once from settings and a pool."""

    settings: Settings
    pool: asyncpg.Pool
    event_store: EventStore
    repository: IntakeRepository
    queries: IntakeQueries
    access_log: AccessLog
    service: IntakeService


def bootstrap(
    settings: Settings, pool: asyncpg.Pool, *, on_append: Callable[[], None] | None = None
) -> IntakeParts:
    """Intake's parts over ``pool``; ``on_append`` wakes the relay after each append."""
    store = EventStore(pool, schema=SCHEMA, namespace=settings.namespace, source=SOURCE, on_append=on_append)
    repository = IntakeRepository(store)
    access_log = AccessLog(store)
    return IntakeParts(
        settings=settings,
        pool=pool,
        event_store=store,
        repository=repository,
        queries=IntakeQueries(pool, SCHEMA),
        access_log=access_log,
        service=IntakeService(pool, repository, settings.municipalities, access_log),
    )


def parts_of(app: FastAPI) -> IntakeParts:
    """The parts the app's start-up built (``app.state.parts``, its one entry)."""
    parts: IntakeParts = app.state.parts
    return parts


def parts(request: Request) -> IntakeParts:
    """The dependency that hands a handler intake's parts."""
    return parts_of(request.app)


Parts = Annotated[IntakeParts, Depends(parts)]
