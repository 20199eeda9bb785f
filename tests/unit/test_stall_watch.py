"""The rule that calls a consumer stalled (runtime/stalls.py), without servers."""

from __future__ import annotations

from runtime.stalls import Progress, StallWatch


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_work_waiting_with_nothing_received_or_acknowledged_is_a_stall_after_the_limit() -> None:
    clock = Clock()
    watch = StallWatch(10.0, clock)
    stuck = Progress(waiting=500, ack_floor=537, received=793)
    assert not watch.stalled(stuck), "the first look sets the baseline"
    clock.now = 9.9
    assert not watch.stalled(stuck)
    clock.now = 10.0
    assert watch.stalled(stuck)
    watch.restart()
    assert not watch.stalled(stuck), "counted again from the resubscription"
    clock.now = 19.9
    assert not watch.stalled(stuck)
    clock.now = 20.0
    assert watch.stalled(stuck)


def test_a_delivery_received_or_an_acknowledgement_is_progress_and_no_work_is_never_a_stall() -> None:
    clock = Clock()
    watch = StallWatch(10.0, clock)
    watch.stalled(Progress(waiting=256, ack_floor=10, received=5))
    clock.now = 15.0
    # a database outage: nothing acknowledged, but the ack wait's redeliveries keep arriving
    assert not watch.stalled(Progress(waiting=256, ack_floor=10, received=9))
    clock.now = 30.0
    assert not watch.stalled(Progress(waiting=256, ack_floor=12, received=9)), "the floor moved"
    clock.now = 100.0
    assert not watch.stalled(Progress(waiting=0, ack_floor=12, received=9)), "nothing waits"
    assert not watch.stalled(Progress(waiting=0, ack_floor=12, received=9))


def test_a_consumer_holding_deliveries_is_busy_not_stalled() -> None:
    """A database outage: the worker holds its batch (and keeps it with progress
    heartbeats), so nothing is redelivered, received or acknowledged for a long time."""
    clock = Clock()
    watch = StallWatch(10.0, clock)
    held = Progress(waiting=256, ack_floor=537, received=793, idle=False)
    assert not watch.stalled(held)
    clock.now = 600.0
    assert not watch.stalled(held)
    clock.now = 605.0
    idle = Progress(waiting=256, ack_floor=537, received=793, idle=True)
    assert not watch.stalled(idle), "counted from when it stopped holding"
    clock.now = 615.0
    assert watch.stalled(idle)
