"""Intake's use cases: load the case, let the domain decide, append the events and
update the read model, all in one transaction. Nothing is half-written on any error."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from uuid import uuid4

import asyncpg

from contracts.base import EventBase
from contracts.intake import ClientDataErased, ErasureReason
from runtime import erasure
from runtime.decision import Context
from runtime.eventstore import ConcurrencyConflict
from services.intake.domain import referral, sessions
from services.intake.domain.case import IntakeCase, fold
from services.intake.domain.errors import AlreadyErased, DomainError
from services.intake.identity import identity_key
from services.intake.repository import IntakeRepository

log = logging.getLogger(__name__)


class ClientNotFound(LookupError):
    pass


class SessionNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Outcome:
    state: IntakeCase
    events: list[EventBase]
    created: bool = False


class IntakeService:
    def __init__(
        self, pool: asyncpg.Pool, repository: IntakeRepository, municipalities: tuple[str, ...]
    ) -> None:
        self._pool = pool
        self._repo = repository
        self.municipalities = municipalities

    async def register_referral(self, command: referral.RegisterReferral, ctx: Context) -> Outcome:
        """One intake case per client, found by a keyed pseudonym of their identity code."""
        async with self._pool.acquire() as conn, conn.transaction():
            key = identity_key(command.client.personal_identity_code, await self._repo.identity_secret(conn))
            existing = await self._repo.find_client(conn, key)
            state = await self._repo.load(conn, existing) if existing else None
            client_id = existing or f"client-{uuid4()}"
            events = referral.register_referral(
                state, command, client_id=client_id, municipalities=self.municipalities, ctx=ctx
            )
            if state is None:
                try:
                    async with conn.transaction():
                        await self._repo.remember_client(conn, key, client_id)
                except asyncpg.UniqueViolationError:
                    # The same client referred at the same moment by someone else: retry.
                    raise ConcurrencyConflict(client_id, 0, None) from None
            new_state = await self._commit(conn, client_id, state, events)
        return Outcome(new_state, events, created=state is None)

    async def execute(self, client_id: str, decide: Callable[[IntakeCase], list[EventBase]]) -> Outcome:
        async with self._pool.acquire() as conn, conn.transaction():
            state = await self._repo.load(conn, client_id)
            if state is None:
                raise ClientNotFound(f"no intake case {client_id}")
            events = decide(state)
            new_state = await self._commit(conn, client_id, state, events)
        return Outcome(new_state, events)

    async def get(self, client_id: str) -> IntakeCase:
        async with self._pool.acquire() as conn:
            state = await self._repo.load(conn, client_id)
        if state is None:
            raise ClientNotFound(f"no intake case {client_id}")
        return state

    async def erase(
        self, client_id: str, *, reason: ErasureReason, note: str, ctx: Context, erased_on: date
    ) -> Outcome:
        """Erase the client's personal data: delete their key (the vault row stays as a
        tombstone), delete the pseudonym of their identity code, and record
        ``ClientDataErased`` so the other services erase their copies. One transaction."""
        async with self._pool.acquire() as conn, conn.transaction():
            return await erase_client(
                conn, self._repo, client_id, reason=reason, note=note, ctx=ctx, erased_on=erased_on
            )

    async def set_legal_hold(self, client_id: str, hold: bool) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            if await self._repo.load(conn, client_id) is None:
                raise ClientNotFound(f"no intake case {client_id}")
            await erasure.set_legal_hold(conn, client_id, hold)

    async def erase_expired(
        self, today: date, ctx: Context, *, conn: asyncpg.Connection | None = None
    ) -> list[str]:
        """The retention sweep (:func:`erase_expired`), on ``conn`` if given."""
        if conn is not None:
            return await erase_expired(conn, self._repo, today, ctx=ctx)
        async with self._pool.acquire() as own:
            return await erase_expired(own, self._repo, today, ctx=ctx)

    async def schedule_session(
        self, *, starts_at: datetime, place: str, capacity: int, ctx: Context
    ) -> sessions.InfoSession:
        session_id = f"info-session-{uuid4()}"
        events = sessions.schedule_session(
            session_id=session_id,
            starts_at=starts_at,
            place=place,
            capacity=capacity,
            ctx=ctx,
        )
        session = sessions.InfoSession(session_id, starts_at, place, capacity, 0)
        async with self._pool.acquire() as conn, conn.transaction():
            await self._repo.store.append(session_id, 0, events, conn=conn)
            await self._repo.add_session(conn, session)
        return session

    async def invite(self, session_id: str, client_id: str, ctx: Context) -> Outcome:
        """The session row is locked while deciding, so two invitations cannot both take
        its last place."""
        async with self._pool.acquire() as conn, conn.transaction():
            session = await self._repo.lock_session(conn, session_id)
            if session is None:
                raise SessionNotFound(f"no info session {session_id}")
            state = await self._repo.load(conn, client_id)
            if state is None:
                raise ClientNotFound(f"no intake case {client_id}")
            events = sessions.invite(state, session, ctx=ctx)
            new_state = await self._commit(conn, client_id, state, events)
            if events:
                await self._repo.take_place(conn, session_id)
        return Outcome(new_state, events)

    async def _commit(
        self, conn: asyncpg.Connection, client_id: str, state: IntakeCase | None, events: list[EventBase]
    ) -> IntakeCase:
        if not events:
            assert state is not None
            return state
        await self._repo.store.append(client_id, state.version if state else 0, events, conn=conn)
        new_state = fold(events, state)
        if new_state is None:
            raise DomainError("the events did not open an intake case")
        await self._repo.save_overview(conn, new_state)
        return new_state


async def erase_client(
    conn: asyncpg.Connection,
    repo: IntakeRepository,
    client_id: str,
    *,
    reason: ErasureReason,
    note: str,
    ctx: Context,
    erased_on: date,
) -> Outcome:
    """Inside a transaction: erase one client (see :meth:`IntakeService.erase`)."""
    state = await repo.load(conn, client_id)
    if state is None:
        raise ClientNotFound(f"no intake case {client_id}")
    if not await erasure.delete_key(conn, client_id, f"{reason.value}: {note}" if note else reason.value):
        raise AlreadyErased(f"the personal data of {client_id} is already erased")
    await repo.forget_client(conn, client_id)
    events: list[EventBase] = [
        ClientDataErased(
            **ctx.envelope(client_id, state.version + 1),
            municipality=state.municipality,
            reason=reason,
            erased_on=erased_on,
        )
    ]
    await repo.store.append(client_id, state.version, events, conn=conn)
    new_state = fold(events, state)
    assert new_state is not None
    await repo.save_overview(conn, new_state)
    return Outcome(new_state, events)


async def erase_expired(
    conn: asyncpg.Connection, repo: IntakeRepository, today: date, *, ctx: Context
) -> list[str]:
    """Erase every client whose relationship closed more than four years before
    ``today`` and who is not under a legal hold; one transaction per client, which checks
    again, holding the client's vault row, that the client is still due (a legal hold set
    meanwhile wins). A client that cannot be erased is logged and left for the next
    sweep; the others go on. Returns the clients erased now."""
    erased: list[str] = []
    for client_id in await erasure.expired_clients(conn, today):
        try:
            async with conn.transaction():
                if not await erasure.still_expired(conn, client_id, today):
                    continue  # held, or erased, since the list was made
                try:
                    await erase_client(
                        conn,
                        repo,
                        client_id,
                        reason=ErasureReason.RETENTION_EXPIRED,
                        note=f"relationship closed more than {erasure.RETENTION_YEARS} years before {today}",
                        ctx=ctx,
                        erased_on=today,
                    )
                except ClientNotFound:
                    # No intake case here (not this installation's client): the key still goes.
                    await erasure.delete_key(conn, client_id, ErasureReason.RETENTION_EXPIRED.value)
        except Exception:
            log.exception("retention: could not erase %s; the next sweep tries again", client_id)
            continue
        erased.append(client_id)
    return erased
