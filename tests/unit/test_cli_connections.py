"""The operator commands' connections are opened and closed in one place
(reitti/cli/connections.py): closed however the command ends."""

from __future__ import annotations

from typing import Any, cast

import pytest

from reitti.cli import connections
from runtime.config import Settings

SETTINGS = Settings(nats_url="nats://127.0.0.1:1", database_url="postgresql://x@127.0.0.1:1/x")


class Closable:
    def __init__(self, log: list[str], name: str) -> None:
        self.log, self.name = log, name

    async def close(self) -> None:
        self.log.append(f"{self.name} closed")

    def jetstream(self) -> str:
        return "js"


@pytest.fixture
def log(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    events: list[str] = []

    async def create_pool(url: str, **kwargs: Any) -> Closable:
        events.append(f"pool opened {kwargs}")
        return Closable(events, "pool")

    async def connect_nats(url: str, *, name: str) -> Closable:
        events.append(f"nats opened {name}")
        return Closable(events, "nats")

    monkeypatch.setattr("runtime.db.create_pool", create_pool)
    monkeypatch.setattr("runtime.streams.connect_nats", connect_nats)
    return events


async def test_both_are_closed_when_the_command_fails(log: list[str]) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with connections.connected(SETTINGS, name="reitti-x", max_size=3) as c:
            assert cast(object, c.js) == "js"
            raise RuntimeError("boom")
    assert log == [
        "pool opened {'max_size': 3, 'application_name': None}",
        "nats opened reitti-x",
        "nats closed",
        "pool closed",
    ]


async def test_the_pool_is_closed_when_the_broker_cannot_be_reached(
    log: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unreachable(url: str, *, name: str) -> Closable:
        raise OSError("no broker")

    monkeypatch.setattr("runtime.streams.connect_nats", unreachable)
    with pytest.raises(OSError, match="no broker"):
        async with connections.connected(SETTINGS, name="reitti-x"):
            raise AssertionError("not reached")
    assert log == ["pool opened {'max_size': 2, 'application_name': None}", "pool closed"]


async def test_database_and_broker_alone_close_theirs(log: list[str]) -> None:
    async with connections.database(SETTINGS, max_size=1, application_name="a") as pool:
        assert isinstance(pool, Closable)
    async with connections.broker(SETTINGS, name="reitti-y") as nc:
        assert isinstance(nc, Closable)
    assert log == [
        "pool opened {'max_size': 1, 'application_name': 'a'}",
        "pool closed",
        "nats opened reitti-y",
        "nats closed",
    ]
