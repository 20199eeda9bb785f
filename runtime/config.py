"""Settings, read once in a composition root from the environment and the command line."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import platformdirs

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
    #: seconds JetStream waits for an ack before redelivering
    ack_wait: float = 30.0
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

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,40}", self.namespace):
            raise ConfigError(f"namespace {self.namespace!r}: use lower-case letters, digits and _")
        if self.stream_replicas < 1:
            raise ConfigError("REITTI_STREAM_REPLICAS must be at least 1")
        if self.max_deliver < 1:
            raise ConfigError("max_deliver must be at least 1")

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
            ack_wait=float(env.get("REITTI_ACK_WAIT", "30")),
            stream_replicas=int(env.get("REITTI_STREAM_REPLICAS", "1")),
            municipalities=municipalities_from_env(env),
            jwt_public_key=_read_key(env.get("REITTI_JWT_PUBLIC_KEY")),
            jwt_issuer=env.get("REITTI_JWT_ISSUER", "reitti-embedded"),
            jwt_audience=env.get("REITTI_JWT_AUDIENCE", "reitti"),
        )


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


def _read_key(path: str | None) -> str | None:
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"REITTI_JWT_PUBLIC_KEY {path}: {exc.strerror}") from None


def municipalities_from_env(env: dict[str, str] | None = None) -> tuple[str, ...]:
    """``REITTI_MUNICIPALITIES`` (comma-separated), else the seven of the seed."""
    raw = (os.environ if env is None else env).get("REITTI_MUNICIPALITIES")
    if not raw:
        return DEFAULT_MUNICIPALITIES
    return tuple(m.strip() for m in raw.split(",") if m.strip())


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
