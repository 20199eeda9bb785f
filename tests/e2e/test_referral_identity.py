"""Referrals against real NATS and PostgreSQL: one identity code is one client however it
is spelled; a referral reveals nothing to a caller who may not read the client; a name
that does not match is a possible duplicate, written onto no case, and every lookup is
in the access log; the intake advisor resolves possible duplicates."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from services.intake.app import create_app as intake_app
from services.intake.application import IDENTITY_LOOKUP
from tests.support.apps import eventually, running
from tests.support.auth import headers
from tests.support.factories import HEADERS, identity_code, referral_request
from tests.support.problems import invalid_fields

pytestmark = pytest.mark.integration

SOCIAL_WORKER = headers("social_worker", "sw-1", "social_services:mikkeli")
SECRETARY = headers("office_secretary", "secretary-1", "centre")


def other_digits(code: str, zero: int) -> str:
    """``code`` with its ASCII digits written in another script (``zero``: its digit 0)."""
    return "".join(chr(zero + int(c)) if c in "0123456789" else c for c in code)


def named(body: dict[str, Any], first: str, last: str, code: str | None = None) -> dict[str, Any]:
    body["client"] = {
        "first_name": first,
        "last_name": last,
        "personal_identity_code": code or body["client"]["personal_identity_code"],
    }
    return body


async def lookups(pool: Any, actor: str) -> list[dict[str, Any]]:
    """The access log's identity-code lookups by ``actor``, oldest first."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT envelope->'data' AS data FROM intake.events WHERE event_type = 'ClientDataAccessed'"
            " AND envelope->'data'->'actor'->>'person_id' = $1 ORDER BY global_position",
            actor,
        )
    return [d for d in (json.loads(r["data"]) for r in rows) if d["what"] == IDENTITY_LOOKUP]


async def stream(pool: Any, stream_id: str) -> list[str]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT event_type FROM intake.events WHERE stream_id = $1 ORDER BY stream_version", stream_id
        )
    return [r["event_type"] for r in rows]


async def test_four_spellings_of_one_identity_code_give_one_client_or_a_422_naming_the_field(
    settings, pool
) -> None:
    code = identity_code(date(1990, 1, 1))
    async with running(intake_app(settings)) as intake:
        first = await intake.post("/referrals", json=referral_request(code=code), headers=HEADERS)
        assert first.status_code == 201, first.text
        client_id = first.json()["client_id"]
        for spelling in (code.lower(), f"  {code} ", f"{code.lower()}\t"):
            same = await intake.post("/referrals", json=referral_request(code=spelling), headers=HEADERS)
            assert same.status_code == 200, same.text
            assert (same.json()["client_id"], same.json()["outcome"]) == (client_id, "already_present")
        for zero in (0x0660, 0x09E6, 0xFF10):  # Arabic-Indic, Bengali, fullwidth digits
            spelling = other_digits(code, zero)
            refused = await intake.post("/referrals", json=referral_request(code=spelling), headers=HEADERS)
            assert refused.status_code == 422, refused.text
            assert invalid_fields(refused) == [("body", "client.personal_identity_code")]
            assert spelling not in refused.text and code not in refused.text, "the value is never echoed"
        impossible = await intake.post(
            "/referrals", json=referral_request(code="300210A901L"), headers=HEADERS
        )
        assert impossible.status_code == 422 and "birth date" in impossible.text
        assert "300210A901L" not in impossible.text
        listed = "personal_identity_code;first_name;last_name;municipality;referral_date\n" + "".join(
            f"{s};Maija;Meikäläinen;Mikkeli;2010-03-01\n" for s in (code.lower(), other_digits(code, 0xFF10))
        )
        imported = (
            await intake.post(
                "/referrals/import", content=listed.encode(), headers={**HEADERS, "content-type": "text/csv"}
            )
        ).json()
        assert (imported["new_cases"], imported["already_present"]) == (0, 1)
        assert [e["line"] for e in imported["errors"]] == [3]
        assert imported["errors"][0]["field"] == "personal_identity_code"
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM intake.case_overview") == 1


