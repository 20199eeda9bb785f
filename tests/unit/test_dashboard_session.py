"""The dashboard's session values, without a server: what a cookie holds, how long, and
what is refused (docs/adr/0028)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from contracts.base import Actor
from runtime.config import ConfigError
from services.reporting.dashboard_session import (
    KEY_ENV,
    MAX_SESSION,
    DashboardSessions,
    Session,
    SignInRequired,
    session_key,
)
from services.reporting.sign_in import carried_next
from services.settings import ReittiConfig

ACTOR = Actor(person_id="steering-1", role="steering_group_member", organisation="centre")
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def sessions() -> DashboardSessions:
    return DashboardSessions(b"k" * 32)


def test_a_session_ends_with_its_token_and_never_after_the_longest_session() -> None:
    soon = NOW + timedelta(minutes=5)
    assert sessions().start(ACTOR, soon, now=NOW).expires == soon
    assert sessions().start(ACTOR, NOW + timedelta(days=30), now=NOW).expires == NOW + MAX_SESSION


def test_a_sealed_session_opens_as_itself_until_it_ends() -> None:
    ends = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    value = sessions().seal(Session(ACTOR, ends))
    assert sessions().open(value) == Session(ACTOR, ends)
    with pytest.raises(SignInRequired) as ended:
        sessions().open(value, now=ends)
    assert ended.value.reason == "expired"


def test_another_key_or_a_forms_value_never_opens_as_a_session() -> None:
    ends = datetime.now(UTC) + timedelta(hours=1)
    for value in (
        DashboardSessions(b"o" * 32).seal(Session(ACTOR, ends)),
        sessions().form()[0],
        "",
        "a.b.c",
    ):
        with pytest.raises(SignInRequired) as refused:
            sessions().open(value)
        assert refused.value.reason == "invalid"


def test_a_form_matches_only_its_own_cookie() -> None:
    field, nonce = sessions().form()
    other_field, other_nonce = sessions().form()
    assert sessions().form_matches(field, nonce)
    assert not sessions().form_matches(field, other_nonce)
    assert not sessions().form_matches(other_field, nonce)
    assert not sessions().form_matches(nonce, nonce), "the cookie's value is not a signed field"
    assert not DashboardSessions(b"o" * 32).form_matches(field, nonce)
    assert not sessions().form_matches(None, nonce) and not sessions().form_matches(field, None)


def test_the_session_key_is_the_operators_or_a_random_one_per_process() -> None:
    configured = ReittiConfig.from_env({KEY_ENV: "x" * 32}).reporting.dashboard_session_key
    assert session_key(configured) == b"x" * 32
    assert session_key(None) != session_key(None), "random, not a constant"
    with pytest.raises(ConfigError, match=KEY_ENV):
        ReittiConfig.from_env({KEY_ENV: "short"})
    with pytest.raises(ConfigError, match=KEY_ENV):
        session_key("short")


@pytest.mark.parametrize(
    ("asked", "goes_to"),
    [
        ("/dashboard?year=2010&as_of=2010-12-31", "/dashboard?year=2010&as_of=2010-12-31"),
        ("/dashboard?token=secret&year=2010", "/dashboard?year=2010"),
        ("https://evil.example/", "/dashboard"),
        ("/audit/export?from_seq=1", "/dashboard"),
        ("", "/dashboard"),
        (None, "/dashboard"),
    ],
)
def test_a_sign_in_goes_on_to_the_dashboard_only(asked: str | None, goes_to: str) -> None:
    assert carried_next(asked) == goes_to
