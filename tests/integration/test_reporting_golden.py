"""Reporting's projection against a recorded result: a frozen log applied in batches by
today's set-based code gives what the per-event implementation (commit fe52771) gave,
table by table (tests/integration/golden/README.md)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from contracts.base import EventBase
from contracts.envelope import CloudEventEnvelope
from contracts.registry import decode_event
from tests.integration.test_reporting_projections import project_items
from tests.support.digests import projection_digest

pytestmark = pytest.mark.integration

GOLDEN = Path(__file__).parent / "golden"
#: the namespace the recording used: it is part of the feed messages' subjects
NAMESPACE = "golden"


def frozen_log() -> list[tuple[CloudEventEnvelope, EventBase, int]]:
    with gzip.open(GOLDEN / "reporting_log.jsonl.gz", "rt", encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines]
    items = []
    for record in records:
        envelope = CloudEventEnvelope.model_validate(record["envelope"])
        items.append((envelope, decode_event(envelope), record["seq"]))
    return items


@pytest.mark.parametrize("batch_size", [200, 1000])
async def test_the_set_based_projection_gives_what_the_per_event_one_recorded(
    settings, pool, batch_size
) -> None:
    projected = await project_items(pool, settings, frozen_log(), "golden", batch_size, namespace=NAMESPACE)
    digest = projection_digest(*projected)
    recorded = json.loads((GOLDEN / "reporting_per_event.json").read_text(encoding="utf-8"))
    differing = {
        table: (digest["tables"].get(table), expected)
        for table, expected in recorded["tables"].items()
        if digest["tables"].get(table) != expected
    }
    assert not differing, f"tables that differ from the per-event result: {differing}"
    assert set(digest["tables"]) == set(recorded["tables"]), "the same tables"
    assert digest["audit_heads"] == recorded["audit_heads"]
    assert digest["feeds"] == recorded["feeds"]
