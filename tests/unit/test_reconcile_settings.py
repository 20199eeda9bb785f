"""The settings and the consumer-side wiring of self-healing (docs/adr/0015): the reconcile
interval and JetStream's sync policy are settings with clear errors; an early event makes
its consumer ask the stream's owner for a repair, not too soon and not too often, and
wait long enough for the answer to matter."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from contracts.envelope import CloudEventEnvelope
from runtime.config import ConfigError, Settings
from runtime.consumer import EARLY_DELIVERIES, early_delay
from runtime.embedded import EmbeddedNats, nats_server_binary
from runtime.flat_settings import read_section
from runtime.operator_config import OperatorSection
from runtime.reconcile import ASK_AFTER_DELIVERIES, RepairRequests, event_id_of, request_subject
from runtime.relay import restored_msg_id
from tests.support.factories import client_referred

URLS = {"REITTI_NATS_URL": "nats://n:4222", "REITTI_DATABASE_URL": "postgresql://p/reitti"}


def test_the_reconcile_interval_is_a_setting_with_a_default_and_an_off_switch() -> None:
    assert Settings.from_env(URLS).reconcile_seconds == 60.0
    assert Settings.from_env({**URLS, "REITTI_RECONCILE_SECONDS": "5"}).reconcile_seconds == 5.0
    assert Settings.from_env({**URLS, "REITTI_RECONCILE_SECONDS": "0"}).reconcile_seconds == 0.0
    with pytest.raises(ConfigError, match="REITTI_RECONCILE_SECONDS must be a number"):
        Settings.from_env({**URLS, "REITTI_RECONCILE_SECONDS": "often"})
    with pytest.raises(ConfigError, match="REITTI_RECONCILE_SECONDS"):
        Settings.from_env({**URLS, "REITTI_RECONCILE_SECONDS": "-1"})


def test_the_sync_interval_is_natss_default_unless_set_and_bad_values_are_refused() -> None:
    def interval(env: dict[str, str]) -> str:
        return read_section(OperatorSection, env).nats_sync_interval

    assert interval({}) == "2m"
    assert interval({"REITTI_NATS_SYNC_INTERVAL": "always"}) == "always"
    assert interval({"REITTI_NATS_SYNC_INTERVAL": " 30s "}) == "30s"
    for bad in ("never", "2 minutes", "0s", "1d"):
        with pytest.raises(ConfigError, match="REITTI_NATS_SYNC_INTERVAL"):
            interval({"REITTI_NATS_SYNC_INTERVAL": bad})


@pytest.mark.parametrize("interval", ["2m", "always", "500ms"])
def test_the_embedded_config_carries_the_sync_interval_and_nats_server_accepts_it(
    tmp_path: Path, interval: str
) -> None:
    broker = EmbeddedNats(tmp_path / "nats", 14999, sync_interval=interval)
    text = broker.config_text()
    assert f'sync_interval: "{interval}"' in text
    conf = tmp_path / "nats.conf"
    conf.write_text(text)
    result = subprocess.run(
        [nats_server_binary(), "-t", "-c", str(conf)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr or result.stdout


def test_an_early_event_waits_about_twenty_minutes_before_it_could_be_dead_lettered() -> None:
    assert early_delay(1) == early_delay(25) == 0.2
    assert early_delay(26) > 0.2 and early_delay(EARLY_DELIVERIES) == 5.0
    patience = sum(early_delay(n) for n in range(1, EARLY_DELIVERIES))
    assert 15 * 60 < patience < 30 * 60


def test_a_restored_message_id_still_names_its_event() -> None:
    assert event_id_of(restored_msg_id("6f1c", 42)) == "6f1c"
    assert event_id_of("6f1c") == "6f1c"


class FakeNats:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []

    async def request(self, subject: str, data: bytes, **options: float) -> Any:
        self.requests.append((subject, json.loads(data)))

        class Reply:
            data = json.dumps({"missing": [1], "queued": 1}).encode()

        return Reply()


class FakePool:
    async def fetchval(self, sql: str, *args: object) -> int:
        return 3  # the consumer has applied version 3 of the stream


async def test_an_early_event_asks_the_subjects_service_once_in_a_while_for_its_stream() -> None:
    nats = FakeNats()
    settings = Settings(nats_url="nats://x", database_url="postgresql://x", namespace="ns")
    ask = RepairRequests(nats, FakePool(), settings, consumer="reporting", schema="reporting")
    event = client_referred("client-1", 5)
    envelope = CloudEventEnvelope.wrap(event, source="/reitti/intake")
    subject = "ns.events.intake.centre.mikkeli.ClientReferred"

    assert not ask(subject, envelope, ASK_AFTER_DELIVERIES - 1)  # an overtaken redelivery, likely
    assert ask(subject, envelope, ASK_AFTER_DELIVERIES)
    assert not ask(subject, envelope, ASK_AFTER_DELIVERIES + 1)  # asked just now
    other = CloudEventEnvelope.wrap(client_referred("client-2", 2), source="/reitti/intake")
    assert ask(subject, other, ASK_AFTER_DELIVERIES)
    assert not ask("not.an.event.subject", other, ASK_AFTER_DELIVERIES + 10)
    for _ in range(500):
        if len(nats.requests) == 2:
            break
        await asyncio.sleep(0.01)
    await asyncio.wait_for(ask.close(), timeout=5)
    assert nats.requests[0] == (
        request_subject("ns", "intake"),
        {"stream_id": "client-1", "after_version": 3, "before_version": 5},
    )
    assert ask.stats.requested == 2
