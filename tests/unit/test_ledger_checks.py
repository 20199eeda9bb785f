"""The fault tests' verdict (tests/support/ledger.py) names each way a write can go
wrong: lost from the store, missing from or doubled on the stream, not applied by
reporting, more events than acknowledged, or a count that disagrees."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.support.ledger import Ledger, assert_nothing_lost_or_doubled
from tests.support.load import ClientRun, ReferralLoad


def load_with(*runs: ClientRun) -> ReferralLoad:
    load = ReferralLoad(["http://unused"], "token")
    load.runs.extend(runs)
    return load


def a_client() -> tuple[ReferralLoad, Ledger]:
    load = load_with(ClientRun("client-1", ["e1", "e2"], steps_done=2))
    ledger = Ledger(
        store={"e1": "client-1", "e2": "client-1", "g1": "case-1"},
        intake={"e1": "client-1", "e2": "client-1"},
        intake_referrals=1,
        stream=Counter({"e1": 1, "e2": 1, "g1": 1}),
        reporting={"e1", "e2", "g1"},
        guidance_consumed=frozenset({"e1", "e2"}),
    )
    return load, ledger


def test_a_ledger_that_holds_every_acknowledged_write_once_passes() -> None:
    load, ledger = a_client()
    assert_nothing_lost_or_doubled(load, ledger, referred_in_reporting=1)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"store": {"e2": "client-1"}, "intake": {"e2": "client-1"}}, "not in the event store"),
        ({"stream": Counter({"e1": 1, "g1": 1})}, "never reached JetStream"),
        ({"stream": Counter({"e1": 2, "e2": 1, "g1": 1})}, "more than once"),
        ({"reporting": {"e1", "e2"}}, "never applied by reporting"),
        ({"guidance_consumed": frozenset({"e1"})}, "guidance never reacted"),
        (
            {
                "store": {"e1": "client-1", "e2": "client-1", "e3": "client-1"},
                "intake": {"e1": "client-1", "e2": "client-1", "e3": "client-1"},
                "stream": Counter({"e1": 1, "e2": 1, "e3": 1}),
                "reporting": {"e1", "e2", "e3"},
                "guidance_consumed": frozenset({"e1", "e2", "e3"}),
            },
            "acknowledged",
        ),
    ],
)
def test_each_way_of_losing_or_doubling_a_write_is_named(change: dict[str, object], message: str) -> None:
    load, ledger = a_client()
    broken = Ledger(**{**ledger.__dict__, **change})
    with pytest.raises(AssertionError, match=message):
        assert_nothing_lost_or_doubled(load, broken, referred_in_reporting=1)


def test_a_reporting_count_that_disagrees_with_intake_is_named() -> None:
    load, ledger = a_client()
    with pytest.raises(AssertionError, match="reporting counts 2 referred clients, intake stored 1"):
        assert_nothing_lost_or_doubled(load, ledger, referred_in_reporting=2)


def test_a_ledger_is_settled_only_once_guidance_has_reacted_to_every_intake_event() -> None:
    _, ledger = a_client()
    assert ledger.settled
    assert not Ledger(**{**ledger.__dict__, "guidance_consumed": frozenset({"e1"})}).settled
    assert not Ledger(**{**ledger.__dict__, "reporting": {"e1", "e2"}}).settled
    assert not Ledger(**{**ledger.__dict__, "stream": Counter({"e1": 1, "e2": 1})}).settled