async def test_a_known_code_with_another_name_is_a_possible_duplicate_written_on_no_case_and_logged(
    settings, pool
) -> None:
    code = identity_code()
    async with running(intake_app(settings)) as intake:
        first = await intake.post("/referrals", json=referral_request(code=code), headers=HEADERS)
        client_id = first.json()["client_id"]
        before = await stream(pool, client_id)
        other = named(referral_request("self_referral", code=code), "Mikko", "Korhonen")
        held = await intake.post("/referrals", json=other, headers=HEADERS)
        assert held.status_code == 202, held.text
        answer = held.json()
        assert (answer["outcome"], answer["client_id"]) == ("possible_duplicate", None)
        assert client_id not in held.text
        again = await intake.post("/referrals", json=other, headers=HEADERS)
        assert again.json()["outcome"] == "possible_duplicate" and again.json()["event_ids"] == []
        case = (await intake.get(f"/clients/{client_id}", headers=HEADERS)).json()
        assert case["duplicate_referrals"] == 0 and case["client"]["first_name"] == "Maija"
    assert await stream(pool, client_id) == before == ["ClientReferred"], "nothing written on the case"
    logged = await lookups(pool, "advisor-1")
    assert len(logged) == 3, "every lookup is in the access log"
    assert all(client_id in entry["client_ids"] for entry in logged)
    assert {entry["correlation_id"] for entry in logged} == {
        a["referral_id"].removeprefix("referral-") for a in (first.json(), answer, again.json())
    }


async def test_a_caller_who_may_not_read_the_client_learns_nothing_from_the_answer(settings, pool) -> None:
    known, look_alike = identity_code(date(1980, 5, 5)), identity_code(date(1980, 5, 5))
    async with running(intake_app(settings)) as intake:
        first = await intake.post("/referrals", json=referral_request(code=known), headers=HEADERS)
        client_id = first.json()["client_id"]
        bodies = {
            "new person": referral_request("social_services", code=identity_code()),
            "known client": referral_request("social_services", code=known),
            "the same referral again": referral_request("social_services", code=known),
            "known code, other name": named(referral_request("social_services", code=known), "Aino", "Aalto"),
            "other code, known name and birth date": referral_request("social_services", code=look_alike),
        }
        answers = {
            what: await intake.post("/referrals", json=b, headers=SOCIAL_WORKER) for what, b in bodies.items()
        }
        for what, response in answers.items():
            assert response.status_code == 202, f"{what}: {response.status_code}"
            assert set(response.json()) == {"referral_id", "status"}, what
            assert response.json()["status"] == "received", what
            assert "client-" not in response.text, f"{what}: no client id"
        receipts = {r.json()["referral_id"] for r in answers.values()}
        assert len(receipts) == len(answers), "a fresh receipt every time"
        assert {h for r in answers.values() for h in r.headers} == {h for h in answers["new person"].headers}
        # The referrals of the known client took effect as for anyone else.
        case = (await intake.get(f"/clients/{client_id}", headers=HEADERS)).json()
        assert case["duplicate_referrals"] == 1
        listed = (await intake.get("/possible-duplicates", headers=HEADERS)).json()
        assert len(listed) == 2
        assert (await intake.get("/possible-duplicates", headers=SOCIAL_WORKER)).status_code == 403
    logged = await lookups(pool, "sw-1")
    assert len(logged) == len(answers)
    assert sum(client_id in entry["client_ids"] for entry in logged) == 4


