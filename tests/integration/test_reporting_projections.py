"""Reporting's partitions and statistics against a real PostgreSQL, fed through the
consumer's exactly-once path (no broker needed for these)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any, cast

import asyncpg
import pytest

from contracts.audit import ClientDataAccessed
from contracts.base import EventBase
from contracts.envelope import CloudEventEnvelope
from contracts.guidance import ClientRelationshipClosed, FinalAssessment, Outcome, Phase
from contracts.intake import ClientDataErased, ConsentGiven, ConsentScope, ReferralSource, Route
from runtime import erasure
from runtime.config import Settings
from runtime.consumer import Applied, ExactlyOnceConsumer
from runtime.db import apply_migrations, event_store_migrations
from runtime.sealing import reveal_payloads
from runtime.sql import quote_ident
from services.reporting import feed_erasure
from services.reporting.audit import ChainId
from services.reporting.config import ReportingConfig
from services.reporting.feeds import FeedPublisher
from services.reporting.projections import ReportingProjection
from services.reporting.statistics import Statistics
from services.reporting.views import SideViews
from tests.support.reporting_events import (
    ADVISOR,
    MUNICIPALITIES,
    SOURCES,
    Story,
    apply_all,
    at,
    give_keys,
    interleaved,
    seed_targets,
    seed_year,
    slug,
    target_set,
)

pytestmark = pytest.mark.integration

SECRET = "diagnosis-7f3a: only the nurse may read this"


def consenting_story() -> Story:
    story = Story("Mikkeli")
    story.referred(date(2010, 3, 1))
    story.consent(date(2010, 3, 2))
    story.consent(
        date(2010, 3, 2),
        "consent-2",
        (ConsentScope.DISCLOSURE_TO_ORGANISATIONS,),
        organisations=("social_services:mikkeli",),
    )
    story.assessed(date(2010, 3, 20))
    story.opened(date(2010, 3, 20))
    story.guide(date(2010, 4, 1))
    story.plan(date(2010, 4, 10), "work_try_out")
    story.health_summary(date(2010, 4, 20))
    story.health_details(date(2010, 4, 20), SECRET)
    story.transferred(date(2010, 6, 1))
    story.acknowledged(date(2010, 6, 3))
    return story


async def test_withdrawing_consent_removes_the_client_from_the_other_sides_views(settings, pool) -> None:
    story = consenting_story()
    await apply_all(pool, settings, story.events)
    views = SideViews("reporting")
    async with pool.acquire() as conn:
        te = await views.te_client(conn, story.client_id)
        mikkeli = await views.municipality(conn, "Mikkeli")
    assert te.client is not None and te.client.guide_person_id == "guide-1"
    assert [m.kind for m in te.measures] == ["work_try_out"]
    assert [t.client_id for t in mikkeli.transfers] == [story.client_id]

    story.withdraw(date(2010, 7, 1), "consent-1")
    await apply_all(pool, settings, story.events[-1:])
    async with pool.acquire() as conn:
        te = await views.te_client(conn, story.client_id)
        mikkeli = await views.municipality(conn, "Mikkeli")
        counts = {
            table: await conn.fetchval(
                f"SELECT count(*) FROM reporting.{table} WHERE client_id = $1", story.client_id
            )
            for table in ("te_clients", "te_measures", "te_health_summaries", "municipal_transfers")
        }
    assert te.client is None and te.measures == [] and te.health_summaries == []
    assert [t.client_id for t in mikkeli.transfers] == [story.client_id], "the disclosure consent still holds"
    assert counts == {"te_clients": 0, "te_measures": 0, "te_health_summaries": 0, "municipal_transfers": 1}

    story.withdraw(date(2010, 7, 2), "consent-2")
    story.closed(date(2010, 12, 1), Outcome.EDUCATION)
    story.final_assessment(date(2010, 12, 1), Outcome.EDUCATION)
    await apply_all(pool, settings, story.events[-3:])
    async with pool.acquire() as conn:
        te = await views.te_client(conn, story.client_id)
        mikkeli = await views.municipality(conn, "Mikkeli")
    assert mikkeli.clients == [] and mikkeli.transfers == []
    assert te.client is None
    assert [f.outcome for f in te.final_assessments] == ["education"], "the TE-office's own record stays"


async def test_the_health_check_details_are_in_the_health_partition_and_nowhere_else(settings, pool) -> None:
    story = consenting_story()
    await apply_all(pool, settings, story.events)
    async with pool.acquire() as conn:
        tables = [
            r[0]
            for r in await conn.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'reporting'"
            )
        ]
        holding = [
            t
            for t in tables
            if await conn.fetchval(
                f"SELECT count(*) FROM reporting.{t} AS r WHERE r::text LIKE $1", f"%{SECRET}%"
            )
        ]
        checks = await SideViews("reporting").health_checks(conn, story.client_id)
        stored = await conn.fetchval(
            "SELECT details FROM reporting.health_checks WHERE client_id = $1", story.client_id
        )
    assert holding == [], "no table holds them in plaintext: the health partition's copy is sealed"
    assert stored.startswith(erasure.PREFIX)
    assert [c.details for c in checks] == [SECRET], "the health partition's view reveals them"


async def test_a_year_like_the_seeds_2010_gives_the_seeds_shares(settings, pool) -> None:
    await apply_all(pool, settings, [*seed_targets(), *interleaved(seed_year())])
    stats = Statistics("reporting", ReportingConfig())
    async with pool.acquire() as conn:
        sources = await stats.referral_sources(conn, year=2010, municipality=None)
        outcomes = await stats.outcomes(conn, year=2010, municipality=None)
        intake = await stats.intake(conn, year=2010)
        durations = await stats.durations(conn, year=2010, municipality=None)
        caseloads = await stats.caseloads(conn, municipality=None)
        waiting = await stats.waiting_times(conn, year=2010, municipality=None)
        deadlines = await stats.deadlines(conn, year=2010, municipality=None, as_of=date(2011, 1, 1))
        cost = await stats.municipal_cost(
            conn, year=2010, municipality=None, as_of=date(2010, 12, 31), daily_amount=Decimal("25.63")
        )
        puumala = await stats.referral_sources(conn, year=2010, municipality="Puumala")
    assert sources.total == 139
    assert {k: round((v or 0) * 100) for k, v in sources.shares.items()} == {
        "te_office": 52,
        "social_services": 5,
        "self_referral": 29,
        "other": 14,
    }
    assert outcomes.total == 100
    assert outcomes.shares == {
        "open_labour_market": 0.13,
        "education": 0.15,
        "wage_subsidised_work": 0.17,
        "outside_labour_force": 0.28,
        "unemployed": 0.14,
        "interrupted": 0.13,
    }
    assert (intake.new_clients, intake.target, intake.share_of_target) == (139, 350, 0.3971)
    mikkeli = next(r for r in intake.municipalities if r.municipality == "Mikkeli")
    assert (mikkeli.new_clients, mikkeli.target) == (93, 233)
    assert puumala.total == 5
    assert (durations.closed, durations.over_three_years) == (100, 4)
    assert sum(g.active_clients for g in caseloads.guides) == 39
    assert waiting.referral_to_assessment.clients == 139
    assert 14 <= (waiting.referral_to_assessment.median_days or 0) <= 33
    assert deadlines.assessment.due == 0, "the seed's rules set no assessment deadline"
    assert (
        cost.total is not None
        and cost.total > 0
        and {r.municipality for r in cost.municipalities}
        == set(r.municipality for r in intake.municipalities)
    )


async def test_transfers_add_up_waiting_clients_are_counted_and_caseloads_are_banded(settings, pool) -> None:
    """What the steering group's dashboard shows beyond the seed's shares: each transfer
    where it stands (the parts add up to the transfers made), the clients waiting for a
    named guide, caseloads in anonymous bands, and the basis of the cost."""

    def guided(n: int, municipality: str = "Mikkeli") -> Story:
        story = Story(municipality)
        story.referred(date(2010, 3, 1))
        story.consent(date(2010, 3, 2))
        story.assessed(date(2010, 3, 20))
        story.opened(date(2010, 3, 20))
        story.guide(date(2010, 4, 1), guide=f"guide-{n % 2 + 1}")
        return story

    stories = [guided(n) for n in range(7)]
    stories[0].transferred(date(2010, 5, 1))  # still there
    stories[1].transferred(date(2010, 5, 1))
    stories[1].returned(date(2010, 8, 1))
    stories[2].transferred(date(2010, 5, 1))
    stories[2].acknowledged(date(2010, 5, 2), accepted=False)
    stories[3].transferred(date(2010, 5, 1))
    stories[3].closed(date(2010, 9, 1), Outcome.OUTSIDE_LABOUR_FORCE)
    waiting = []
    for municipality in ("Puumala", "Puumala", "Mikkeli"):
        story = Story(municipality)
        story.referred(date(2010, 6, 1))
        story.consent(date(2010, 6, 2))
        story.assessed(date(2010, 6, 20))
        story.opened(date(2010, 6, 20))
        waiting.append(story)
    await apply_all(pool, settings, interleaved([*stories, *waiting]))
    stats = Statistics("reporting", ReportingConfig())
    async with pool.acquire() as conn:
        transfers = await stats.transfers(conn, year=2010, municipality=None)
        waits = await stats.waiting_for_guide(conn, year=2010, municipality=None)
        in_puumala = await stats.waiting_for_guide(conn, year=2010, municipality="Puumala")
        hidden = await stats.waiting_for_guide(conn, year=2010, municipality="Puumala", hide_small=True)
        banded = await stats.caseloads(conn, municipality=None, show_staff=False)
        named = await stats.caseloads(conn, municipality=None)
        cost = await stats.municipal_cost(conn, year=2015, municipality=None, as_of=date(2015, 6, 30))
    assert transfers.transferred_to_social_services == 4
    assert transfers.by_state == {
        "returned": 1,
        "at_social_services": 1,
        "closed_while_there": 1,
        "declined": 1,
    }
    assert transfers.returned_from_social_services == 1
    assert (waits.clients, in_puumala.clients, hidden.clients) == (3, 2, None)
    assert banded.guides == [] and not banded.staff_shown
    assert {b.band: b.guides for b in banded.bands} == {"0-19": 2, "20-39": 0, "40-60": 0, "over limit": 0}
    assert sorted(g.active_clients for g in named.guides) == [2, 4], "the closed one left guide-2's caseload"
    assert [(b.statute, b.in_force_from, b.in_force_until) for b in cost.basis] == [
        ("Act 1369/2014", date(2015, 1, 1), date(2015, 6, 30))
    ]
    assert "paid days 1-300: 0 %" in cost.basis[0].municipal_share


async def test_old_events_are_counted_under_the_rules_of_their_own_dates(settings, pool) -> None:
    old, new = Story(), Story()
    old.referred(date(2014, 11, 3), ReferralSource.SELF_REFERRAL)
    old.assessed(date(2015, 3, 2))
    new.referred(date(2015, 1, 5), ReferralSource.SELF_REFERRAL)
    new.assessed(date(2015, 6, 1))
    await apply_all(pool, settings, old.events + new.events)
    stats = Statistics("reporting", ReportingConfig())
    async with pool.acquire() as conn:
        deadlines = await stats.deadlines(conn, year=2015, municipality=None, as_of=date(2015, 7, 1))
    assert (deadlines.assessment.due, deadlines.assessment.met_late) == (1, 1), (
        "only the 2015 referral has the 3-month deadline of Act 1369/2014, and it was missed"
    )


async def test_a_redelivered_event_changes_no_table(settings, pool) -> None:
    story = consenting_story()
    await apply_all(pool, settings, story.events)
    async with pool.acquire() as conn:
        before = await ReportingProjection("reporting").snapshot(conn)
    applied = await apply_all(pool, settings, story.events)
    async with pool.acquire() as conn:
        after = await ReportingProjection("reporting").snapshot(conn)
    assert applied == 0
    assert {t: rows for t, rows in after.items() if t != "consumer_positions"} == {
        t: rows for t, rows in before.items() if t != "consumer_positions"
    }


# --- a batch is its events one at a time ------------------------------------------------

RECOMMENDING = FinalAssessment(
    text="Continues in vocational training.",
    work_ability_clarified=True,
    competence_improved=True,
    recommended_services=("vocational training", "työkokeilu, 3 kk", 'a "quoted" {brace}'),
)
FEEDS_OUTBOX = "SELECT event_id, subject, payload FROM {s}.outbox ORDER BY outbox_id"


def varied_stories() -> list[Story]:
    """Clients whose stories touch every table: consents withdrawn and given again (one
    the same day as a copy for a partner), transfers to another municipality, acknowledged
    and returned, the route that opens the case with social services, a re-assessment,
    duplicate referrals, and an erasure between two health checks of one day."""
    day = date(2010, 3, 1)
    stories = []
    for n, municipality in enumerate(MUNICIPALITIES):
        story = Story(municipality)
        receiving = MUNICIPALITIES[(n + 1) % len(MUNICIPALITIES)]
        disclosed = [municipality, receiving] if n % 2 == 0 else [municipality]
        story.referred(day, subsidy_days=400 + 50 * n)
        story.consent(day)
        story.consent(
            day,
            "consent-2",
            (ConsentScope.DISCLOSURE_TO_ORGANISATIONS,),
            organisations=tuple(f"social_services:{slug(m)}" for m in disclosed),
        )
        story.referred_again(day)
        opening = n % 3 == 0  # the route opens the case with social services
        route = Route.REHABILITATIVE_WORK_ACTIVITY if opening else Route.INDIVIDUAL_SERVICE_GUIDANCE
        story.assessed(date(2010, 3, 15), route)
        story.opened(date(2010, 3, 15), route)
        if opening:
            story.acknowledged(date(2010, 3, 16), "opening")
        story.guide(date(2010, 3, 20), guide=f"guide-{n % 2 + 1}")
        story.phase(date(2010, 3, 20), Phase.SURVEY_AND_RESEARCH)
        story.plan(date(2010, 4, 1), "work_try_out", "coaching")
        story.health_summary(date(2010, 4, 5))
        story.health_details(date(2010, 4, 5), f"details {n}")
        story.withdraw(date(2010, 4, 10))
        story.consent(date(2010, 4, 11), "consent-3")
        story.plan(date(2010, 4, 12), "work_try_out", revision=2)
        if opening:
            story.returned(date(2010, 4, 20), "opening")
        story.transferred(date(2010, 5, 3), receiving=receiving)
        story.acknowledged(date(2010, 5, 4), accepted=n % 2 == 0)
        if n % 3 == 2:  # on the day of a copy for the partners
            story.withdraw(date(2010, 5, 4), "consent-2")
        story.returned(date(2010, 8, 1))
        story.reassessed(date(2010, 8, 2), Route.INDIVIDUAL_SERVICE_GUIDANCE, Route.HEALTH_CHECK_FIRST)
        if n % 2 == 0:
            story.closed(date(2010, 11, 1), Outcome.EDUCATION)
            story.final_assessment(date(2010, 11, 1), Outcome.EDUCATION, RECOMMENDING)
        if n % 3 == 1:  # erased between two health checks of one day
            story.health_details(date(2010, 12, 1), "before the erasure")
            story.erased(date(2010, 12, 1))
            story.health_details(date(2010, 12, 1), "after the erasure")
        stories.append(story)
    return stories


def reads(clients: list[str]) -> list[ClientDataAccessed]:
    """An access log stream: reads of a few clients' data each."""
    stream = f"access-{uuid.uuid4()}"
    return [
        ClientDataAccessed(
            event_id=uuid.uuid4(),
            stream_id=stream,
            stream_version=n,
            occurred_at=at(date(2010, 6, n)),
            recorded_at=at(date(2010, 6, n)),
            actor=ADVISOR,
            correlation_id=uuid.uuid4(),
            service="intake",
            client_ids=tuple(clients[n - 1 :: 5]),
            what="intake case",
            purpose="service guidance",
        )
        for n in range(1, 6)
    ]


