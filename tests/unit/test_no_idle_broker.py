"""No service starts a FastStream broker that carries nothing (ADR 0034): the consumers
run on nats-py. The one broker a service starts is reporting's, which publishes the
partner feeds and holds nothing else (ADR 0043); the other brokers exist only to declare
the AsyncAPI document."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from faststream.nats import NatsBroker
from faststream.nats.publisher.usecase import LogicPublisher

from runtime.auth import TokenIssuer
from runtime.broker_access import partner_feeds
from runtime.config import Settings
from services.guidance.app import create_app as guidance_app
from services.intake.app import create_app as intake_app
from services.reporting.app import create_app as reporting_app

SETTINGS = Settings(
    nats_url="nats://127.0.0.1:4222",
    database_url="postgresql://",
    jwt_public_key=TokenIssuer.generate().public_pem(),
)


def held_brokers(host: object) -> list[NatsBroker]:
    """Every FastStream broker the host holds, directly or among its ``brokers``."""
    values = list(vars(host).values())
    values += [v for value in values if isinstance(value, list | tuple) for v in value]
    return [value for value in values if isinstance(value, NatsBroker)]


@pytest.mark.parametrize("create_app", [intake_app, guidance_app])
def test_a_write_service_host_holds_no_faststream_broker(create_app: Callable[[Settings], FastAPI]) -> None:
    host = create_app(SETTINGS).state.host
    assert held_brokers(host) == [], f"{host.name} would start an idle FastStream broker"


def test_reportings_one_broker_publishes_the_partner_feeds_and_consumes_nothing() -> None:
    host = reporting_app(SETTINGS).state.host
    [broker] = held_brokers(host)
    assert list(broker.subscribers) == [], "starting it would start a consumer"
    publishers = [p for p in broker.publishers if isinstance(p, LogicPublisher)]
    assert len(publishers) == len(broker.publishers)
    subjects = sorted(publisher.subject.template for publisher in publishers)
    ns = SETTINGS.namespace
    assert subjects == sorted(
        f"{ns}.feeds.{feed.token}.{{event_type}}.{{client}}"
        for feed in partner_feeds(SETTINGS.municipalities)
    )


def test_the_asyncapi_document_still_declares_every_service() -> None:
    from reitti.asyncapi import asyncapi_document

    channels = " ".join(asyncapi_document()["channels"])
    for service in ("intake", "guidance", "reporting"):
        assert service in channels
