"""Statistical disclosure control through the API: the steering group, which has no
access to any client's data, never sees a cell of one or two clients, and cannot work
one out from everything the statistics API answers; a role with client access sees
every figure exact. The attacker (tests/support/disclosure_attack.py) is independent of
the protection."""

from __future__ import annotations

import itertools
import re
from datetime import date
from typing import Any

import pytest

from contracts.guidance import Outcome
from contracts.intake import ConsentScope, ReferralSource
from services.reporting.app import create_app as reporting_app
from services.reporting.config import POPULATIONS
from services.reporting.disclosure_control import TOTAL, ProtectedTable
from tests.support.apps import eventually, running
from tests.support.auth import headers
from tests.support.disclosure_attack import recoverable, small_shown
from tests.support.reporting_events import Story, interleaved, publish, seed_year

pytestmark = pytest.mark.integration

STEERING = headers("steering_group_member", "steering-1", "centre")
COORDINATOR = headers("service_coordinator", "coordinator-1", "centre")
MUNICIPALITIES = tuple(POPULATIONS)


async def applied(pool: Any) -> int:
    async with pool.acquire() as conn:
        return int(await conn.fetchval("SELECT count(*) FROM reporting.consumed_events"))


async def published_table(
    client: Any, path: str, categories: list[str], who: dict[str, str]
) -> ProtectedTable:
    """Everything ``path`` answers, for every year and municipality and their totals, as
    one table: a null in an answer is a hidden position."""
    dims = ((2010,), MUNICIPALITIES, tuple(categories))
    values: dict[tuple[object, ...], int] = {}
    hidden: set[tuple[object, ...]] = set()
    for year, municipality in itertools.product((2010, TOTAL), (*MUNICIPALITIES, TOTAL)):
        params = {k: v for k, v in (("year", year), ("municipality", municipality)) if v is not None}
        response = await client.get(path, params=params, headers=who)
        assert response.status_code == 200, response.text
        body = response.json()
        for category, n in [*body["counts"].items(), (TOTAL, body["total"])]:
            cell = (year, municipality, category)
            values[cell] = -1 if n is None else n
            if n is None:
                hidden.add(cell)
    return ProtectedTable(dims, values, frozenset(hidden))


async def test_the_steering_group_sees_no_small_cell_and_cannot_work_one_out(
    settings, pool, nats_client
) -> None:
    events = interleaved(seed_year())
    await publish(nats_client.jetstream(), settings, events)
    async with running(reporting_app(settings)) as reporting:
        await eventually(lambda: applied(pool), lambda n: n == len(events), within=60)
        for path, categories in (
            ("/statistics/outcomes", [o.value for o in Outcome]),
            ("/statistics/referral-sources", [s.value for s in ReferralSource]),
        ):
            exact = await published_table(reporting, path, categories, COORDINATOR)
            assert not exact.hidden, "a role with client access sees every figure"
            small = [c for c, v in exact.values.items() if 0 < v < 3]
            assert small, f"the seed's year has cells of one or two clients in {path}"

            seen = await published_table(reporting, path, categories, STEERING)
            # what the steering group is shown is the truth, where it is shown
            truth = {c: v for c, v in exact.values.items()}
            assert all(truth[c] == v for c, v in seen.values.items() if c not in seen.hidden)
            assert small_shown(ProtectedTable(seen.dims, truth, seen.hidden), 3) == []
            assert recoverable(ProtectedTable(seen.dims, truth, seen.hidden)) == []
            # shares give nothing back either: null wherever the count or total is hidden
            for municipality in MUNICIPALITIES:
                body = (
                    await reporting.get(
                        path, params={"year": 2010, "municipality": municipality}, headers=STEERING
                    )
                ).json()
                for category, share in body["shares"].items():
                    assert (share is None) == (body["counts"][category] is None or body["total"] is None)


