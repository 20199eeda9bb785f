"""The one retry loop through outages (runtime/outages.py): outages are waited out with
a doubling, capped delay; any other error is raised at once; a stop ends the wait."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from runtime.outages import StoppedWaiting, retry_through_outages


class Attempts:
    """Fails with ``errors`` in turn, then returns how many calls it took."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> int:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.calls


async def test_an_outage_is_retried_until_the_attempt_succeeds_with_a_doubling_capped_delay() -> None:
    attempt = Attempts(ConnectionRefusedError(), asyncpg.TooManyConnectionsError(), ConnectionResetError())
    pauses: list[float] = []

    async def on_pause(exc: BaseException, delay: float) -> None:
        pauses.append(delay)

    assert await retry_through_outages(attempt, backoff=(0.001, 0.002), on_pause=on_pause) == 4
    assert pauses == [0.001, 0.002, 0.002]


async def test_an_error_that_is_no_outage_is_raised_at_once() -> None:
    attempt = Attempts(ConnectionRefusedError(), ValueError("the event's own failure"))
    with pytest.raises(ValueError):
        await retry_through_outages(attempt, backoff=(0.0, 0.0))
    assert attempt.calls == 2


async def test_an_interface_error_about_the_call_itself_is_no_outage() -> None:
    attempt = Attempts(asyncpg.InterfaceError("the server expects 2 arguments, 1 was passed"))
    with pytest.raises(asyncpg.InterfaceError):
        await retry_through_outages(attempt, backoff=(0.0, 0.0))
    assert attempt.calls == 1


async def test_retry_if_widens_what_is_retried() -> None:
    attempt = Attempts(RuntimeError("publish failed"))
    assert await retry_through_outages(attempt, backoff=(0.0, 0.0), retry_if=lambda exc: True) == 2


async def test_a_stop_set_while_waiting_ends_the_retry() -> None:
    stop = asyncio.Event()
    attempt = Attempts(*(ConnectionRefusedError() for _ in range(100)))

    async def on_pause(exc: BaseException, delay: float) -> None:
        stop.set()

    with pytest.raises(StoppedWaiting):
        await retry_through_outages(attempt, backoff=(60.0, 60.0), on_pause=on_pause, stop=stop)
    assert attempt.calls == 1
