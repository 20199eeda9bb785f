"""Settings, read once in a composition root from the environment and the command line."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import platformdirs

from contracts.subjects import organisation_slug

DEFAULT_NAMESPACE = "reitti"
#: Ports of the embedded servers: never NATS's 4222 or Postgres's 5432, which a
#: developer's machine may already use.
DEFAULT_EMBEDDED_NATS_PORT = 14222
DEFAULT_EMBEDDED_POSTGRES_PORT = 15432
SERVICE_PORTS = {"intake": 8001, "guidance": 8002, "reporting": 8003}
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
#: how often the embedded JetStream fsyncs (``REITTI_NATS_SYNC_INTERVAL``): NATS's own
#: default, a duration, or ``always`` (every write; see docs/adr/0015 for the choice)
DEFAULT_NATS_SYNC_INTERVAL = "2m"
_SYNC_INTERVAL = re.compile(r"always|[1-9][0-9]*(ms|s|m|h)")


class ConfigError(ValueError):
    pass


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("reitti", appauthor=False))


@dataclass(frozen=True)
class Settings:
    #: may carry a password (nats://internal:...@host): kept out of repr
    nats_url: str = field(repr=False)
    #: carries the embedded server's password (docs/adr/0022): kept out of repr
    database_url: str = field(repr=False)
    #: prefix of every subject and stream name; tests use a fresh one each
    namespace: str = DEFAULT_NAMESPACE
    #: redeliveries before a message goes to the dead-letter stream
    max_deliver: int = 5
    #: seconds JetStream waits for an ack before redelivering: short, so a crashed
    #: consumer's deliveries come back soon; a live one sends progress heartbeats
    #: (runtime/heartbeat.py, docs/adr/0016)
    ack_wait: float = 5.0
    #: seconds a relay waits for a batch's publish acks; its database session's timeouts,
    #: and so how soon a frozen relay's turn passes to another, follow from it (ADR 0016)
    relay_ack_timeout: float = 5.0
    #: seconds an event may wait in an outbox, or for a consumer to apply it, before
    #: ``GET /healthz`` reports the service degraded
    lag_limit: float = 60.0
    #: JetStream de-duplication window (seconds) for Nats-Msg-Id
    duplicate_window: float = 24 * 3600.0
    #: JetStream replicas of the streams: 1 embedded, 3 in the compose cluster
    stream_replicas: int = 1
    service_ports: dict[str, int] = field(default_factory=lambda: dict(SERVICE_PORTS))
    #: the centre's municipalities: each one's social services has a feed on the broker
    municipalities: tuple[str, ...] = DEFAULT_MUNICIPALITIES
    #: PEM public key(s) of the token issuer; services verify tokens with it
    jwt_public_key: str | None = field(default=None, repr=False)
    jwt_issuer: str = "reitti-embedded"
    jwt_audience: str = "reitti"
    #: the largest body of a command, in bytes (413 above it, before parsing)
    max_body_bytes: int = 64 * 1024
    #: the largest body of an import of the info list, in bytes
    max_import_bytes: int = 32 * 1024 * 1024
    #: the most rows of one import of the info list (413 above it, before any is written)
    max_import_rows: int = 100_000
    #: seconds between the periodic reconcile checks of a write service (0: off)
    reconcile_seconds: float = DEFAULT_RECONCILE_SECONDS

    def __post_init__(self) -> None:
        # one spelling of each municipality, whoever built these settings (ADR 0027)
        object.__setattr__(self, "municipalities", checked_municipalities(self.municipalities))
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,40}", self.namespace):
            raise ConfigError(f"namespace {self.namespace!r}: use lower-case letters, digits and _")
        if self.stream_replicas < 1:
            raise ConfigError("REITTI_STREAM_REPLICAS must be at least 1")
        if self.max_deliver < 1:
            raise ConfigError("max_deliver must be at least 1")
        if self.max_body_bytes < 1024 or self.max_import_bytes < self.max_body_bytes:
            raise ConfigError(
                "REITTI_MAX_BODY_BYTES must be at least 1024, and REITTI_MAX_IMPORT_BYTES at least that"
            )
        if self.max_import_rows < 1:
            raise ConfigError("REITTI_MAX_IMPORT_ROWS must be at least 1")
        if not self.reconcile_seconds >= 0:
            raise ConfigError("REITTI_RECONCILE_SECONDS must be 0 (off) or a number of seconds")
        for name, value in (
            ("REITTI_ACK_WAIT", self.ack_wait),
            ("REITTI_RELAY_ACK_TIMEOUT", self.relay_ack_timeout),
            ("REITTI_LAG_LIMIT", self.lag_limit),
        ):
            if not value > 0:
                raise ConfigError(f"{name} must be a positive number of seconds")

    @property
    def nats_servers(self) -> list[str]:
        """``REITTI_NATS_URL`` may list several servers of a cluster, comma-separated."""
        return [url.strip() for url in self.nats_url.split(",") if url.strip()]

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

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        nats_url = env.get("REITTI_NATS_URL")
        database_url = env.get("REITTI_DATABASE_URL")
        if not nats_url or not database_url:
            raise ConfigError(
                "REITTI_NATS_URL and REITTI_DATABASE_URL must both be set "
                "(or start `reitti up`: the operator commands then find its servers through "
                "<data-dir>/connection.env; set REITTI_DATA_DIR if it is not the default)"
            )
        return cls(
            nats_url=nats_url,
            database_url=database_url,
            namespace=env.get("REITTI_NAMESPACE", DEFAULT_NAMESPACE),
            max_deliver=int(env.get("REITTI_MAX_DELIVER", "5")),
            ack_wait=_seconds(env, "REITTI_ACK_WAIT", 5.0),
            relay_ack_timeout=_seconds(env, "REITTI_RELAY_ACK_TIMEOUT", 5.0),
            lag_limit=_seconds(env, "REITTI_LAG_LIMIT", 60.0),
            stream_replicas=int(env.get("REITTI_STREAM_REPLICAS", "1")),
            municipalities=municipalities_from_env(env),
            jwt_public_key=_read_key(env.get("REITTI_JWT_PUBLIC_KEY")),
            jwt_issuer=env.get("REITTI_JWT_ISSUER", "reitti-embedded"),
            jwt_audience=env.get("REITTI_JWT_AUDIENCE", "reitti"),
            max_body_bytes=_whole(env, "REITTI_MAX_BODY_BYTES", 64 * 1024),
            max_import_bytes=_whole(env, "REITTI_MAX_IMPORT_BYTES", 32 * 1024 * 1024),
            max_import_rows=_whole(env, "REITTI_MAX_IMPORT_ROWS", 100_000, unit="rows"),
            reconcile_seconds=_seconds(env, "REITTI_RECONCILE_SECONDS", DEFAULT_RECONCILE_SECONDS),
        )


def _whole(env: dict[str, str], name: str, default: int, *, unit: str = "bytes") -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise ConfigError(f"{name} must be a whole number of {unit}")
    return int(raw)


def external_urls(env: dict[str, str] | None = None) -> tuple[str, str] | None:
    """Both external URLs if both are set, None if neither; an error if only one is."""
    env = dict(os.environ if env is None else env)
    nats_url, database_url = env.get("REITTI_NATS_URL"), env.get("REITTI_DATABASE_URL")
    if nats_url and database_url:
        return nats_url, database_url
    if nats_url or database_url:
        missing = "REITTI_DATABASE_URL" if nats_url else "REITTI_NATS_URL"
        raise ConfigError(f"{missing} is not set: set both external URLs, or neither")
    return None


def _seconds(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, not {raw!r}") from None


def nats_sync_interval_from_env(env: dict[str, str] | None = None) -> str:
    """``REITTI_NATS_SYNC_INTERVAL``: JetStream's ``sync_interval`` for the embedded server
    (``always``, or a duration such as ``2m``, ``30s``); NATS's default when unset."""
    raw = (os.environ if env is None else env).get("REITTI_NATS_SYNC_INTERVAL", "").strip()
    if not raw:
        return DEFAULT_NATS_SYNC_INTERVAL
    if not _SYNC_INTERVAL.fullmatch(raw):
        raise ConfigError(
            f"REITTI_NATS_SYNC_INTERVAL {raw!r}: use always, or a duration such as 2m, 30s or 500ms"
        )
    return raw


def _read_key(path: str | None) -> str | None:
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"REITTI_JWT_PUBLIC_KEY {path}: {exc.strerror}") from None


def municipalities_from_env(env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """``REITTI_MUNICIPALITIES`` (comma-separated), else the seven of the seed. The one
    parser of the setting: each name is NFC-normalised and trimmed, and no two may have
    the same slug (``social_services:<slug>`` names their social services, ADR 0027)."""
    raw = (os.environ if env is None else env).get("REITTI_MUNICIPALITIES")
    if not raw:
        return DEFAULT_MUNICIPALITIES
    return checked_municipalities(m for m in raw.split(","))


def checked_municipalities(names: Iterable[str]) -> tuple[str, ...]:
    """``names`` as the centre's municipalities: NFC, trimmed, none empty (dropped), each
    with a slug of its own; else :class:`ConfigError`."""
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
    external URLs are set; True if it did."""
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
