"""How many database round trips the transaction of one ``POST /referrals`` makes
(issue 15 wants at most 4). A count, not a speed: every statement that intake's pool sends
is logged through asyncpg's query logger, and the referral's transaction is the one, on
its connection, around the identity-key look-up. The ceiling is today's count, so a change
that adds a round trip fails here; one that cuts them lowers it."""

from __future__ import annotations

from typing import Any

import pytest

from runtime import db
from services.intake.app import create_app as intake_app
from tests.support.apps import running
from tests.support.factories import HEADERS, referral_request

pytestmark = pytest.mark.integration

#: today's count (docs/benchmarks.md, "Round trips of one POST /referrals"): BEGIN, the three
#: look-ups in one, the new client's pseudonym and look-alike key in one, the case's events with
#: the lookup's access-log entry in one append, the overview, COMMIT. Issue 15 asks <= 4
CEILING = 6
LOOK_UP = "FROM intake.client_identities WHERE identity_key"


def referral_transaction(log: list[tuple[int, str]]) -> list[str]:
    """The statements of the transaction around the identity-key look-up, on its connection
    (one connection runs one statement at a time, so its log is in order)."""
    conn = next(c for c, q in log if LOOK_UP in q)
    mine = [q for c, q in log if c == conn]
    at = next(i for i, q in enumerate(mine) if LOOK_UP in q)
    begin = max(i for i, q in enumerate(mine[: at + 1]) if q.startswith("BEGIN"))
    commit = next(i for i, q in enumerate(mine) if i > at and q.startswith("COMMIT"))
    return mine[begin : commit + 1]


async def test_one_referral_makes_at_most_the_counted_round_trips(settings: Any, monkeypatch: Any) -> None:
    log: list[tuple[int, str]] = []

    async def log_queries(conn: Any) -> None:
        key = id(conn)
        conn.add_query_logger(lambda record: log.append((key, " ".join(record.query.split()))))

    class LoggedPool(db._BoundedPool):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, init=log_queries, **kwargs)

    monkeypatch.setattr(db, "_BoundedPool", LoggedPool)
    async with running(intake_app(settings)) as intake:
        counts = []
        for _ in range(3):  # the first of a process also reads its secrets and asyncpg's types
            log.clear()
            answer = await intake.post("/referrals", json=referral_request(), headers=HEADERS)
            assert answer.status_code == 201, answer.text
            counts.append(len(referral_transaction(log)))
    assert counts[-1] <= CEILING, f"round trips of a referral's transaction: {counts}"
    assert counts[-1] >= 3, "the logger saw the transaction: BEGIN, the look-up, COMMIT at least"
