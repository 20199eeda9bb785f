"""During a rebuild's load the cyclic collector runs less often, and is as it was after,
also when the load fails (runtime/replay_bulk.py, ADR 0046)."""

from __future__ import annotations

import gc

import pytest

from runtime.replay_bulk import LOAD_GC_THRESHOLDS, fewer_collections


def test_the_collector_has_the_load_thresholds_inside_and_its_own_after_even_on_failure() -> None:
    before = gc.get_threshold()
    assert before != LOAD_GC_THRESHOLDS
    with pytest.raises(RuntimeError), fewer_collections():
        assert gc.get_threshold() == LOAD_GC_THRESHOLDS
        raise RuntimeError("the load fails")
    assert gc.get_threshold() == before
