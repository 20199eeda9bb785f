"""Intake's HMAC keys are read from the database once: a key found there is remembered,
one made in the caller's transaction is not (that transaction may roll back)."""

from __future__ import annotations

from typing import Any, cast

import asyncpg

from services.intake.repository import IntakeRepository


class Store:
    schema = "intake"


class Connection:
    """Answers the secret's read with ``stored``; an insert stores ``made``."""

    def __init__(self, stored: bytes | None) -> None:
        self.stored = stored
        self.reads = 0

    async def fetchval(self, sql: str, *args: Any) -> bytes | None:
        self.reads += 1
        return self.stored

    async def execute(self, sql: str, *args: Any) -> str:
        self.stored = bytes(args[1])
        return "INSERT 0 1"


def repository() -> IntakeRepository:
    return IntakeRepository(cast(Any, Store()))


async def test_a_key_found_in_the_database_is_read_once() -> None:
    repo = repository()
    conn = Connection(stored=b"k" * 32)
    first = await repo.identity_secret(cast(asyncpg.Connection, conn))
    second = await repo.identity_secret(cast(asyncpg.Connection, conn))
    assert first == second == b"k" * 32
    assert conn.reads == 1


async def test_a_key_made_in_this_transaction_is_read_again_next_time() -> None:
    repo = repository()
    conn = Connection(stored=None)
    made = await repo.look_alike_secret(cast(asyncpg.Connection, conn))
    assert len(made) == 32 and conn.reads == 2  # read, made, read back
    again = await repo.look_alike_secret(cast(asyncpg.Connection, conn))
    assert again == made and conn.reads == 3, "not remembered until found committed"
    await repo.look_alike_secret(cast(asyncpg.Connection, conn))
    assert conn.reads == 3
