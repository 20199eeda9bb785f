"""The runtime's section of the one settings model (docs/adr/0040, 0042), read once in a
composition root: :class:`RuntimeSection` (connections, streams, limits, municipalities,
tokens), and :class:`Settings`, the same with both URLs, which the services and the
commands that connect take. ``services.settings.ReittiConfig`` holds it beside the
services' sections and the operator's (:mod:`runtime.operator_config`); it is defined
here, under the services, because runtime code takes it and may not import the services
(tests/unit/test_layers.py)."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated

import platformdirs
from pydantic import Field, ValidationInfo, field_validator, model_validator

from contracts.subjects import organisation_slug
from runtime.flat_settings import FROM_FILE, Section, blank_is_unset, read_section, validated, variable
from runtime.flat_settings import ConfigError as ConfigError  # every setting's error, defined with the reader

DEFAULT_NAMESPACE = "reitti"
#: Ports of the embedded servers: never NATS's 4222 or Postgres's 5432, which a
#: developer's machine may already use.
DEFAULT_EMBEDDED_NATS_PORT = 14222
DEFAULT_EMBEDDED_POSTGRES_PORT = 15432
SERVICE_PORTS = {"intake": 8001, "guidance": 8002, "reporting": 8003}
#: the staff desk's default port (`reitti up --desk-port`; services/desk/, docs/adr/0045)
DESK_PORT = 8004
#: The centre's seven municipalities (the seed); ``REITTI_MUNICIPALITIES`` replaces them.
#: Each municipality's social services gets a feed on the broker (docs/adr/0009).
DEFAULT_MUNICIPALITIES = (
    "Mikkeli",
    "Hirvensalmi",
    "Kangasniemi",
    "Mäntyharju",
    "Pertunmaa",
    "Puumala",
    "Ristiina",
)
#: seconds between each write service's check of JetStream against its event store
#: (``REITTI_RECONCILE_SECONDS``; 0 turns the periodic check off, docs/adr/0015)
DEFAULT_RECONCILE_SECONDS = 60.0
_NAMESPACE = re.compile(r"[a-z][a-z0-9_]{0,40}")
#: a missing URL, for a command that needs both
URLS_MISSING = (
    "REITTI_NATS_URL and REITTI_DATABASE_URL must both be set "
    "(or start `reitti up`: the operator commands then find its servers through "
    "<data-dir>/connection.env; set REITTI_DATA_DIR if it is not the default)"
)


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("reitti", appauthor=False))


def checked_municipalities(names: Iterable[str]) -> tuple[str, ...]:
    """``names`` as the centre's municipalities: NFC, trimmed, none empty (dropped), each
    with a slug of its own; else :class:`ConfigError`. The one parser of the setting: no
    two may have the same slug (``social_services:<slug>`` names their social services,
    ADR 0027)."""
    found: dict[str, str] = {}
    for raw in names:
        name = unicodedata.normalize("NFC", raw).strip()
        if not name:
            continue
        try:
            slug = organisation_slug(name)
        except ValueError:
            raise ConfigError(f"REITTI_MUNICIPALITIES: {name!r} is not a municipality's name") from None
        if slug in found:
            raise ConfigError(f"REITTI_MUNICIPALITIES: {found[slug]!r} and {name!r} are the same name")
        found[slug] = name
    if not found:
        raise ConfigError("REITTI_MUNICIPALITIES names no municipality")
    return tuple(found.values())


def _default(info: ValidationInfo, model: type[Section]) -> object:
    assert info.field_name is not None
    return model.model_fields[info.field_name].get_default(call_default_factory=True)


class RuntimeSection(Section):
    """What every service and command that connects shares: the servers, the streams and
    their limits, the centre's municipalities and the token issuer. The URLs may be unset
    here (``reitti up`` starts its own servers); :meth:`settings` needs both."""

    #: may carry a password (nats://internal:...@host): kept out of repr
    nats_url: str | None = Field(
        None,
        repr=False,
        description="the NATS server, or the servers of a cluster separated by commas; with "
        "`REITTI_DATABASE_URL`, `reitti up` uses these instead of starting its own (one without "
        "the other is an error)",
        json_schema_extra={"shown_default": "unset: `reitti up` starts an embedded server"},
    )
    #: carries the embedded server's password (docs/adr/0022): kept out of repr
    database_url: str | None = Field(
        None,
        repr=False,
        description="the PostgreSQL database",
        json_schema_extra={"shown_default": "unset: `reitti up` starts an embedded server"},
    )
    #: prefix of every subject and stream name; tests use a fresh one each
    namespace: str = Field(DEFAULT_NAMESPACE, description="prefix of every subject and stream")
    #: redeliveries before a message goes to the dead-letter stream
    max_deliver: int = Field(5, description="deliveries before a failing event is dead-lettered")
    #: seconds JetStream waits for an ack before redelivering: short, so a crashed
    #: consumer's deliveries come back soon; a live one sends progress heartbeats
    #: (runtime/heartbeat.py, docs/adr/0016)
    ack_wait: float = Field(
        5.0,
        description="seconds before an unacknowledged delivery is redelivered; a live consumer "
        "sends progress heartbeats, so this is how soon a crashed consumer's deliveries come back",
    )
    #: seconds a relay waits for a batch's publish acks; its database session's timeouts,
    #: and so how soon a frozen relay's turn passes to another, follow from it (ADR 0016)
    relay_ack_timeout: float = Field(
        5.0,
        description="seconds a relay waits for a batch's publish acks; a relay that freezes "
        "holding its turn loses it after twice this",
    )
    #: seconds an event may wait in an outbox, or for a consumer to apply it, before
    #: ``GET /healthz`` reports the service degraded
    lag_limit: float = Field(
        60.0,
        description="seconds an event may wait in an outbox or for a consumer before "
        "`GET /healthz` reports degraded",
    )
    #: JetStream de-duplication window (seconds) for Nats-Msg-Id
    duplicate_window: float = Field(
        24 * 3600.0, description="seconds JetStream remembers a message id to drop a duplicate publish"
    )
    #: JetStream replicas of the streams: 1 embedded, 3 in the compose cluster
    stream_replicas: int = Field(1, description="JetStream replicas of the streams")
    #: the centre's municipalities: each one's social services has a feed on the broker
    municipalities: tuple[str, ...] = Field(
        DEFAULT_MUNICIPALITIES,
        description="the centre's municipalities, comma-separated (each gets a feed on the "
        "broker). Every API accepts a municipality in any case or as its slug (`mikkeli`, "
        "`mantyharju`) and stores it as spelled here; `social_services:<slug>` names its social "
        "services. Another name gets 422 listing these (`docs/adr/0027`)",
        json_schema_extra={"shown_default": "the seven of the seed: " + ", ".join(DEFAULT_MUNICIPALITIES)},
    )
    #: PEM public key(s) of the token issuer; services verify tokens with it. The variable
    #: names the PEM file; the field holds its text.
    jwt_public_key: Annotated[str | None, FROM_FILE] = Field(
        None,
        repr=False,
        description="the token issuer's public key (a PEM file); services verify tokens with it",
        json_schema_extra={"shown_default": "`reitti up`'s development key"},
    )
    jwt_issuer: str = Field(
        "reitti-embedded",
        description="the issuer (`iss`) of tokens: the services accept no other, `reitti token` signs as it",
    )
    jwt_audience: str = Field("reitti", description="the audience (`aud`) the services accept in tokens")
    #: the largest body of a command, in bytes (413 above it, before parsing)
    max_body_bytes: int = Field(
        64 * 1024,
        description="the largest request body of a command, in bytes (413 above, before it is parsed)",
        json_schema_extra={"shown_default": "`65536` (64 KiB)"},
    )
    #: the largest body of an import of the info list, in bytes
    max_import_bytes: int = Field(
        32 * 1024 * 1024,
        description="the largest request body of an info-list import, in bytes (413 above)",
        json_schema_extra={"shown_default": "`33554432` (32 MiB)"},
    )
    #: the most rows of one import of the info list (413 above it, before any is written)
    max_import_rows: int = Field(
        100_000,
        description="the most rows of one info-list import; a longer list gets 413 and nothing "
        "of it is written (send it in parts)",
    )
    #: seconds between the periodic reconcile checks of a write service (0: off)
    reconcile_seconds: float = Field(
        DEFAULT_RECONCILE_SECONDS,
        description="seconds between each write service's check that JetStream holds every "
        "event its store holds; what is missing is published again (0: off; consumers' "
        "requests are still answered)",
    )

    @field_validator("nats_url", "database_url", mode="before")
    @classmethod
    def _url(cls, raw: object) -> object:
        return blank_is_unset(raw)

    @field_validator("max_deliver", "stream_replicas", mode="before")
    @classmethod
    def _count(cls, raw: object, info: ValidationInfo) -> object:
        if not isinstance(raw, str):
            return raw
        if not raw.strip():
            return _default(info, cls)
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{variable(str(info.field_name))} must be a whole number") from None

    @field_validator("max_body_bytes", "max_import_bytes", "max_import_rows", mode="before")
    @classmethod
    def _whole(cls, raw: object, info: ValidationInfo) -> object:
        if not isinstance(raw, str):
            return raw
        if raw == "":
            return _default(info, cls)
        if not raw.isdigit():
            unit = "rows" if info.field_name == "max_import_rows" else "bytes"
            raise ConfigError(f"{variable(str(info.field_name))} must be a whole number of {unit}")
        return int(raw)

    @field_validator(
        "ack_wait", "relay_ack_timeout", "lag_limit", "duplicate_window", "reconcile_seconds", mode="before"
    )
    @classmethod
    def _seconds(cls, raw: object, info: ValidationInfo) -> object:
        if not isinstance(raw, str):
            return raw
        if not raw:
            return _default(info, cls)
        try:
            return float(raw)
        except ValueError:
            name = variable(str(info.field_name))
            raise ConfigError(f"{name} must be a number of seconds, not {raw!r}") from None

    @field_validator("municipalities", mode="before")
    @classmethod
    def _municipalities(cls, raw: object) -> object:
        # one spelling of each municipality, whoever built these settings (ADR 0027)
        if isinstance(raw, str):
            return checked_municipalities(raw.split(",")) if raw else DEFAULT_MUNICIPALITIES
        if isinstance(raw, Iterable):
            return checked_municipalities(raw)
        return raw

    @model_validator(mode="after")
    def _check(self) -> RuntimeSection:
        if not _NAMESPACE.fullmatch(self.namespace):
            raise ConfigError(f"namespace {self.namespace!r}: use lower-case letters, digits and _")
        if self.stream_replicas < 1:
            raise ConfigError("REITTI_STREAM_REPLICAS must be at least 1")
        if self.max_deliver < 1:
            raise ConfigError("REITTI_MAX_DELIVER must be at least 1")
        if self.max_body_bytes < 1024 or self.max_import_bytes < self.max_body_bytes:
            raise ConfigError(
                "REITTI_MAX_BODY_BYTES must be at least 1024, and REITTI_MAX_IMPORT_BYTES at least that"
            )
        if self.max_import_rows < 1:
            raise ConfigError("REITTI_MAX_IMPORT_ROWS must be at least 1")
        if not self.reconcile_seconds >= 0:
            raise ConfigError("REITTI_RECONCILE_SECONDS must be 0 (off) or a number of seconds")
        for name in ("ack_wait", "relay_ack_timeout", "lag_limit", "duplicate_window"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{variable(name)} must be a positive number of seconds")
        return self

    @property
    def events_stream(self) -> str:
        return f"{self.namespace.upper()}_EVENTS"

    @property
    def dead_letter_stream(self) -> str:
        return f"{self.namespace.upper()}_DLQ"

    @property
    def feeds_stream(self) -> str:
        """The partner organisations' feeds (docs/adr/0009)."""
        return f"{self.namespace.upper()}_FEEDS"

    def external_urls(self) -> tuple[str, str] | None:
        """Both external URLs if both are set, None if neither; an error if only one is."""
        if self.nats_url and self.database_url:
            return self.nats_url, self.database_url
        if self.nats_url or self.database_url:
            missing = "REITTI_DATABASE_URL" if self.nats_url else "REITTI_NATS_URL"
            raise ConfigError(f"{missing} is not set: set both external URLs, or neither")
        return None

    def settings(self) -> Settings:
        """These settings with both URLs, as the services and commands that connect take
        them; an error saying how to give them if either is missing."""
        if not self.nats_url or not self.database_url:
            raise ConfigError(URLS_MISSING)
        return validated(Settings, dict(self))


