"""Guidance's use cases: load the case, let the domain decide, append the events and
update the read model in one transaction; and open cases from intake's events, exactly
once, inside the consumer's transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from uuid import uuid4

import asyncpg

from contracts.base import Actor, EventBase
from contracts.envelope import CloudEventEnvelope
from contracts.guidance import ClientRelationshipClosed
from contracts.intake import (
    AssessmentCompleted,
    ClientDataErased,
    ClientReferred,
    ConsentGiven,
    ConsentWithdrawn,
)
from runtime import clock, erasure
from runtime.decision import Context
from runtime.eventstore import ConcurrencyConflict
from services.guidance.domain import guides, opening
from services.guidance.domain.case import GuidanceCase, fold
from services.guidance.domain.closure import CloseRelationship, close
from services.guidance.domain.errors import DomainError
from services.guidance.domain.guides import Guide
from services.guidance.repository import SCHEMA, ConsentCopy, GuidanceRepository, counted_guide

#: Who acts when guidance reacts to another service's event.
GUIDANCE_SYSTEM = Actor(person_id="system:guidance", role="system", organisation="centre")


class CaseNotFound(LookupError):
    pass


class GuideNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Outcome:
    state: GuidanceCase
    events: list[EventBase]


class GuidanceService:
    def __init__(self, pool: asyncpg.Pool, repository: GuidanceRepository, *, caseload_limit: int) -> None:
        self._pool = pool
        self.repo = repository
        self.caseload_limit = caseload_limit

    async def execute(self, client_id: str, decide: Callable[[GuidanceCase], list[EventBase]]) -> Outcome:
        async with self.repo.store.transaction() as conn:
            state = await self._existing(conn, client_id)
            events = decide(state)
            return Outcome(await self.commit(conn, client_id, state, events), events)

    async def disclosing(
        self, client_id: str, decide: Callable[[GuidanceCase, Sequence[ConsentCopy]], list[EventBase]]
    ) -> Outcome:
        """As :meth:`execute`, for a command the disclosure policy decides: ``decide`` also
        gets the client's consents, read in the same transaction."""
        async with self.repo.store.transaction() as conn:
            state = await self._existing(conn, client_id)
            events = decide(state, await self.repo.consents(conn, client_id))
            return Outcome(await self.commit(conn, client_id, state, events), events)

    async def get(self, client_id: str) -> GuidanceCase:
        async with self._pool.acquire() as conn:
            return await self._existing(conn, client_id)

    async def history(self, client_id: str) -> tuple[GuidanceCase, list[EventBase]]:
        """The case and the events it is folded from, in one read (the timeline's)."""
        async with self._pool.acquire() as conn:
            events = await self.repo.store.load_events(client_id, conn=conn)
        state = fold(events)
        if state is None:
            raise CaseNotFound(f"no guidance case {client_id}")
        return state, events

    async def assign(
        self, client_id: str, guide_id: str, *, assigned_on: date, override_reason: str | None, ctx: Context
    ) -> Outcome:
        """The new guide's row and the case's current guide's row are both locked while
        deciding, in ``person_id`` order: two assignments cannot both take the new
        guide's last place under the caseload limit, and two swaps in opposite
        directions (A to B and B to A) wait for each other instead of deadlocking on
        the caseload updates."""
        async with self.repo.store.transaction() as conn:
            state = await self._existing(conn, client_id)
            locked = await self._lock_guides(conn, {guide_id, *([state.guide] if state.guide else [])})
            guide = locked.get(guide_id)
            if guide is None:
                raise GuideNotFound(f"no guide {guide_id}; add them with POST /guides")
            # The case may have changed while we waited for the locks: decide on its
            # state now, whose guide must be among the rows we hold.
            fresh = await self._existing(conn, client_id)
            if fresh.version != state.version and fresh.guide not in (None, *locked):
                raise ConcurrencyConflict(client_id, state.version, fresh.version)
            events = guides.assign_guide(
                fresh,
                guide,
                limit=self.caseload_limit,
                assigned_on=assigned_on,
                override_reason=override_reason,
                ctx=ctx,
            )
            return Outcome(await self.commit(conn, client_id, fresh, events), events)

    async def _lock_guides(self, conn: asyncpg.Connection, person_ids: set[str]) -> dict[str, Guide]:
        """Lock the guides' rows one by one in ``person_id`` order (every transaction
        that locks more than one guide does so in this order); unknown ids are left out."""
        locked: dict[str, Guide] = {}
        for person_id in sorted(person_ids):
            row = await self.repo.lock_guide(conn, person_id)
            if row is not None:
                locked[person_id] = row
        return locked

    async def close(self, client_id: str, command: CloseRelationship, ctx: Context) -> Outcome:
        async with self.repo.store.transaction() as conn:
            state = await self._existing(conn, client_id)
            identity = await self.repo.client(conn, client_id)
            vault = await erasure.vault_status(conn, client_id) if identity is None else None
            if vault is not None and vault["erased_at"] is not None:
                # Erased: the final assessment names nobody (ADR 11).
                events = close(state, command, personal_identity_code=erasure.ERASED, ctx=ctx)
                return Outcome(await self.commit(conn, client_id, state, events), events)
            if identity is None:
                raise DomainError(
                    f"guidance has not received {client_id}'s referral from intake, so the final "
                    "assessment cannot name the client for URA; try again shortly"
                )
            events = close(state, command, personal_identity_code=identity.personal_identity_code, ctx=ctx)
            return Outcome(await self.commit(conn, client_id, state, events), events)

    async def _existing(self, conn: asyncpg.Connection, client_id: str) -> GuidanceCase:
        state = await self.repo.load(conn, client_id)
        if state is None:
            raise CaseNotFound(f"no guidance case {client_id}")
        return state

    async def commit(
        self, conn: asyncpg.Connection, client_id: str, state: GuidanceCase | None, events: list[EventBase]
    ) -> GuidanceCase:
        if not events:
            assert state is not None
            return state
        new_state = fold(events, state)
        assert new_state is not None
        # Lock the caseload rows this change moves, in person_id order and before the
        # append, as assign() does: the guides' rows are always taken first, in one order.
        moved = {counted_guide(state), counted_guide(new_state)}
        if len(moved) > 1:
            await self._lock_guides(conn, {g for g in moved if g})
        for event in events:
            if isinstance(event, ClientRelationshipClosed):
                # The retention period of the client's personal data runs from here. Before
                # the append: the append holds the client's key row shared (ADR 12), and a
                # transaction that then updates that row would deadlock with another one
                # appending to the same client.
                await erasure.record_closure(conn, client_id, event.closed_on)
        await self.repo.store.append(client_id, state.version if state else 0, events, conn=conn)
        await self.repo.save(conn, state, new_state)
        return new_state


