"""Configuration: clear errors for half-given settings."""

from __future__ import annotations

import socket

import pytest

from runtime.config import ConfigError, RuntimeSection, Settings
from runtime.embedded import PortInUse, ensure_port_free
from runtime.flat_settings import read_section


def external_urls(env: dict[str, str]) -> tuple[str, str] | None:
    return read_section(RuntimeSection, env).external_urls()


def test_no_external_urls_means_embedded_servers() -> None:
    assert external_urls({}) is None


def test_both_external_urls_are_used_together() -> None:
    env = {"REITTI_NATS_URL": "nats://n:4222", "REITTI_DATABASE_URL": "postgresql://p/reitti"}
    assert external_urls(env) == ("nats://n:4222", "postgresql://p/reitti")


def test_only_one_external_url_is_an_error_naming_the_missing_one() -> None:
    with pytest.raises(ConfigError, match="REITTI_DATABASE_URL"):
        external_urls({"REITTI_NATS_URL": "nats://n:4222"})
    with pytest.raises(ConfigError, match="REITTI_NATS_URL"):
        external_urls({"REITTI_DATABASE_URL": "postgresql://p/reitti"})


def test_settings_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "REITTI_NATS_URL": "nats://a:4222, nats://b:4222",
            "REITTI_DATABASE_URL": "postgresql://p/reitti",
            "REITTI_STREAM_REPLICAS": "3",
        }
    )
    assert settings.nats_servers == ["nats://a:4222", "nats://b:4222"]
    assert settings.stream_replicas == 3
    assert settings.events_stream == "REITTI_EVENTS"
    assert settings.dead_letter_stream == "REITTI_DLQ"


def test_bad_settings_are_refused_with_a_reason() -> None:
    with pytest.raises(ConfigError, match="namespace"):
        Settings(nats_url="nats://x", database_url="postgresql://x", namespace="Bad.Name")
    with pytest.raises(ConfigError, match="REITTI_STREAM_REPLICAS"):
        Settings(nats_url="nats://x", database_url="postgresql://x", stream_replicas=0)
    with pytest.raises(ConfigError, match="must both be set"):
        Settings.from_env({})


def test_a_taken_port_is_reported_by_number_with_the_option_to_change_it() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortInUse) as raised:
            ensure_port_free(port, "the embedded NATS server", "--nats-port")
    assert str(port) in str(raised.value)
    assert "--nats-port" in str(raised.value)


def test_the_row_bound_of_an_import_comes_from_the_environment() -> None:
    urls = {"REITTI_NATS_URL": "nats://a:4222", "REITTI_DATABASE_URL": "postgresql://p/reitti"}
    assert Settings.from_env(urls).max_import_rows == 100_000
    assert Settings.from_env({**urls, "REITTI_MAX_IMPORT_ROWS": "500"}).max_import_rows == 500
    with pytest.raises(ConfigError, match="REITTI_MAX_IMPORT_ROWS must be a whole number of rows"):
        Settings.from_env({**urls, "REITTI_MAX_IMPORT_ROWS": "many"})
    with pytest.raises(ConfigError, match="REITTI_MAX_IMPORT_ROWS must be at least 1"):
        Settings.from_env({**urls, "REITTI_MAX_IMPORT_ROWS": "0"})
