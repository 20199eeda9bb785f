"""Who reads what on the broker: Reitti's own NATS account and one account per partner feed.

Architecture decisions 6 and 7, ADR 0009. Reitti's services connect as the user
``internal`` in the account ``REITTI``, the only account with JetStream: the streams
``<NS>_EVENTS``, ``<NS>_DLQ`` and ``<NS>_FEEDS`` live there. Each partner organisation
(the TE-office, and each municipality's social services) has an account of its own,
``FEED_<ORG>``, holding its one user ``feed-<org>``. Reitti creates one durable pull
consumer per partner, ``feed-<org>`` on ``<NS>_FEEDS`` filtered to
``<ns>.feeds.<org>.>`` (:func:`runtime.streams.ensure_feed_consumers`), and ``REITTI``
exports exactly two services to that one partner account:

- ``$JS.API.CONSUMER.MSG.NEXT.<NS>_FEEDS.feed-<org>``: pull the next messages;
- ``$JS.ACK.<NS>_FEEDS.feed-<org>.>``: acknowledge them.

Nothing else of ``REITTI`` exists inside a partner's account, so another organisation's
feed, the events and the dead letters cannot be named from there at all. A partner
cannot create or change consumers either: its consumer's filter is Reitti's choice. The
partner's user also has publish and subscribe permissions limited to those two subjects
and its inboxes, so a mistake shows up as a permissions violation at once.

Why accounts rather than permissions in one account: in one account, any client that may
send a JetStream request chooses the reply subject, and the server publishes its answer
there unchecked. A partner pulling its own feed with the reply subject
``<ns>.events.intake...`` would write into Reitti's event stream. Across accounts the
reply is mapped back into the partner's own account.

:func:`render_accounts` renders the ``accounts { ... }`` block: with literal passwords for
the embedded server (:class:`runtime.embedded.EmbeddedNats`), or with ``$VARIABLE``
references for ``deploy/nats/accounts.conf``, whose values live in
``deploy/nats/passwords.inc``. ``reitti nats-config --help`` (reitti/cli/broker.py) writes both.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import secrets
import tempfile
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from contracts import subjects
from contracts.names import TE_OFFICE
from contracts.subjects import organisation_slug
from runtime.config import DEFAULT_MUNICIPALITIES, DEFAULT_NAMESPACE

#: The account of Reitti's own services; the only one with JetStream.
INTERNAL_ACCOUNT = "REITTI"
#: The user Reitti's services connect as (``REITTI_NATS_URL``).
INTERNAL_USER = "internal"
#: Organisation ids of a municipality's social services: ``social_services:<municipality>``.
SOCIAL_SERVICES = "social_services"
#: File of the NATS variables that hold the passwords in ``deploy/nats``.
PASSWORDS_INCLUDE = "passwords.inc"

#: a feed token: a slug of lower-case letters, digits and ``-`` (``te-office``, ``mantyharju``)
_TOKEN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
#: stricter than a subject token: the namespace also names the streams (``REITTI_FEEDS``)
_NAMESPACE = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
#: Characters a password may have: it goes into a quoted NATS string and into a URL.
_PASSWORD = re.compile(r"^[A-Za-z0-9_.~-]{8,200}$")


class BrokerAccessError(ValueError):
    pass


def _namespace(namespace: str) -> str:
    if not _NAMESPACE.match(namespace):
        raise BrokerAccessError(f"namespace {namespace!r}: use lower-case letters, digits and _")
    return namespace


def feed_token(organisation: str) -> str:
    """The subject token of a partner organisation's feed.

    ``'te-office'`` -> ``'te-office'``; ``'social_services:Mäntyharju'`` (or
    ``'social_services:mantyharju'``, or just ``'Mäntyharju'``) -> ``'mantyharju'``.
    """
    name = organisation.strip()
    prefix = SOCIAL_SERVICES + ":"
    if name.startswith(prefix):
        name = name[len(prefix) :]
    elif name == TE_OFFICE:
        return TE_OFFICE
    try:
        token = organisation_slug(name)
    except ValueError:
        raise BrokerAccessError(f"{organisation!r} names no partner organisation") from None
    if not _TOKEN.match(token):
        raise BrokerAccessError(f"{organisation!r} names no partner organisation")
    return token


def feeds_wildcard(namespace: str) -> str:
    """Every feed: the subjects of the ``<NS>_FEEDS`` stream (:func:`contracts.subjects.feeds_wildcard`)."""
    return subjects.feeds_wildcard(_namespace(namespace))


def feed_wildcard(namespace: str, organisation: str) -> str:
    """One organisation's feed: ``<ns>.feeds.<org>.>``."""
    return subjects.feed_wildcard(_namespace(namespace), feed_token(organisation))


