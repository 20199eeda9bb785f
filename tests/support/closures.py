"""The guide's closure proposal, as the e2e stories make it before a closure under the
2015 and 2025 acts (services/guidance/domain/closure.py, docs/adr/0031)."""

from __future__ import annotations

from datetime import date
from typing import Any

from runtime import clock
from tests.support.auth import headers

#: the named guide of the e2e stories (person ``guide-1``), who proposes
GUIDE_1 = headers("service_guide", "guide-1", "centre")


def proposal(on: date | None = None, outcome: str = "unemployed") -> dict[str, Any]:
    return {
        "proposed_on": str(on or clock.today()),
        "outcome": outcome,
        "services_continue": "te_office",
        "reason": "The need for the centre's service has ended.",
    }


async def propose_closure(guidance: Any, client_id: str, *, by: dict[str, str] = GUIDE_1) -> None:
    """The named guide proposes the closure (through guidance's API; asserts it is recorded)."""
    proposed = await guidance.post(f"/cases/{client_id}/closure-proposal", json=proposal(), headers=by)
    assert proposed.status_code == 200, proposed.text