Projected = tuple[dict[str, list[tuple[object, ...]]], dict[ChainId, tuple[int, str]], list[tuple[Any, ...]]]


async def project(
    pool: asyncpg.Pool, settings: Settings, events: list[EventBase], schema: str, batch_size: int
) -> Projected:
    """Apply ``events`` through the exactly-once path, ``batch_size`` per transaction, into
    a fresh reporting schema with partner feeds; its snapshot, audit heads and feed messages."""
    items = [
        (CloudEventEnvelope.wrap(e, source=SOURCES.get(e.producer, SOURCES["intake"])), e, seq)
        for seq, e in enumerate(events, start=1)
    ]
    return await project_items(pool, settings, items, schema, batch_size, namespace=settings.namespace)


async def project_items(
    pool: asyncpg.Pool,
    settings: Settings,
    items: list[tuple[CloudEventEnvelope, EventBase, int]],
    schema: str,
    batch_size: int,
    *,
    namespace: str,
) -> Projected:
    """As :func:`project`, for envelopes already made (with their stream sequences); the
    feeds' subjects are in ``namespace``."""
    feeds_schema = f"{schema}_feeds"
    projection = ReportingProjection(schema, feeds=FeedPublisher(namespace, schema=feeds_schema))
    consumer = ExactlyOnceConsumer(pool=pool, js=cast(Any, None), settings=settings, projection=projection)
    async with pool.acquire() as conn:
        await give_keys(conn, [event for _, event, _ in items])
        await projection.create(conn)
        await apply_migrations(conn, feeds_schema, [*event_store_migrations(), feed_erasure.MIGRATION])
        for start in range(0, len(items), batch_size):
            batch = items[start : start + batch_size]
            async with conn.transaction():
                results = await consumer.apply_many(conn, batch)
                await consumer.record_position(conn, batch[-1][2])
            assert set(results) == {Applied.APPLIED}
        return (
            await projection.snapshot(conn),
            await projection.audit.heads(conn),
            await revealed_feeds(conn, feeds_schema),
        )