def feed_subject(namespace: str, organisation: str, event_type: str, client_id: str | None = None) -> str:
    """Where an event for ``organisation`` is published on its feed
    (:func:`contracts.subjects.feed_subject`).

    ``feed_subject('reitti', 'social_services:Mikkeli', 'ClientReferred')`` ->
    ``'reitti.feeds.mikkeli.ClientReferred'``. Publishing here puts the event in front of
    that organisation; only consent-filtered events belong here (architecture decision 7).
    Reporting's copies name their client last (``...ClientReferred.client-<uuid>``), so an
    erasure finds and deletes them (services/reporting/feed_erasure.py).
    """
    token = feed_token(organisation)
    try:
        return subjects.feed_subject(_namespace(namespace), token, event_type, client_id)
    except BrokerAccessError:
        raise
    except ValueError as exc:
        raise BrokerAccessError(str(exc)) from None


def feeds_stream_name(namespace: str) -> str:
    return f"{_namespace(namespace).upper()}_FEEDS"


@dataclass(frozen=True)
class PartnerFeed:
    """One partner organisation's feed and its NATS identity."""

    #: subject token: ``te-office`` or a municipality slug such as ``mikkeli``
    token: str

    def __post_init__(self) -> None:
        if not _TOKEN.match(self.token):
            raise BrokerAccessError(f"{self.token!r} is not a feed token")

    @classmethod
    def of(cls, organisation: str) -> PartnerFeed:
        return cls(feed_token(organisation))

    @property
    def organisation(self) -> str:
        """The organisation id used elsewhere in Reitti (actors, consents)."""
        return TE_OFFICE if self.token == TE_OFFICE else f"{SOCIAL_SERVICES}:{self.token}"

    @property
    def user(self) -> str:
        return f"feed-{self.token}"

    @property
    def consumer(self) -> str:
        """The durable pull consumer on ``<NS>_FEEDS`` that Reitti keeps for this partner."""
        return self.user

    @property
    def account(self) -> str:
        return "FEED_" + self.token.upper().replace("-", "_")

    @property
    def password_variable(self) -> str:
        return f"REITTI_NATS_{self.account}_PASSWORD"

    def filter_subject(self, namespace: str) -> str:
        return subjects.feed_wildcard(_namespace(namespace), self.token)

    def next_subject(self, namespace: str) -> str:
        return f"$JS.API.CONSUMER.MSG.NEXT.{feeds_stream_name(namespace)}.{self.consumer}"

    def ack_subjects(self, namespace: str) -> str:
        return f"$JS.ACK.{feeds_stream_name(namespace)}.{self.consumer}.>"


INTERNAL_PASSWORD_VARIABLE = "REITTI_NATS_INTERNAL_PASSWORD"


def partner_feeds(municipalities: Iterable[str] = DEFAULT_MUNICIPALITIES) -> list[PartnerFeed]:
    """The TE-office and each municipality's social services, in that order."""
    feeds = [PartnerFeed(TE_OFFICE)]
    for municipality in municipalities:
        feed = PartnerFeed.of(f"{SOCIAL_SERVICES}:{municipality}")
        if feed.token == TE_OFFICE:
            raise BrokerAccessError(f"municipality {municipality!r} clashes with the TE-office's feed")
        if feed not in feeds:
            feeds.append(feed)
    return feeds


def find_feed(feeds: Sequence[PartnerFeed], organisation: str) -> PartnerFeed:
    wanted = feed_token(organisation)
    for feed in feeds:
        if feed.token == wanted:
            return feed
    known = ", ".join(feed.organisation for feed in feeds)
    raise BrokerAccessError(f"{organisation!r} has no feed here; the partners are: {known}")


# --- the NATS configuration ------------------------------------------------------------


def _quote(value: str) -> str:
    if any(ch in value for ch in '"\\\n\r'):
        raise BrokerAccessError(f"{value!r} cannot be put in a NATS configuration string")
    return f'"{value}"'


def _password(user: str, passwords: Mapping[str, str] | None, variable: str) -> str:
    if passwords is None:
        return f"${variable}"
    try:
        value = passwords[user]
    except KeyError:
        raise BrokerAccessError(f"no password for the NATS user {user!r}") from None
    if not _PASSWORD.match(value):
        raise BrokerAccessError(f"the password of {user!r} must be 8-200 of A-Z a-z 0-9 _ . ~ -")
    return _quote(value)


