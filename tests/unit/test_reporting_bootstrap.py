"""Reporting's composition root builds one set of parts (projection, queries, access log
over its own event store, consumer) and its SQL is formatted once per schema (issue 13)."""

from __future__ import annotations

from typing import cast

import asyncpg
import pytest
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from runtime.auth import TokenIssuer
from runtime.config import Settings
from runtime.reconcile import RepairRequests
from runtime.sql import SqlStatements
from services.reporting.app import create_app
from services.reporting.bootstrap import EVENTS_SCHEMA, SCHEMA, SOURCE, bootstrap
from services.reporting.config import ReportingConfig
from services.reporting.statistics import Statistics, StatisticsSql
from services.reporting.views import SideViews, ViewsSql

SETTINGS = Settings(
    nats_url="nats://127.0.0.1:1",
    database_url="postgresql://127.0.0.1:1/x",
    namespace="t",
    municipalities=("Mikkeli", "Kangasniemi"),
    jwt_public_key=TokenIssuer.generate().public_pem(),
)
#: never connected: building the parts opens nothing
POOL = cast(asyncpg.Pool, object())
JS = cast(JetStreamContext, object())
NATS = cast(NatsClient, object())


def test_the_parts_share_one_pool_and_the_access_log_writes_reportings_own_events() -> None:
    config = ReportingConfig(municipalities=("Mikkeli",))
    parts = bootstrap(SETTINGS, POOL, config=config)
    assert parts.pool is POOL and parts.settings is SETTINGS
    assert parts.config is config and parts.statistics.config is config
    assert parts.store.schema == EVENTS_SCHEMA and parts.store._source == SOURCE
    assert parts.access_log._store is parts.store
    assert parts.projection.schema == SCHEMA
    assert parts.projection.feeds is not None, "the live projection queues partner feeds"
    assert parts.consumers == []


def test_the_projection_wakes_the_feeds_relay() -> None:
    woken: list[int] = []
    parts = bootstrap(SETTINGS, POOL, on_feed_queued=lambda: woken.append(1))
    assert parts.projection.feeds is not None and parts.projection.feeds._on_queue is not None
    parts.projection.feeds._on_queue()
    assert woken == [1]


def test_with_jetstream_the_consumer_applies_the_parts_projection_and_asks_for_repairs() -> None:
    parts = bootstrap(SETTINGS, POOL, js=JS, nats=NATS)
    [consumer] = parts.consumers
    assert consumer.projection is parts.projection
    assert isinstance(consumer.on_early, RepairRequests)
    assert bootstrap(SETTINGS, POOL, js=JS).consumers[0].on_early is None


def test_a_request_that_reads_the_log_asks_the_hosts_broker() -> None:
    parts = bootstrap(SETTINGS, POOL, broker=lambda: JS)
    assert parts.require_broker() is JS


@pytest.mark.parametrize("statements", [StatisticsSql, ViewsSql])
def test_every_statement_names_the_schema_it_was_built_for(statements: type[SqlStatements]) -> None:
    sql = statements("elsewhere")
    assert statements.templates()
    for name in statements.templates():
        text: str = getattr(sql, name)
        assert "elsewhere." in text, name
        assert "reporting." not in text and "{" not in text, name


def test_the_queries_format_for_their_schema() -> None:
    assert "elsewhere.steering_counts" in Statistics("elsewhere", ReportingConfig()).sql.counts
    assert "elsewhere.te_clients" in SideViews("elsewhere").sql.te_clients


def test_the_app_keeps_nothing_on_its_state_that_nothing_reads() -> None:
    """Before start-up only the runtime's entries and the dashboard's sessions are there;
    the parts come when the host connects (``app.state.parts``)."""
    state = vars(create_app(SETTINGS).state)["_state"]
    assert set(state) == {"host", "verifier", "dashboard_sessions"}
