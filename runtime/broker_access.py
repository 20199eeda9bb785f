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

This module names the accounts, users, feeds and consumers. The NATS configuration that
grants them is rendered by :mod:`runtime.nats_accounts`; the embedded server's
credentials file, and a partner's access read from it, are :mod:`runtime.broker_credentials`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from contracts import subjects
from contracts.names import TE_OFFICE
from contracts.subjects import organisation_slug
from runtime.config import DEFAULT_MUNICIPALITIES

#: The account of Reitti's own services; the only one with JetStream.
INTERNAL_ACCOUNT = "REITTI"
#: The user Reitti's services connect as (``REITTI_NATS_URL``).
INTERNAL_USER = "internal"
#: Organisation ids of a municipality's social services: ``social_services:<municipality>``.
SOCIAL_SERVICES = "social_services"

#: a feed token: a slug of lower-case letters, digits and ``-`` (``te-office``, ``mantyharju``)
_TOKEN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
#: stricter than a subject token: the namespace also names the streams (``REITTI_FEEDS``)
_NAMESPACE = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


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