class IntakeEventsConsumer:
    """Guidance's consumer of intake's events (a :class:`runtime.consumer.Projection`):
    ``ClientReferred`` fills the client directory; consents are kept for the disclosure
    policy; ``AssessmentCompleted`` opens a case.
    Runs inside the exactly-once consumer's transaction, so each happens once."""

    name = "guidance-intake"
    schema = SCHEMA

    def __init__(self, service: GuidanceService) -> None:
        self._service = service

    async def create(self, conn: asyncpg.Connection) -> None:
        return None

    async def apply(self, conn: asyncpg.Connection, event: EventBase, envelope: CloudEventEnvelope) -> None:
        if isinstance(event, ClientReferred):
            await self._service.repo.remember_client(conn, event)
        elif isinstance(event, ConsentGiven):
            await self._service.repo.remember_consent(conn, event)
        elif isinstance(event, ConsentWithdrawn):
            await self._service.repo.withdraw_consent(conn, event)
        elif isinstance(event, ClientDataErased):
            await self._service.repo.forget_client(conn, event.stream_id)
        elif isinstance(event, AssessmentCompleted):
            state = await self._service.repo.load(conn, event.stream_id)
            ctx = Context(
                actor=GUIDANCE_SYSTEM,
                now=clock.now(),
                correlation_id=event.correlation_id,
                causation_id=event.event_id,
                new_id=uuid4,
            )
            events = opening.open_case(state, event, ctx=ctx)
            if events:  # a route that leaves the centre opens nothing, and there may be no case
                await self._service.commit(conn, event.stream_id, state, events)