async def revealed_feeds(conn: asyncpg.Connection, feeds_schema: str) -> list[tuple[object, ...]]:
    """The feeds outbox's messages, as the relay would publish them: revealed."""
    rows = await conn.fetch(FEEDS_OUTBOX.format(s=quote_ident(feeds_schema)))
    payloads = await reveal_payloads(conn, [bytes(r["payload"]) for r in rows])
    return [(r["event_id"], r["subject"], p) for r, p in zip(rows, payloads, strict=True)]


async def test_a_batch_projects_exactly_what_its_events_do_one_at_a_time(settings, pool) -> None:
    stories = [*seed_year()[:60], *varied_stories()]
    events = interleaved(stories)
    events += reads([s.client_id for s in stories])
    events += [*seed_targets(), target_set(2011, 180, date(2011, 2, 1), version=2)]
    # Batches of 200 hold several events of one client, from intake and from guidance.
    batches = [events[start : start + 200] for start in range(0, len(events), 200)]
    assert any(
        len({e.producer for e in batch if e.stream_id == s.client_id}) == 2
        and sum(e.stream_id == s.client_id for e in batch) >= 3
        for batch in batches
        for s in stories
    )

    one_by_one = await project(pool, settings, events, "one_by_one", batch_size=1)
    snapshot, heads, feeds = one_by_one
    assert all(snapshot.values()), [table for table, rows in snapshot.items() if not rows]
    assert len(heads) == 2 * len(stories) + 3, (
        "intake's and guidance's chains, the reads' and two years' targets"
    )
    assert feeds, "partners were sent copies"

    assert await project(pool, settings, events, "batched", batch_size=200) == one_by_one
    assert await project(pool, settings, events, "all_at_once", batch_size=len(events)) == one_by_one


