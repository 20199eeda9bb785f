"""A partner's feed subjects are written once, in contracts/subjects.py; the broker's
access rules (runtime/broker_access.py) name organisations and use them."""

from __future__ import annotations

import pytest

from contracts.subjects import feed_subject, feed_wildcard, feeds_wildcard
from runtime import broker_access
from runtime.broker_access import BrokerAccessError, PartnerFeed


def test_feed_subjects_by_token() -> None:
    assert feeds_wildcard("reitti") == "reitti.feeds.>"
    assert feed_wildcard("reitti", "te-office") == "reitti.feeds.te-office.>"
    assert feed_subject("reitti", "mikkeli", "ClientReferred") == "reitti.feeds.mikkeli.ClientReferred"
    assert feed_subject("reitti", "mikkeli", "ClientReferred", "client-1A") == (
        "reitti.feeds.mikkeli.ClientReferred.client-1A"
    )


@pytest.mark.parametrize(
    ("args", "what"),
    [
        (("reitti", "mikkeli", "clientReferred"), "event type"),
        (("reitti", "Mikkeli", "ClientReferred"), "feed token"),
        (("reitti", "mikkeli", "ClientReferred", "client.1"), "client id"),
        (("re.itti", "mikkeli", "ClientReferred"), "namespace"),
    ],
)
def test_a_bad_token_is_refused(args: tuple[str, ...], what: str) -> None:
    with pytest.raises(ValueError, match=f"^{what} .* is not a valid subject token"):
        feed_subject(*args)


def test_the_broker_names_organisations_and_uses_the_contracts_subjects() -> None:
    assert broker_access.feed_subject("reitti", "social_services:Mäntyharju", "ClientReferred", "c-1") == (
        feed_subject("reitti", "mantyharju", "ClientReferred", "c-1")
    )
    assert broker_access.feeds_wildcard("reitti") == feeds_wildcard("reitti")
    assert broker_access.feed_wildcard("reitti", "Puumala") == feed_wildcard("reitti", "puumala")
    assert PartnerFeed("te-office").filter_subject("reitti") == feed_wildcard("reitti", "te-office")
    with pytest.raises(BrokerAccessError, match="event type"):
        broker_access.feed_subject("reitti", "te-office", "not-a-type")
    with pytest.raises(BrokerAccessError, match="namespace"):
        broker_access.feeds_wildcard("Reitti")
