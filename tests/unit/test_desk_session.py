"""The desk's session cookie (services/desk/session.py): sealed, so that a browser can
neither read the token in it nor change it; ended with its token; and each form of a
session carries its own anti-forgery value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contracts.base import Actor
from services.desk.session import MAX_SESSION, DeskSessions, session_key
from tests.support.auth import ISSUER

ADVISOR = Actor(person_id="advisor-1", role="employment_advisor", organisation="te-office")


def signed_in(sessions: DeskSessions, ttl: timedelta = timedelta(hours=1)) -> tuple[str, str]:
    token = ISSUER.issue(person_id="advisor-1", role="employment_advisor", organisation="te-office", ttl=ttl)
    return token, sessions.seal(sessions.signed_in(sessions.new("sv"), token, ADVISOR))


def test_a_sealed_session_opens_with_its_key_and_hides_the_token() -> None:
    sessions = DeskSessions(session_key(None))
    token, cookie = signed_in(sessions)
    opened = sessions.open(cookie)
    assert opened is not None and opened.signed_in
    assert opened.token == token and opened.actor == ADVISOR and opened.language == "sv"
    assert all(part not in cookie for part in token.split(".")), "no part of the token is readable"


def test_a_changed_cookie_or_another_key_opens_nothing() -> None:
    sessions = DeskSessions(session_key(None))
    _, cookie = signed_in(sessions)
    changed = cookie[:-6] + ("A" if cookie[-6] != "A" else "B") + cookie[-5:]
    assert sessions.open(changed) is None
    assert DeskSessions(session_key(None)).open(cookie) is None, "a random key per process"
    shared = "k" * 40
    assert (
        DeskSessions(session_key(shared)).open(DeskSessions(session_key(shared)).seal(sessions.new()))
        is not None
    )


def test_a_session_ends_with_its_token_and_after_twelve_hours_at_most() -> None:
    sessions = DeskSessions(session_key(None))
    _, cookie = signed_in(sessions, ttl=timedelta(minutes=5))
    assert sessions.open(cookie, now=datetime.now(UTC) + timedelta(minutes=4)) is not None
    assert sessions.open(cookie, now=datetime.now(UTC) + timedelta(minutes=6)) is None
    token = ISSUER.issue(person_id="a", role="nurse", organisation="centre", ttl=timedelta(days=3))
    long = sessions.signed_in(sessions.new(), token, ADVISOR)
    assert long.expires is not None and long.expires <= datetime.now(UTC) + MAX_SESSION


def test_signing_in_changes_the_anti_forgery_value_and_only_the_session_s_own_matches() -> None:
    sessions = DeskSessions(session_key(None))
    before = sessions.new()
    token = ISSUER.issue(person_id="a", role="nurse", organisation="centre")
    after = sessions.signed_in(before, token, ADVISOR)
    assert after.csrf != before.csrf
    assert sessions.csrf_matches(after, after.csrf)
    assert not sessions.csrf_matches(after, before.csrf)
    assert not sessions.csrf_matches(after, None) and not sessions.csrf_matches(after, "")
