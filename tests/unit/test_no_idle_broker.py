"""No service starts a FastStream broker that carries nothing (ADR 0034): the consumers
run on nats-py, and the brokers exist only to declare the AsyncAPI document."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from faststream.nats import NatsBroker

from runtime.auth import TokenIssuer
from runtime.config import Settings
from services.guidance.app import create_app as guidance_app
from services.intake.app import create_app as intake_app
from services.reporting.app import create_app as reporting_app


@pytest.mark.parametrize("create_app", [intake_app, guidance_app, reporting_app])
def test_a_service_host_holds_no_faststream_broker(create_app: Callable[[Settings], FastAPI]) -> None:
    settings = Settings(
        nats_url="nats://127.0.0.1:4222",
        database_url="postgresql://",
        jwt_public_key=TokenIssuer.generate().public_pem(),
    )
    host = create_app(settings).state.host
    held = {name: value for name, value in vars(host).items() if isinstance(value, NatsBroker)}
    assert held == {}, f"{host.name} would start an idle FastStream broker: {sorted(held)}"


def test_the_asyncapi_document_still_declares_every_service() -> None:
    from reitti.asyncapi import asyncapi_document

    channels = " ".join(asyncapi_document()["channels"])
    for service in ("intake", "guidance", "reporting"):
        assert service in channels