async def test_every_copy_on_a_partner_feed_is_in_the_clients_access_report(settings, pool) -> None:
    """Every disclosure is logged with its recipient and legal basis (the domain's data
    rules): each event copied to a partner's feed has a disclosure row for that partner,
    naming the consent it was sent under."""
    import json

    from runtime.broker_access import feed_token

    events = interleaved(varied_stories())
    _, _, feeds = await project(pool, settings, events, "disclosures", batch_size=50)
    copies = [(json.loads(bytes(payload)), subject) for _, subject, payload in feeds]
    # (a notice to erase carries no personal data: it is not a disclosure)
    sent = {(e["id"], subject.split(".")[2]) for e, subject in copies if e["type"] != "ClientDataErased"}
    rows = await pool.fetch(
        "SELECT event_id::text, recipient, what, purpose, person_id FROM disclosures.access_report "
        "WHERE kind = 'disclosure'"
    )
    disclosed = {(r["event_id"], feed_token(r["recipient"])) for r in rows}
    assert sent, "the stories send partners copies"
    assert sent <= disclosed, sent - disclosed
    on_feeds = [r for r in rows if r["what"].endswith("on the partner feed")]
    assert on_feeds and all(r["purpose"].startswith("the client's consent consent-") for r in on_feeds)
    assert {r["person_id"] for r in on_feeds} == {"system:partner-feeds"}, (
        "the feeds disclose, not the author"
    )


