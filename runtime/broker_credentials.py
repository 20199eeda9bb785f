"""The embedded broker's credentials (``<data-dir>/nats/credentials.json``), and what a
partner organisation needs to read its feed from them (``reitti feed-credentials``)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from runtime.broker_access import (
    INTERNAL_USER,
    BrokerAccessError,
    PartnerFeed,
    feeds_stream_name,
    find_feed,
)
from runtime.config import DEFAULT_NAMESPACE
from runtime.nats_accounts import new_password


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by the owner only (0600), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@dataclass(frozen=True)
class BrokerCredentials:
    """``<data-dir>/nats/credentials.json``: the embedded server's users and where it listens."""

    passwords: dict[str, str]
    namespace: str = DEFAULT_NAMESPACE
    host: str = "127.0.0.1"
    port: int | None = None
    #: the partner feeds the server was last configured with (their tokens)
    feeds: tuple[str, ...] = ()

    @classmethod
    def read(cls, path: Path) -> BrokerCredentials:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BrokerAccessError(
                f"{path} does not exist: has `reitti up` run with this data directory?"
            ) from None
        except (OSError, ValueError) as exc:
            raise BrokerAccessError(f"{path} is unreadable: {exc}") from None
        return cls(
            passwords={str(k): str(v) for k, v in raw.get("passwords", {}).items()},
            namespace=str(raw.get("namespace", DEFAULT_NAMESPACE)),
            host=str(raw.get("host", "127.0.0.1")),
            port=int(raw["port"]) if raw.get("port") is not None else None,
            feeds=tuple(str(token) for token in raw.get("feeds", ())),
        )

    @classmethod
    def load_or_create(cls, path: Path, feeds: Iterable[PartnerFeed]) -> BrokerCredentials:
        """The stored passwords, plus new random ones for users not seen before."""
        existing = cls.read(path) if path.exists() else cls(passwords={})
        wanted = [INTERNAL_USER, *(feed.user for feed in feeds)]
        missing = [user for user in wanted if user not in existing.passwords]
        if not missing:
            return existing
        passwords = dict(existing.passwords)
        passwords.update({user: new_password() for user in missing})
        created = dataclasses.replace(existing, passwords=passwords)
        created.write(path)
        return created

    def write(self, path: Path) -> None:
        body = {
            "namespace": self.namespace,
            "host": self.host,
            "port": self.port,
            "feeds": list(self.feeds),
            "passwords": self.passwords,
        }
        write_private(path, json.dumps(body, indent=2, sort_keys=True) + "\n")

    def url(self, user: str) -> str:
        if self.port is None:
            raise BrokerAccessError("the embedded NATS server has not been started yet")
        try:
            password = self.passwords[user]
        except KeyError:
            raise BrokerAccessError(f"no NATS user {user!r} here") from None
        return f"nats://{user}:{password}@{self.host}:{self.port}"


@dataclass(frozen=True)
class FeedAccess:
    """Everything a partner organisation needs to read its feed."""

    organisation: str
    user: str
    password: str
    #: the server(s), without credentials
    servers: str
    stream: str
    consumer: str
    filter_subject: str

    @property
    def url(self) -> str:
        """``servers`` with this user's credentials in each URL."""
        return ",".join(_with_credentials(url, self.user, self.password) for url in self.servers.split(","))

    def __repr__(self) -> str:
        return (
            f"FeedAccess(organisation={self.organisation!r}, user={self.user!r}, password='***', "
            f"servers={self.servers!r}, stream={self.stream!r}, consumer={self.consumer!r}, "
            f"filter_subject={self.filter_subject!r})"
        )


def _with_credentials(url: str, user: str, password: str) -> str:
    parts = urlsplit(url.strip())
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}"))


def feed_access(
    credentials: BrokerCredentials, organisation: str, feeds: Sequence[PartnerFeed]
) -> FeedAccess:
    feed = find_feed(feeds, organisation)
    url = credentials.url(feed.user)
    return FeedAccess(
        organisation=feed.organisation,
        user=feed.user,
        password=credentials.passwords[feed.user],
        servers=redact_nats_url(url, keep_user=False),
        stream=feeds_stream_name(credentials.namespace),
        consumer=feed.consumer,
        filter_subject=feed.filter_subject(credentials.namespace),
    )


def read_feed_access(nats_dir: Path, organisation: str) -> FeedAccess:
    """A partner's access to the embedded broker whose data lives in ``nats_dir``
    (``<data-dir>/nats``); for ``reitti feed-credentials ORG``."""
    credentials = BrokerCredentials.read(nats_dir / "credentials.json")
    return feed_access(credentials, organisation, [PartnerFeed(token) for token in credentials.feeds])


def redact_nats_url(url: str, *, keep_user: bool = True) -> str:
    """``REITTI_NATS_URL`` fit to print: passwords (and tokens) replaced by ``***``.

    Handles comma-separated server lists. With ``keep_user=False`` the user goes too."""
    out = []
    for server in url.split(","):
        server = server.strip()
        if not server:
            continue
        parts = urlsplit(server if "://" in server else f"nats://{server}")
        userinfo, at, host = parts.netloc.rpartition("@")
        if not at:
            out.append(server)
            continue
        user, colon, _ = userinfo.partition(":")
        if not keep_user:
            netloc = host
        elif colon:
            netloc = f"{user}:***@{host}"
        else:  # a bare token in the user position is a secret too
            netloc = f"***@{host}"
        out.append(urlunsplit(parts._replace(netloc=netloc)))
    return ",".join(out)
