"""Subject names on the broker.

Events travel on ``<namespace>.events.<service>.<side>.<organisation>.<EventType>``, for
example ``reitti.events.intake.centre.mikkeli.ClientReferred``. The service, the side and
the organisation are in the subject so NATS permissions can give each reader exactly its
feed (architecture decision 6). Dead letters travel on ``<namespace>.dlq.<consumer>``.

A partner organisation's feed (architecture decision 7) travels on
``<namespace>.feeds.<feed token>.<EventType>[.<client id>]``; the feed token is ``te-office``
or a municipality's slug (runtime/broker_access.py maps organisations to tokens).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from contracts.base import Side

_TOKEN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_TYPE = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_CLIENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def _check(token: str, what: str, pattern: re.Pattern[str] = _TOKEN) -> str:
    if not pattern.match(token):
        raise ValueError(f"{what} {token!r} is not a valid subject token")
    return token


@cache
def organisation_slug(name: str) -> str:
    """``'Mäntyharju'`` -> ``'mantyharju'``: organisation names as subject tokens."""
    table = str.maketrans({"ä": "a", "ö": "o", "å": "a", "Ä": "a", "Ö": "o", "Å": "a"})
    slug = re.sub(r"[^a-z0-9]+", "-", name.translate(table).lower()).strip("-")
    return _check(slug, "organisation")


def social_services(municipality: str) -> str:
    """The organisation name of a municipality's social services, as consents, tokens and
    transfers name it: ``'Mäntyharju'`` -> ``'social_services:mantyharju'``."""
    return f"social_services:{organisation_slug(municipality)}"


@dataclass(frozen=True)
class SubjectName:
    namespace: str
    service: str
    side: Side
    organisation: str
    event_type: str

    def __str__(self) -> str:
        return ".".join(
            (
                _check(self.namespace, "namespace"),
                "events",
                _check(self.service, "service"),
                self.side.value,
                _check(self.organisation, "organisation"),
                _check(self.event_type, "event type", _TYPE),
            )
        )

    @classmethod
    def parse(cls, subject: str) -> SubjectName:
        parts = subject.split(".")
        if len(parts) != 6 or parts[1] != "events":
            raise ValueError(f"{subject!r} is not an event subject")
        return cls(parts[0], parts[2], Side(parts[3]), parts[4], parts[5])


def event_subject(namespace: str, service: str, side: Side, organisation: str, event_type: str) -> str:
    return str(SubjectName(namespace, service, side, organisation, event_type))


def events_wildcard(namespace: str) -> str:
    return f"{_check(namespace, 'namespace')}.events.>"


def dead_letter_subject(namespace: str, consumer: str) -> str:
    return f"{_check(namespace, 'namespace')}.dlq.{_check(consumer, 'consumer')}"


def dead_letter_wildcard(namespace: str) -> str:
    return f"{_check(namespace, 'namespace')}.dlq.>"


def feeds_wildcard(namespace: str) -> str:
    """Every partner's feed: the subjects of the ``<NS>_FEEDS`` stream."""
    return f"{_check(namespace, 'namespace')}.feeds.>"


def feed_wildcard(namespace: str, token: str) -> str:
    """One partner's feed, ``<ns>.feeds.<token>.>``: its consumer's filter."""
    return f"{_check(namespace, 'namespace')}.feeds.{_check(token, 'feed token')}.>"


def feed_subject(namespace: str, token: str, event_type: str, client_id: str | None = None) -> str:
    """``feed_subject('reitti', 'mikkeli', 'ClientReferred')`` ->
    ``'reitti.feeds.mikkeli.ClientReferred'``; with ``client_id`` that comes last, so an
    erasure can find the client's messages."""
    _check(event_type, "event type", _TYPE)
    subject = f"{_check(namespace, 'namespace')}.feeds.{_check(token, 'feed token')}.{event_type}"
    if client_id is None:
        return subject
    return f"{subject}.{_check(client_id, 'client id', _CLIENT)}"