async def test_partners_that_may_hold_an_erased_clients_data_are_told_to_erase_it(settings, pool) -> None:
    """ClientDataErased (no personal data in it) goes to every organisation a consent of
    the client ever named for disclosure, and to the TE-office once the case closed; it
    is not itself a disclosure in the access report."""
    import json

    from runtime.broker_access import feed_token

    stories = varied_stories()
    erased = [s for s in stories if any(isinstance(e, ClientDataErased) for e in s.events)]
    assert erased, "some varied stories end in an erasure"
    _, _, feeds = await project(pool, settings, interleaved(stories), "told", batch_size=50)
    told: dict[str, set[str]] = {}
    for _, subject, payload in feeds:
        envelope = json.loads(bytes(payload))
        if envelope["type"] == "ClientDataErased":
            told.setdefault(envelope["subject"], set()).add(subject.split(".")[2])
    for story in erased:
        named = {
            feed_token(org)
            for e in story.events
            if isinstance(e, ConsentGiven) and ConsentScope.DISCLOSURE_TO_ORGANISATIONS in e.scopes
            for org in e.organisations
        }
        closed = any(isinstance(e, ClientRelationshipClosed) for e in story.events)
        expected = named | ({feed_token("te-office")} if closed else set())
        assert named and told.get(story.client_id) == expected
    notices = await pool.fetchval(
        "SELECT count(*) FROM told.access_report WHERE what LIKE 'ClientDataErased%'"
    )
    assert notices == 0
