"""Each test's own database, cloned from the migrated template, made one test ahead and
dropped one test behind, on a thread of its own.

Cloning the template (``CREATE DATABASE ... TEMPLATE``) and dropping a used database cost
about 0.2 s and 0.3-0.8 s on this project's slow disks: as much as many tests take
themselves. The tests mostly wait on their servers, so the next test's database is made,
and the last one's dropped, while a test runs. A database is still used by one test only
and is fresh (the template's copy plus its own key-encryption key, ADR 0021) when that
test starts; a clone or a drop that fails fails the test that asks for the next database.
"""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import Future, ThreadPoolExecutor

import asyncpg

from runtime.keyvault import ensure_vault


def with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


class DatabaseSupply:
    """Fresh databases from ``template`` on the server of ``server_url`` (a database of it
    that may create and drop databases)."""

    def __init__(self, server_url: str, template: str) -> None:
        self.server_url = server_url
        self.template = template
        # One worker: clones and drops run one at a time, in the order asked.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-databases")
        self._next: Future[str] | None = None
        self._drops: list[Future[None]] = []

    def take(self) -> str:
        """A fresh database's URL; the one after it starts being made at once."""
        ready = self._next if self._next is not None else self._worker.submit(self._clone)
        name = ready.result()
        self._next = self._worker.submit(self._clone)
        return with_database(self.server_url, name)

    def give_back(self, url: str) -> None:
        """Drop a database a test has finished with (behind the next test's start)."""
        name = url.rpartition("/")[2]
        # finished drops are forgotten; a failed one is kept, to fail the session at close
        self._drops = [d for d in self._drops if not d.done() or d.exception() is not None]
        self._drops.append(self._worker.submit(self._drop, name))

    def close(self) -> None:
        """Wait for every drop, and drop the database made for a test that never came."""
        if self._next is not None:
            name = self._next.result()
            self._worker.submit(self._drop, name).result()
        for drop in self._drops:
            drop.result()
        self._worker.shutdown(wait=True)

    def _clone(self) -> str:
        name = f"reitti_test_{uuid.uuid4().hex[:12]}"

        async def clone() -> None:
            admin = await asyncpg.connect(self.server_url)
            try:
                await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
            finally:
                await admin.close()
            conn = await asyncpg.connect(with_database(self.server_url, name))
            try:
                await ensure_vault(conn)  # its own KEK, as a service makes at start (ADR 0021)
            finally:
                await conn.close()

        asyncio.run(clone())
        return name

    def _drop(self, name: str) -> None:
        async def drop() -> None:
            admin = await asyncpg.connect(self.server_url)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await admin.close()

        asyncio.run(drop())