def small_year() -> list[Story]:
    """Ten clients of 2010 in two municipalities, four closed: cells of one and two."""
    sources = [ReferralSource.TE_OFFICE] * 5 + [ReferralSource.SELF_REFERRAL] * 3 + [ReferralSource.OTHER] * 2
    outcomes = [Outcome.EDUCATION, Outcome.UNEMPLOYED, Outcome.EDUCATION, Outcome.OPEN_LABOUR_MARKET]
    out = []
    for n, source in enumerate(sources):
        story = Story(["Mikkeli", "Puumala"][n % 2])
        story.referred(date(2010, 2, 1 + n), source)
        story.consent(
            date(2010, 2, 10), scopes=(ConsentScope.MOVE_TO_CENTRE, ConsentScope.DATA_EXCHANGE_WITHIN_CENTRE)
        )
        story.assessed(date(2010, 3, 1 + n))
        story.opened(date(2010, 3, 1 + n))
        story.guide(date(2010, 3, 11 + n), guide=f"guide-{n % 2 + 1}")
        if n < len(outcomes):
            story.closed(date(2010, 11, 1), outcomes[n])
            story.final_assessment(date(2010, 11, 1), outcomes[n])
        out.append(story)
    return out


def figure(page: str, testid: str) -> str:
    """The data-value of the figure ``testid`` on the page."""
    match = re.search(rf'data-testid="{re.escape(testid)}" data-value="([^"]*)"', page)
    assert match, testid
    return match.group(1)


async def test_the_dashboard_marks_hidden_figures_for_the_steering_group(settings, pool, nats_client) -> None:
    events = interleaved(small_year())
    await publish(nats_client.jetstream(), settings, events)
    async with running(reporting_app(settings)) as reporting:
        await eventually(lambda: applied(pool), lambda n: n == len(events), within=60)

        async def page(who: dict[str, str]) -> str:
            day: dict[str, str | int] = {"year": 2010, "as_of": "2010-12-31"}
            response = await reporting.get("/dashboard", params=day, headers=who)
            assert response.status_code == 200
            return response.text

        steering, exact = await page(STEERING), await page(COORDINATOR)
        assert 'data-testid="disclosure-control"' in steering
        assert 'data-testid="disclosure-control"' not in exact and 'data-value="hidden"' not in exact
        for path, prefix in (
            ("/statistics/outcomes", "outcome-share"),
            ("/statistics/referral-sources", "source-share"),
        ):
            body = (await reporting.get(path, params={"year": 2010}, headers=STEERING)).json()
            hidden = [k for k, v in body["shares"].items() if v is None]
            assert hidden, f"{path} hides the small cells of this year"
            for key, share in body["shares"].items():
                assert figure(steering, f"{prefix}-{key}") == ("hidden" if share is None else f"{share:.4f}")
                assert figure(exact, f"{prefix}-{key}") != "hidden"
        # the page draws the same figures the API answers: nothing hidden there is shown here
        assert ">1 (" not in steering and ">2 (" not in steering


async def test_no_figure_minus_a_part_of_it_is_a_small_cell(settings, pool, nats_client) -> None:
    """Clients over 500 days are a part of those whose days are known; closures after three
    years a part of the closures, which the outcomes publish too. Whole minus part is a
    figure like any other: never 1 or 2 where both are shown, and a closure total hidden in
    one answer is hidden in the other."""
    events = interleaved(seed_year())
    await publish(nats_client.jetstream(), settings, events)
    async with running(reporting_app(settings)) as reporting:
        await eventually(lambda: applied(pool), lambda n: n == len(events), within=60)
        differences = 0
        for year, municipality in itertools.product((2010, None), (*MUNICIPALITIES, None)):
            params = {k: v for k, v in (("year", year), ("municipality", municipality)) if v is not None}

            async def ask(path: str, who: dict[str, str], params: dict[str, Any] = params) -> dict[str, Any]:
                response = await reporting.get(path, params=params, headers=who)
                assert response.status_code == 200, response.text
                answer: dict[str, Any] = response.json()
                return answer

            for path, whole, part in (
                ("/statistics/subsidy-days", "clients_with_known_days", "over_500_days"),
                ("/statistics/durations", "closed", "over_three_years"),
            ):
                seen, exact = await ask(path, STEERING), await ask(path, COORDINATOR)
                if seen[whole] is not None and seen[part] is not None:
                    assert not 0 < seen[whole] - seen[part] < 3, (path, params, seen)
                differences += 0 < exact[whole] - exact[part] < 3
            closed = (await ask("/statistics/durations", STEERING))["closed"]
            total = (await ask("/statistics/outcomes", STEERING))["total"]
            assert (closed is None) == (total is None) and closed in (None, total), params
        assert differences, "the seed's year has wholes that exceed their parts by one or two"
