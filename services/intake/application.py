"""Intake's use cases: load the case, let the domain decide, append the events and
update the read model, all in one transaction. Nothing is half-written on any error.

Over 400 lines because :class:`IntakeService` is intake's one application service: its
use cases share the one load-decide-append step (``_commit``) and the read model it updates.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from uuid import uuid4

import asyncpg

from contracts.base import EventBase
from contracts.intake import (
    ClientDataErased,
    ErasureReason,
    IntakeTargetSet,
    PossibleDuplicateResolution,
    ReferralHeldAsPossibleDuplicate,
)
from runtime import erasure
from runtime.access_log import AccessLog
from runtime.decision import Context
from runtime.eventstore import ConcurrencyConflict
from runtime.purposes import PurposeCode, ReadPurpose
from services.intake.domain import duplicates, referral, sessions, targets
from services.intake.domain.case import IntakeCase, fold
from services.intake.domain.errors import AlreadyErased, DomainError
from services.intake.identity import (
    InvalidIdentityCode,
    birth_date,
    identity_key,
    look_alike_key,
    parse,
)
from services.intake.repository import HoldRow, IntakeRepository

log = logging.getLogger(__name__)


class ClientNotFound(LookupError):
    pass


class SessionNotFound(LookupError):
    pass


class PossibleDuplicateNotFound(LookupError):
    pass


#: What the access log says of every identity-code lookup made by a referral.
IDENTITY_LOOKUP = "identity code lookup by a referral"
#: the purpose of a referral's identity-code lookup when the caller names none
REGISTERING = ReadPurpose(PurposeCode.INTAKE, "registering a referral")


class ReferralKind(StrEnum):
    """What registering a referral did."""

    NEW_CASE = "new_case"
    #: a different referral of a known client, recorded on their case
    RECORDED_ON_EXISTING_CASE = "recorded_on_existing_case"
    #: the same referral again: nothing written
    ALREADY_PRESENT = "already_present"
    #: held for the intake advisor: it may be of a known client (ADR 0019)
    POSSIBLE_DUPLICATE = "possible_duplicate"


@dataclass(frozen=True)
class Registered:
    """The outcome of registering a referral. ``referral_id`` is a receipt that tells
    nothing about the person (the request's correlation id, which its events carry);
    ``client_id`` is the case it opened or was recorded on (None when held)."""

    referral_id: str
    kind: ReferralKind
    client_id: str | None
    stream_version: int | None
    events: list[EventBase]


@dataclass(frozen=True)
class Outcome:
    state: IntakeCase
    events: list[EventBase]
    created: bool = False


class IntakeService:
    def __init__(
        self,
        pool: asyncpg.Pool,
        repository: IntakeRepository,
        municipalities: tuple[str, ...],
        access_log: AccessLog | None = None,
    ) -> None:
        self._pool = pool
        self._repo = repository
        self.municipalities = municipalities
        self._access_log = access_log

    async def register_referral(
        self, command: referral.RegisterReferral, ctx: Context, *, purpose: ReadPurpose = REGISTERING
    ) -> Registered:
        """One intake case per client, found by a keyed pseudonym of their identity code;
        a referral that may be of a known client (another name on the code's case, or a
        new code with a known client's name and birth date) is held as a possible
        duplicate. The lookup is recorded in the access log in the same transaction."""
        code = parse(command.client.personal_identity_code)
        if code != command.client.personal_identity_code:
            command = replace(
                command, client=command.client.model_copy(update={"personal_identity_code": code})
            )
        referral_id = f"referral-{ctx.correlation_id}"
        async with self._repo.store.transaction() as conn:
            key = identity_key(code, await self._repo.identity_secret(conn))
            name = command.client
            alike_key = look_alike_key(
                name.first_name, name.last_name, birth_date(code), await self._repo.look_alike_secret(conn)
            )
            found = await self._repo.referral_lookup(
                conn,
                identity_key=key,
                look_alike_key=alike_key,
                source=command.source.value,
                referral_date=command.referral_date,
            )
            existing, look_alikes, held_before = found.existing, found.look_alikes, found.held_before
            state = await self._repo.load(conn, existing) if existing else None
            client_id = existing or f"client-{uuid4()}"
            held_id = f"client-{uuid4()}"
            events = referral.register_referral(
                state,
                command,
                client_id=client_id,
                municipalities=self.municipalities,
                ctx=ctx,
                held_id=held_id,
                look_alikes=look_alikes,
                already_held=held_before is not None,
            )
            looked_up = [c for c in (existing, *look_alikes) if c]
            if referral.possible_duplicate(state, command, tuple(c for c in look_alikes if c != existing)):
                looked_up.append(held_id if events else (held_before or held_id))
                if events:
                    held = events[0]
                    assert isinstance(held, ReferralHeldAsPossibleDuplicate)
                    await self._repo.store.append_all(
                        [(held_id, 0, events), self._lookup_entry(ctx, looked_up, purpose)], conn=conn
                    )
                    await self._repo.hold(
                        conn,
                        referral_id=held_id,
                        identity_key=key,
                        source=command.source.value,
                        referral_date=command.referral_date,
                        municipality=held.municipality,  # as the configuration spells it
                        reason=held.reason.value,
                        candidates=held.candidate_client_ids,
                        held_at=ctx.now,
                    )
                else:  # held before, and held again: nothing new is written but the lookup
                    await self._repo.store.append_all(
                        [self._lookup_entry(ctx, looked_up, purpose)], conn=conn
                    )
                result = Registered(referral_id, ReferralKind.POSSIBLE_DUPLICATE, None, None, events)
            else:
                looked_up.append(client_id)
                if state is None:
                    await self._remember(conn, key, alike_key, client_id)
                new_state = await self._commit(
                    conn, client_id, state, events, also=[self._lookup_entry(ctx, looked_up, purpose)]
                )
                kind = (
                    ReferralKind.NEW_CASE
                    if state is None
                    else ReferralKind.RECORDED_ON_EXISTING_CASE
                    if events
                    else ReferralKind.ALREADY_PRESENT
                )
                result = Registered(referral_id, kind, client_id, new_state.version, events)
        return result

    def _lookup_entry(
        self, ctx: Context, looked_up: list[str], purpose: ReadPurpose
    ) -> tuple[str, int, list[EventBase]]:
        """The access-log entry of a referral's identity lookup, to append in the same
        statement as the referral's own events (none without an access log)."""
        if self._access_log is None:
            return ("", 0, [])
        stream_id, entries = self._access_log.entry(
            ctx.actor, looked_up, what=IDENTITY_LOOKUP, purpose=purpose, correlation_id=ctx.correlation_id
        )
        return (stream_id, 0, list(entries))

    async def _remember(self, conn: asyncpg.Connection, key: str, alike_key: str, client_id: str) -> None:
        """A new client's pseudonym and look-alike key, in one statement; a conflict to
        retry if the same person was registered at the same moment by someone else."""
        if not await self._repo.remember_new_client(conn, key, alike_key, client_id):
            raise ConcurrencyConflict(client_id, 0, None)

    async def backfill_look_alikes(self, *, batch: int = 200) -> int:
        """Give each client registered before look-alike keys existed (ADR 19) their key,
        one pass in client-id order, a batch per transaction. Idempotent and safe beside
        other replicas. A case whose code has no valid birth date (accepted before the
        rules of ADR 19) gets none. Returns how many keys were made."""
        made, after = 0, ""
        while True:
            async with self._repo.store.transaction() as conn:
                ids = await self._repo.without_look_alike(conn, after=after, limit=batch)
                if not ids:
                    return made
                secret = await self._repo.look_alike_secret(conn)
                for client_id in ids:
                    state = await self._repo.load(conn, client_id)
                    if state is None:
                        continue
                    c = state.client
                    try:
                        born = birth_date(c.personal_identity_code)
                    except InvalidIdentityCode:
                        continue
                    key = look_alike_key(c.first_name, c.last_name, born, secret)
                    await self._repo.remember_look_alike(conn, key, client_id)
                    made += 1
                after = ids[-1]

    async def possible_duplicates(self, *, limit: int = 200) -> list[tuple[HoldRow, duplicates.HeldReferral]]:
        """The referrals held for the intake advisor, oldest first, with their contents."""
        async with self._pool.acquire() as conn:
            rows = await self._repo.open_holds(conn, limit=limit)
            found = []
            for row in rows:
                held = duplicates.fold_held(await self._repo.store.load_events(row.referral_id, conn=conn))
                if held is not None:
                    found.append((row, held))
        return found

    async def resolve_possible_duplicate(
        self,
        referral_id: str,
        resolution: PossibleDuplicateResolution,
        *,
        client_id: str | None,
        ctx: Context,
    ) -> duplicates.Resolution:
        """Resolve a held referral in one transaction: record it on the candidate's case,
        open its own case, or dismiss it; then delete the held copy's key, so its names
        live on only where the referral went."""
        async with self._repo.store.transaction() as conn:
            locked = await self._repo.lock_hold(conn, referral_id)
            held = (
                duplicates.fold_held(await self._repo.store.load_events(referral_id, conn=conn))
                if locked
                else None
            )
            if locked is None or held is None:
                raise PossibleDuplicateNotFound(f"no possible duplicate {referral_id}")
            key, _ = locked
            case = await self._repo.load(conn, client_id) if client_id else None
            own_id = await self._repo.find_client(conn, key)
            own_case = await self._repo.load(conn, own_id) if own_id else None
            new_client_id = f"client-{uuid4()}"
            decided = duplicates.resolve(
                held,
                resolution,
                client_id=client_id,
                case=case,
                new_client_id=new_client_id,
                ctx=ctx,
                own_case=own_case,
            )
            target = case if decided.case_id == client_id else own_case
            await self._repo.store.append(referral_id, held.version, decided.held_events, conn=conn)
            if decided.case_id is not None and decided.case_events:
                if target is None:  # a case of its own
                    code = held.held.client.personal_identity_code
                    alike_key = look_alike_key(
                        held.held.client.first_name,
                        held.held.client.last_name,
                        birth_date(code),
                        await self._repo.look_alike_secret(conn),
                    )
                    await self._remember(conn, key, alike_key, decided.case_id)
                await self._commit(conn, decided.case_id, target, decided.case_events)
            await self._repo.resolve_hold(
                conn,
                referral_id,
                resolution=resolution.value,
                client_id=decided.case_id,
                by=ctx.actor.person_id,
                at=ctx.now,
            )
            await erasure.delete_key(conn, referral_id, f"possible duplicate resolved: {resolution.value}")
        return decided

    async def execute(self, client_id: str, decide: Callable[[IntakeCase], list[EventBase]]) -> Outcome:
        async with self._repo.store.transaction() as conn:
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

    async def history(self, client_id: str) -> tuple[IntakeCase, list[EventBase]]:
        """The case and the events it is folded from, in one read (the timeline's)."""
        async with self._pool.acquire() as conn:
            events = await self._repo.store.load_events(client_id, conn=conn)
        state = fold(events)
        if state is None:
            raise ClientNotFound(f"no intake case {client_id}")
        return state, events

    async def cases(self, client_ids: list[str]) -> dict[str, IntakeCase]:
        """The intake cases of ``client_ids`` that exist (an erased one reads `[erased]`)."""
        found: dict[str, IntakeCase] = {}
        async with self._pool.acquire() as conn:
            for client_id in client_ids:
                state = await self._repo.load(conn, client_id)
                if state is not None:
                    found[client_id] = state
        return found

    async def erase(
        self, client_id: str, *, reason: ErasureReason, note: str, ctx: Context, erased_on: date
    ) -> Outcome:
        """Erase the client's personal data: delete their key (the vault row stays as a
        tombstone), delete the pseudonym of their identity code, and record
        ``ClientDataErased`` so the other services erase their copies. One transaction."""
        async with self._repo.store.transaction() as conn:
            return await erase_client(
                conn, self._repo, client_id, reason=reason, note=note, ctx=ctx, erased_on=erased_on
            )

    async def set_legal_hold(self, client_id: str, hold: bool) -> None:
        async with self._repo.store.transaction() as conn:
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

    async def set_intake_target(self, command: targets.SetIntakeTarget, ctx: Context) -> IntakeTargetSet:
        """Append the steering group's target for a year to that year's stream. Two
        settings at once: one wins, the other is a conflict (409, retryable)."""
        stream = targets.stream_id(command.year)
        async with self._repo.store.transaction() as conn:
            version = len(await self._repo.store.read_stream(stream, conn=conn))
            (event,) = targets.set_target(command, version=version, ctx=ctx)
            await self._repo.store.append(stream, version, [event], conn=conn)
        assert isinstance(event, IntakeTargetSet)
        return event

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
        async with self._repo.store.transaction() as conn:
            await self._repo.store.append(session_id, 0, events, conn=conn)
            await self._repo.add_session(conn, session)
        return session

    async def invite(self, session_id: str, client_id: str, ctx: Context) -> Outcome:
        """The session row is locked while deciding, so two invitations cannot both take
        its last place."""
        async with self._repo.store.transaction() as conn:
            session = await self._repo.lock_session(conn, session_id)
            if session is None:
                raise SessionNotFound(f"no info session {session_id}")
            state = await self._repo.load(conn, client_id)
            if state is None:
                # The client is named in the body, not the path: the session is found,
                # and the invitation is refused (409), not a missing resource (404).
                raise DomainError(f"no intake case {client_id}: refer the client before inviting them")
            events = sessions.invite(state, session, ctx=ctx)
            new_state = await self._commit(conn, client_id, state, events)
            if events:
                await self._repo.take_place(conn, session_id)
        return Outcome(new_state, events)

    async def _commit(
        self,
        conn: asyncpg.Connection,
        client_id: str,
        state: IntakeCase | None,
        events: list[EventBase],
        *,
        also: Sequence[tuple[str, int, Sequence[EventBase]]] = (),
    ) -> IntakeCase:
        """Append the case's events (with ``also``, other streams' appends, in the same
        statement) and save its overview."""
        await self._repo.store.append_all(
            [(client_id, state.version if state else 0, events), *also], conn=conn
        )
        if not events:
            assert state is not None
            return state
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
