"""The pure parts of bench/http_commands.py: the open-loop timetable, the percentiles, the
qualify rule and the CPU and visibility arithmetic. Never its speed."""

from __future__ import annotations

import asyncio
import math

import httpx
import pytest

from bench.foundation import latency_ms, percentile
from bench.http_commands import (
    CLOCK_TICKS,
    Answer,
    cpu_delta,
    cpu_seconds,
    open_loop,
    parse_rates,
    qualifies,
    timetable,
    visible_after_answer,
)


def test_the_timetable_sends_request_i_at_i_over_the_rate() -> None:
    assert timetable(4, 1) == [0.0, 0.25, 0.5, 0.75]
    assert len(timetable(200, 10)) == 2000
    assert timetable(10, 0.05) == [0.0], "a step sends at least one request"
    with pytest.raises(ValueError):
        timetable(0, 10)


async def test_a_request_waiting_for_its_answer_does_not_hold_back_the_next_send() -> None:
    """The first request is answered only once every other request has arrived: a load
    generator that waited for an answer before sending the next would never get there."""
    count = 5
    arrived: list[int] = []
    everyone_here = asyncio.Event()

    class Server(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            i = len(arrived)
            arrived.append(i)
            if len(arrived) == count:
                everyone_here.set()
            if i == 0:
                await everyone_here.wait()
            return httpx.Response(201, json={"event_ids": [f"e{i}"]})

    async with httpx.AsyncClient(transport=Server()) as http:
        step = await asyncio.wait_for(
            open_loop(http, "http://bench/commands", [{}] * count, rate=200, seconds=count / 200), timeout=10
        )
    assert sorted(arrived) == list(range(count))
    assert [a.status for a in step.answers] == [201] * count
    assert step.answers[0].answered >= max(a.due for a in step.answers), "answered after the last send"
    assert [a.event_ids for a in step.answers] == [(f"e{i}",) for i in range(count)]


def test_percentiles_are_nearest_rank_and_a_missing_answer_counts_as_infinitely_late() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.50) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([3.0, 1.0, 2.0], 0.99) == 3.0
    assert math.isnan(percentile([], 0.5))
    assert latency_ms([0.010, 0.020, math.inf])["max"] == math.inf
    assert latency_ms([0.001 * v for v in range(1, 101)])["p99"] == pytest.approx(99.0)


def test_a_rate_qualifies_only_when_every_answer_is_2xx_and_p99_is_below_100_ms() -> None:
    assert qualifies([201, 201, 202], 99.9)
    assert not qualifies([201, 201], 100.0), "p99 must be below 100 ms"
    assert not qualifies([201, 500], 10.0)
    assert not qualifies([201, 409], 10.0)
    assert not qualifies([201, None], 10.0), "an error or timeout is not an answer"
    assert not qualifies([], 10.0), "no answers qualify nothing"


def test_parse_rates() -> None:
    assert parse_rates("10,50, 100") == (10.0, 50.0, 100.0)
    with pytest.raises(Exception, match="positive"):
        parse_rates("10,0")


def test_cpu_is_utime_plus_stime_after_the_command_name_and_a_new_process_counts_whole() -> None:
    stat = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 1 1 1"
    assert cpu_seconds(stat) == pytest.approx(300 / CLOCK_TICKS)
    before = {1: ("intake", 2.0), 2: ("postgres (Reitti's sessions)", 1.0)}
    after = {
        1: ("intake", 2.5),
        2: ("postgres (Reitti's sessions)", 1.25),
        3: ("postgres (Reitti's sessions)", 0.5),
    }
    assert cpu_delta(before, after) == {"intake": 0.5, "postgres (Reitti's sessions)": 0.75}


def test_visibility_waits_for_every_event_of_an_answer_and_a_missing_one_is_infinitely_late() -> None:
    answers = [
        Answer(due=0.0, answered=1.0, status=201, event_ids=("a", "b")),
        Answer(due=0.0, answered=2.0, status=201, event_ids=("c",)),
        Answer(due=0.0, answered=2.0, status=500),
        Answer(due=0.0, answered=3.0, status=201, event_ids=("d",)),
    ]
    seen = {"a": 1.01, "b": 1.05, "c": 2.02}
    latencies = visible_after_answer(answers, seen)
    assert latencies[:2] == [pytest.approx(0.05), pytest.approx(0.02)]
    assert latencies[2] == math.inf and len(latencies) == 3
