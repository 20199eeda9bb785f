"""Intake's composition root builds one set of parts that share one event store, and its
SQL is formatted once for the schema it is given (issue 13)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from typing import Any, cast

import asyncpg
import pytest
from fastapi import Request, Response
from fastapi.responses import JSONResponse

from runtime.auth import TokenIssuer
from runtime.config import Settings
from runtime.eventstore import EventStore
from services.intake.app import create_app
from services.intake.bootstrap import SOURCE, IntakeParts, bootstrap
from services.intake.domain.errors import FieldRequired
from services.intake.queries import IntakeQueries, QueriesSql
from services.intake.repository import SCHEMA, IntakeRepository, IntakeSql

SETTINGS = Settings(
    nats_url="nats://x",
    database_url="postgresql://x",
    namespace="t",
    municipalities=("Mikkeli", "Kangasniemi"),
)
#: never connected: building the parts opens nothing
POOL = cast(asyncpg.Pool, object())


def built() -> IntakeParts:
    return bootstrap(SETTINGS, POOL)


def test_the_parts_share_one_pool_and_one_event_store() -> None:
    parts = built()
    assert parts.settings is SETTINGS
    assert parts.pool is POOL
    assert parts.event_store.schema == SCHEMA
    assert parts.repository.store is parts.event_store
    assert parts.service._repo is parts.repository
    assert parts.service._pool is POOL
    assert parts.service._access_log is parts.access_log
    assert parts.access_log._store is parts.event_store
    assert parts.service.municipalities == ("Mikkeli", "Kangasniemi")


def test_the_event_store_writes_intakes_source_and_wakes_the_relay() -> None:
    woken: list[int] = []
    parts = bootstrap(SETTINGS, POOL, on_append=lambda: woken.append(1))
    assert parts.event_store._source == SOURCE
    assert parts.event_store._on_append is not None
    parts.event_store._on_append()
    assert woken == [1]


@pytest.mark.parametrize("statements", [IntakeSql, QueriesSql])
def test_every_statement_names_the_schema_it_was_built_for(statements: type[IntakeSql | QueriesSql]) -> None:
    sql = statements("elsewhere")
    for name in statements.templates():
        text: str = getattr(sql, name)
        assert "elsewhere." in text, name
        assert "intake." not in text and "{" not in text, name


def test_the_repository_and_the_queries_format_for_their_schema() -> None:
    store = EventStore(POOL, schema="elsewhere", namespace="t", source=SOURCE)
    assert "elsewhere.client_identities" in IntakeRepository(store).sql.find_identity
    assert "elsewhere.case_overview" in IntakeQueries(POOL, "elsewhere").sql.queue


def test_a_rule_that_needs_a_missing_field_answers_422_naming_it() -> None:
    """'source other needs a description' is the domain's rule alone; the API still
    answers invalid input naming the field, not a 409 refusal."""
    app = create_app(
        Settings(
            nats_url="nats://127.0.0.1:1",
            database_url="postgresql://127.0.0.1:1/x",
            jwt_public_key=TokenIssuer.generate().public_pem(),
        ),
        retention_sweep_every=0,
    )
    refused = FieldRequired("source_description", "missing_source_description", "needs source_description")
    handler = cast(
        Callable[[Request, Exception], Coroutine[Any, Any, Response]], app.exception_handlers[FieldRequired]
    )
    request = Request({"type": "http", "method": "POST", "path": "/referrals", "headers": [], "app": app})
    answer = asyncio.run(handler(request, refused))
    assert isinstance(answer, JSONResponse)
    assert answer.status_code == 422
    body = json.loads(bytes(answer.body))
    [error] = body["errors"]
    assert error["field"] == "source_description"
    assert error["code"] == "missing_source_description"
    assert "source_description" in error["reason"]