async def test_the_intake_advisor_lists_possible_duplicates_and_resolves_them(settings, pool) -> None:
    born = date(1975, 7, 7)
    existing, same_person, other_person = identity_code(born), identity_code(born), identity_code(born)
    async with running(intake_app(settings)) as intake:
        body = named(referral_request(code=existing), "Anna-Liisa", "Mäki")
        client_id = (await intake.post("/referrals", json=body, headers=SECRETARY)).json()["client_id"]
        # Two new codes with the same name (spelled otherwise) and birth date; one known
        # code with another name.
        held = []
        for code, first, last, source in (
            (same_person, "anna liisa", "MAKI", "self_referral"),
            (other_person, "Anna-Liisa", "Mäki", "te_office"),
            (existing, "Liisa", "Mäkelä", "self_referral"),
        ):
            answer = await intake.post(
                "/referrals", json=named(referral_request(source, code=code), first, last), headers=HEADERS
            )
            assert answer.json()["outcome"] == "possible_duplicate", answer.text
            held.append(answer)
        listed = (await intake.get("/possible-duplicates", headers=HEADERS)).json()
        assert [(d["reason"], d["name"]["last_name"]) for d in listed] == [
            ("same_name_and_birth_date", "MAKI"),
            ("same_name_and_birth_date", "Mäki"),
            ("same_code_other_name", "Mäkelä"),
        ]
        assert all([c["client_id"] for c in d["candidates"]] == [client_id] for d in listed)
        assert listed[0]["candidates"][0]["name"] == {"first_name": "Anna-Liisa", "last_name": "Mäki"}
        to_merge, to_open, to_dismiss = (d["referral_id"] for d in listed)

        def resolve(referral_id: str, resolution: str, client: str | None = None) -> Any:
            payload = {"resolution": resolution, "client_id": client}
            return intake.post(
                f"/possible-duplicates/{referral_id}/resolution", json=payload, headers=HEADERS
            )

        assert (await resolve(to_merge, "same_person", "client-nobody")).status_code == 409
        assert (await resolve("client-nope", "different_people")).status_code == 404
        assert (await resolve(to_merge, "same_person", client_id)).json()["client_id"] == client_id
        opened = (await resolve(to_open, "different_people")).json()["client_id"]
        assert opened not in (None, client_id)
        dismissed = await resolve(to_dismiss, "different_people")
        assert dismissed.status_code == 200 and dismissed.json()["client_id"] is None
        assert (await resolve(to_merge, "different_people")).status_code == 409, "resolved once"
        assert (await intake.get("/possible-duplicates", headers=HEADERS)).json() == []

        case = (await intake.get(f"/clients/{client_id}", headers=HEADERS)).json()
        assert (case["duplicate_referrals"], case["client"]["last_name"]) == (1, "Mäki")
        again = await intake.post(
            "/referrals",
            json=named(referral_request("te_office", code=other_person), "Anna-Liisa", "Mäki"),
            headers=HEADERS,
        )
        assert (again.json()["outcome"], again.json()["client_id"]) == ("already_present", opened)
    async with pool.acquire() as conn:
        for referral_id in (to_merge, to_open, to_dismiss):
            assert await stream(pool, referral_id) == [
                "ReferralHeldAsPossibleDuplicate",
                "PossibleDuplicateResolved",
            ]
            key = await conn.fetchval("SELECT key FROM keys.client_keys WHERE client_id = $1", referral_id)
            assert key is None, "the held copy of the names is erased once resolved"
        envelope = await conn.fetchval(
            "SELECT envelope::text FROM intake.events WHERE stream_id = $1 AND stream_version = 1", to_merge
        )
        assert "MAKI" not in envelope and same_person not in envelope, "sealed at rest"
        listings = await conn.fetch(
            "SELECT envelope->'data'->'client_ids' AS ids FROM intake.events"
            " WHERE event_type = 'ClientDataAccessed' AND envelope->'data'->>'what' = 'possible duplicates'"
        )
    assert len(listings) == 1, "the listing that showed the held referrals is in the access log"
    assert set(json.loads(listings[0]["ids"])) == {to_merge, to_open, to_dismiss, client_id}


async def test_clients_registered_before_look_alike_keys_existed_are_found_after_a_restart(
    settings, pool
) -> None:
    born = date(1966, 6, 6)
    earlier, later = identity_code(born), identity_code(born)
    async with running(intake_app(settings)) as intake:
        first = await intake.post("/referrals", json=referral_request(code=earlier), headers=HEADERS)
        client_id = first.json()["client_id"]
    async with pool.acquire() as conn:  # as a client registered before this change
        await conn.execute("DELETE FROM intake.look_alike_keys WHERE client_id = $1", client_id)

    async def keys() -> int:
        async with pool.acquire() as conn:
            found: int = await conn.fetchval(
                "SELECT count(*) FROM intake.look_alike_keys WHERE client_id = $1", client_id
            )
            return found

    async with running(intake_app(settings)) as intake:
        await eventually(keys, lambda n: n == 1)
        answer = await intake.post("/referrals", json=referral_request(code=later), headers=HEADERS)
        assert answer.json()["outcome"] == "possible_duplicate", answer.text
        [held] = (await intake.get("/possible-duplicates", headers=HEADERS)).json()
        assert [c["client_id"] for c in held["candidates"]] == [client_id]


async def test_a_candidate_is_shown_only_where_the_policy_lets_the_caller_read_its_case(
    settings, pool
) -> None:
    """A social worker's referral, with no consent yet: its intake case stays with the
    municipal side and its task holders, so a TE-side advisor listing a look-alike sees the
    candidate's id only, not its name, municipality or stage (as GET /clients/{id} refuses)."""
    born = date(1981, 3, 3)
    existing, new_code = identity_code(born), identity_code(born)
    async with running(intake_app(settings)) as intake:
        body = named(referral_request("social_services", code=existing), "Eeva", "Koski")
        assert (await intake.post("/referrals", json=body, headers=SOCIAL_WORKER)).status_code == 202
        answer = await intake.post(
            "/referrals", json=named(referral_request(code=new_code), "Eeva", "Koski"), headers=HEADERS
        )
        assert answer.json()["outcome"] == "possible_duplicate", answer.text
        [listed] = (await intake.get("/possible-duplicates", headers=HEADERS)).json()
        [candidate] = listed["candidates"]
        assert (await intake.get(f"/clients/{candidate['client_id']}", headers=HEADERS)).status_code == 403
        assert (candidate["name"], candidate["municipality"], candidate["waiting_for"]) == (None, None, None)
        assert listed["name"] == {"first_name": "Eeva", "last_name": "Koski"}, "the held referral's own"