def render_accounts(
    namespace: str,
    feeds: Sequence[PartnerFeed],
    passwords: Mapping[str, str] | None = None,
    *,
    include: str | None = None,
) -> str:
    """The ``accounts { ... }`` block of the NATS configuration (see the module docstring).

    ``passwords`` maps user names to passwords; when None, each password is a reference
    to a NATS variable (:data:`INTERNAL_PASSWORD_VARIABLE`,
    :attr:`PartnerFeed.password_variable`), defined in the file ``include`` names.
    """
    stream = feeds_stream_name(namespace)
    out: list[str] = []
    if include is not None:
        out += [
            "# The passwords, as NATS variables (REITTI_NATS_*_PASSWORD).",
            f"include {_quote(include)}",
            "",
        ]
    out += [
        "accounts {",
        f"  # Reitti's own services. The only account with JetStream: {stream},",
        f"  # {namespace.upper()}_EVENTS and {namespace.upper()}_DLQ live here. Its user may do anything.",
        f"  {INTERNAL_ACCOUNT}: {{",
        "    jetstream: enabled",
        "    users: [",
        f"      {{user: {_quote(INTERNAL_USER)}, "
        f"password: {_password(INTERNAL_USER, passwords, INTERNAL_PASSWORD_VARIABLE)}}}",
        "    ]",
        "    # Each partner account may pull from, and acknowledge on, its own durable",
        f"    # consumer on {stream} (filtered to its feed by Reitti) and nothing else.",
        "    exports: [",
    ]
    for feed in feeds:
        out += [
            f"      {{service: {_quote(feed.next_subject(namespace))}, "
            f"response_type: stream, accounts: [{feed.account}]}}",
            f"      {{service: {_quote(feed.ack_subjects(namespace))}, accounts: [{feed.account}]}}",
        ]
    out += ["    ]", "  }"]
    for feed in feeds:
        pulls, acks = feed.next_subject(namespace), feed.ack_subjects(namespace)
        out += [
            "",
            f"  # {feed.organisation}: reads {feed.filter_subject(namespace)} only.",
            f"  {feed.account}: {{",
            "    users: [",
            f"      {{user: {_quote(feed.user)}, "
            f"password: {_password(feed.user, passwords, feed.password_variable)}, permissions: {{",
            f"        publish: {{allow: [{_quote(pulls)}, {_quote(acks)}]}}",
            f"        subscribe: {{allow: [{_quote('_INBOX.>')}]}}",
            "      }}",
            "    ]",
            "    imports: [",
            f"      {{service: {{account: {INTERNAL_ACCOUNT}, subject: {_quote(pulls)}}}}}",
            f"      {{service: {{account: {INTERNAL_ACCOUNT}, subject: {_quote(acks)}}}}}",
            "    ]",
            "  }",
        ]
    out.append("}")
    return "\n".join(out) + "\n"


def password_variables(feeds: Sequence[PartnerFeed]) -> dict[str, str]:
    """User -> the NATS (and compose ``.env``) variable holding its password."""
    return {
        INTERNAL_USER: INTERNAL_PASSWORD_VARIABLE,
        **{feed.user: feed.password_variable for feed in feeds},
    }


def render_password_variables(passwords: Mapping[str, str], feeds: Sequence[PartnerFeed]) -> str:
    """The NATS variables :func:`render_accounts` refers to, for ``passwords.inc``."""
    return "".join(
        f"{variable}: {_password(user, passwords, variable)}\n"
        for user, variable in password_variables(feeds).items()
    )


def new_password() -> str:
    return secrets.token_urlsafe(24)


def new_passwords(feeds: Iterable[PartnerFeed]) -> dict[str, str]:
    return {INTERNAL_USER: new_password(), **{feed.user: new_password() for feed in feeds}}


def development_passwords(feeds: Iterable[PartnerFeed]) -> dict[str, str]:
    """The well-known passwords of ``deploy/nats/passwords.inc``: a development machine only."""
    return {INTERNAL_USER: "dev-only-internal", **{feed.user: f"dev-only-{feed.user}" for feed in feeds}}


# --- credentials of the embedded server ------------------------------------------------


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


# --- the files of deploy/nats (`reitti nats-config`) -------------------------------------


def deploy_accounts_text(namespace: str, feeds: Sequence[PartnerFeed]) -> str:
    """The text of ``deploy/nats/accounts.conf``."""
    partners = textwrap.wrap(
        f"Namespace {namespace!r}; partner feeds: {', '.join(feed.organisation for feed in feeds)}.",
        width=86,
    )
    header = [
        "# GENERATED by `reitti nats-config accounts`; do not edit by hand.",
        "# Who may connect to the NATS cluster and what each user may read (docs/adr/0009).",
        *(f"# {line}" for line in partners),
        "# Regenerate after changing REITTI_NAMESPACE or REITTI_MUNICIPALITIES, and restart",
        "# the NATS nodes (or send them SIGHUP).",
        "",
        "",
    ]
    return "\n".join(header) + render_accounts(namespace, feeds, include=PASSWORDS_INCLUDE)


def deploy_passwords_text(passwords: Mapping[str, str], feeds: Sequence[PartnerFeed], *, dev: bool) -> str:
    """The text of ``passwords.inc``: with ``dev``, the well-known development file."""
    if dev:
        header = [
            "# GENERATED by `reitti nats-config passwords --dev`.",
            "# DEVELOPMENT ONLY: well-known passwords of the NATS users in accounts.conf, so that",
            "# `docker compose up` works on a fresh checkout (compose.yaml gives the services the",
            "# same internal password by default). For anything else generate real ones:",
            "#   reitti nats-config passwords --output secrets/passwords.inc --env-file .env",
            "# and mount that file over /etc/nats/passwords.inc (REITTI_NATS_PASSWORDS_FILE).",
        ]
    else:
        header = [
            "# GENERATED by `reitti nats-config passwords`: the passwords of the NATS",
            "# users in accounts.conf. SECRET: keep it out of version control, mode 0600.",
        ]
    return "\n".join([*header, "", ""]) + render_password_variables(passwords, feeds)
