"""The restart policy of `reitti up` (runtime/supervision.py, docs/adr/0017)."""

from __future__ import annotations

from typing import TypedDict

import pytest

from runtime.supervision import CrashHistory, RestartPolicy


def test_the_backoff_doubles_from_the_first_crash_up_to_its_cap() -> None:
    history = CrashHistory(RestartPolicy(max_restarts=10, window=1000, initial_delay=0.5, max_delay=4))
    assert [history.record(float(t)) for t in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_the_crash_after_max_restarts_within_the_window_gives_up() -> None:
    history = CrashHistory(RestartPolicy(max_restarts=2, window=60))
    assert history.record(0) is not None
    assert history.record(10) is not None
    assert history.record(20) is None


def test_crashes_older_than_the_window_are_forgotten_and_the_backoff_starts_again() -> None:
    history = CrashHistory(RestartPolicy(max_restarts=2, window=60, initial_delay=1))
    assert history.record(0) == 1
    assert history.record(10) == 2
    assert history.record(65) == 2  # the crash at 0 left the window; 10 and 65 remain
    assert history.record(200) == 1  # a quiet spell: a fresh start
    assert history.recent == 1


def test_zero_restarts_means_the_first_crash_stops_everything() -> None:
    assert CrashHistory(RestartPolicy(max_restarts=0)).record(0) is None


class PolicyFields(TypedDict, total=False):
    max_restarts: int
    window: float
    initial_delay: float
    max_delay: float


@pytest.mark.parametrize("bad", [{"max_restarts": -1}, {"window": 0}, {"initial_delay": 5, "max_delay": 1}])
def test_a_policy_that_makes_no_sense_is_refused(bad: PolicyFields) -> None:
    with pytest.raises(ValueError):
        RestartPolicy(**bad)