async def test_one_new_person_referred_many_times_at_once_becomes_exactly_one_client(settings, pool) -> None:
    """Twelve referrals of one new identity code race for its first case: one opens it,
    the rest are recorded on it or answered 409 to retry, a retry lands on the one case,
    and the store holds one pseudonym and one look-alike key per client and one case
    stream for the person: the losers left nothing behind."""
    import asyncio

    code = identity_code()
    bodies = [referral_request("te_office", code=code) for _ in range(12)]
    for day, body in enumerate(bodies, start=1):
        body["referral_date"] = date(2026, 3, day).isoformat()  # each a referral of its own
    async with running(intake_app(settings)) as intake:
        # a first client makes the store's keys (left out of the race: see the closing note)
        warm = await intake.post("/referrals", json=referral_request("te_office"), headers=HEADERS)
        assert warm.status_code == 201, warm.text
        answers = await asyncio.gather(*(intake.post("/referrals", json=b, headers=HEADERS) for b in bodies))
        assert {a.status_code for a in answers} <= {200, 201, 409}, [a.text for a in answers]
        assert [a.status_code for a in answers].count(201) == 1, "one new case"
        assert all(a.json()["type"].endswith("concurrent-change") for a in answers if a.status_code == 409)
        retried = [
            await intake.post("/referrals", json=b, headers=HEADERS)
            for b, a in zip(bodies, answers, strict=True)
            if a.status_code == 409
        ]
        done = [a for a in (*answers, *retried) if a.status_code in (200, 201)]
        assert len(done) == 12, [a.text for a in retried]
        assert len({a.json()["client_id"] for a in done}) == 1, "one client"
    client_id = done[0].json()["client_id"]
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM intake.client_identities") == 2, "warm-up's and ours"
        assert await conn.fetchval("SELECT count(*) FROM intake.look_alike_keys") == 2
        ours = await conn.fetch(
            "SELECT stream_id, count(*) AS n FROM intake.events WHERE stream_id LIKE 'client-%' "
            "AND stream_id <> $1 GROUP BY 1",
            warm.json()["client_id"],
        )
    assert [(r["stream_id"], r["n"]) for r in ours] == [(client_id, 12)], "each referral once, on one case"


async def test_of_two_registrations_of_one_new_code_at_once_the_second_learns_it_lost(settings, pool) -> None:
    """The race the burst above may not reach, made to happen: two transactions both find
    the code unknown; the second's insert of the pseudonym waits on the first's, and when
    the first commits it is told it lost (so its referral is answered 409 and retried),
    with nothing of its own written: no pseudonym, no look-alike key for its client id."""
    import asyncio

    from runtime.eventstore import EventStore
    from services.intake.repository import IntakeRepository

    async with running(intake_app(settings)):
        pass  # intake's schema, as the service makes it
    repo = IntakeRepository(EventStore(pool, schema="intake", namespace=settings.namespace, source="/test"))
    key, alike = f"key-{identity_code()}", "alike-key"
    first, second = await pool.acquire(), await pool.acquire()
    try:
        one, two = first.transaction(), second.transaction()
        await one.start()
        await two.start()
        for conn in (first, second):
            found = await repo.referral_lookup(
                conn,
                identity_key=key,
                look_alike_key=alike,
                source="te_office",
                referral_date=date(2026, 3, 2),
            )
            assert found.existing is None and found.look_alikes == []
        assert await repo.remember_new_client(first, key, alike, "client-first")
        racing = asyncio.create_task(repo.remember_new_client(second, key, alike, "client-second"))
        waiting = "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'"
        second_pid = second.get_server_pid()
        async with pool.acquire() as watcher:
            await eventually(lambda: watcher.fetchval(waiting, second_pid), lambda n: n == 1)
        await one.commit()
        assert await racing is False, "the second learns that the first took the code"
        await two.rollback()
    finally:
        await pool.release(first)
        await pool.release(second)
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT client_id FROM intake.client_identities WHERE identity_key = $1", key)
        alikes = await conn.fetch(
            "SELECT client_id FROM intake.look_alike_keys WHERE look_alike_key = $1", alike
        )
    assert [r["client_id"] for r in rows] == ["client-first"]
    assert [r["client_id"] for r in alikes] == ["client-first"]