class Settings(RuntimeSection):
    """The runtime section with both URLs: what the services and the commands that
    connect take. Frozen; :meth:`with_` makes a changed copy, validated again."""

    nats_url: str = Field(repr=False)
    database_url: str = Field(repr=False)

    @property
    def nats_servers(self) -> list[str]:
        """``REITTI_NATS_URL`` may list several servers of a cluster, comma-separated."""
        return [url.strip() for url in self.nats_url.split(",") if url.strip()]

    def with_(self, **changes: object) -> Settings:
        return validated(type(self), {**dict(self), **changes})

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The runtime section of the settings model, read from ``env`` with the model's
        reader (default: the process environment), with both URLs."""
        return read_section(RuntimeSection, env).settings()


#: what `reitti up` records for the operator commands in ``<data-dir>/connection.env``
CONNECTION_VARIABLES = (
    "REITTI_NATS_URL",
    "REITTI_DATABASE_URL",
    "REITTI_NAMESPACE",
    "REITTI_JWT_PUBLIC_KEY",
    "REITTI_KEY_ENCRYPTION_KEY_DIR",
)
CONNECTION_FILE = "connection.env"


def write_connection(data_dir: Path, values: dict[str, str]) -> Path:
    path = data_dir / CONNECTION_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write("# Written by `reitti up`: how the operator commands reach its embedded servers.\n")
        out.writelines(f"{key}={value}\n" for key, value in values.items())
    return path


def load_connection(data_dir: Path, env: dict[str, str] | None = None) -> bool:
    """Fill the environment from the connection `reitti up` recorded in ``data_dir`` when no
    external URLs are set; True if it did. The model reads the environment it fills."""
    target = os.environ if env is None else env
    if target.get("REITTI_NATS_URL") or target.get("REITTI_DATABASE_URL"):
        return False
    path = data_dir / CONNECTION_FILE
    if not path.is_file():
        return False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            target.setdefault(key, value)
    return True
