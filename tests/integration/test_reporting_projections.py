"""Reporting's partitions and statistics against a real PostgreSQL, fed through the
consumer's exactly-once path (no broker needed for these)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from contracts.guidance import Outcome
from contracts.intake import ConsentScope, ReferralSource
from services.reporting.config import ReportingConfig
from services.reporting.projections import ReportingProjection
from services.reporting.statistics import Statistics
from services.reporting.views import SideViews
from tests.support.reporting_events import Story, apply_all, interleaved, seed_year

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
    assert holding == ["health_checks"]
    assert [c.details for c in checks] == [SECRET]


async def test_a_year_like_the_seeds_2010_gives_the_seeds_shares(settings, pool) -> None:
    await apply_all(pool, settings, interleaved(seed_year()))
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
    assert {k: round(v * 100) for k, v in sources.shares.items()} == {
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
    assert cost.total > 0 and {r.municipality for r in cost.municipalities} == set(
        r.municipality for r in intake.municipalities
    )


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
