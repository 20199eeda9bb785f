"""The dashboard against the API: every figure on the page (``data-testid`` with its
exact ``data-value``) equals the /statistics/* answer for the same year, as_of and
municipality, for the steering group (small cells hidden) and for the coordinator (exact).
Then in a real headless browser (Debian's chromium driven by Playwright; slow): reporting
serves it over HTTP, fed a year like the seed's 2010 through JetStream; the browser signs
in with the form, picks a year and a municipality with the form, no script; the page shows
the numbers the API returns, and the browser signs out."""

from __future__ import annotations

import asyncio
import re
import socket
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.subjects import organisation_slug
from services.reporting.app import create_app as reporting_app
from services.reporting.dashboard import last_year_as_of
from tests.support.apps import eventually, running
from tests.support.auth import ISSUER, headers
from tests.support.reporting_events import interleaved, publish, seed_targets, seed_year

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FIGURE = re.compile(r'data-testid="([^"]+)" data-value="([^"]*)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def applied(pool) -> int:
    async with pool.acquire() as conn:
        return int(await conn.fetchval("SELECT count(*) FROM reporting.consumed_events"))


def shown_figures(html: str) -> dict[str, str]:
    """Every figure on the page: its data-testid and exact data-value (each named once)."""
    found = FIGURE.findall(html)
    figures = dict(found)
    assert len(figures) == len(found), "a data-testid is used twice"
    return figures


def value(v: Any) -> str:
    """A figure's data-value as the page writes the API's value: hidden, or the value."""
    return "hidden" if v is None else str(v)


def share(v: float | None) -> str:
    return "hidden" if v is None else f"{v:.4f}"


async def api_figures(
    get: Any, *, year: int, municipality: str | None, as_of: date, staff: bool
) -> dict[str, str]:
    """What the page must show, asked of the API alone, figure by figure."""
    m = {} if municipality is None else {"municipality": municipality}
    intake = await get("/statistics/intake", year=year, as_of=as_of.isoformat())
    last = await get("/statistics/intake", year=year - 1, as_of=last_year_as_of(year, as_of).isoformat())

    def chosen(answer: dict[str, Any]) -> tuple[Any, Any, Any]:
        if municipality is None:
            return answer["new_clients"], answer["target"], answer["share_of_target"]
        row = next(r for r in answer["municipalities"] if r["municipality"] == municipality)
        return row["new_clients"], row["target"], row["share_of_target"]

    new, target, of_target = chosen(intake)
    was_new, was_target, _ = chosen(last)
    out = {
        "new-clients": value(new),
        "intake-target": str(target),
        "intake-share": str(of_target),
        f"trend-new-{year}": value(new),
        f"trend-new-{year - 1}": value(was_new),
        f"trend-target-{year}": str(target),
        f"trend-target-{year - 1}": str(was_target),
    }
    for row in intake["municipalities"]:
        if municipality in (None, row["municipality"]):
            slug = organisation_slug(row["municipality"])
            out[f"intake-{slug}"] = value(row["new_clients"])
            if row["target"] is not None:
                out[f"target-{slug}"] = str(row["target"])
    for y in (year - 1, year):
        outcomes = await get("/statistics/outcomes", year=y, **m)
        out[f"trend-closed-{y}"] = out[f"outcomes-total-{y}"] = value(outcomes["total"])
        transfers = await get("/statistics/transfers", year=y, **m)
        out[f"trend-transfers-{y}"] = value(transfers["transferred_to_social_services"])
    out |= {f"outcome-share-{k}": share(v) for k, v in outcomes["shares"].items()}
    out["transfers"] = value(transfers["transferred_to_social_services"])
    out["returns"] = value(transfers["returned_from_social_services"])
    out |= {f"transfers-{k.replace('_', '-')}": value(v) for k, v in transfers["by_state"].items()}
    sources = await get("/statistics/referral-sources", year=year, **m)
    out |= {f"source-share-{k}": share(v) for k, v in sources["shares"].items()}
    waiting = await get("/statistics/waiting-for-guide", year=year, **m)
    out["waiting-for-guide"] = value(waiting["clients"])
    out["waiting-for-guide-all"] = value((await get("/statistics/waiting-for-guide", **m))["clients"])
    times = await get("/statistics/waiting-times", year=year, **m)
    for key, name in (("referral_to_assessment", "assessment"), ("assessment_to_named_guide", "guide")):
        for kind in ("median", "mean"):
            days = times[key][f"{kind}_days"]
            out[f"wait-{name}-{kind}"] = "hidden" if times[key]["clients"] is None else str(days)
    subsidy = await get("/statistics/subsidy-days", year=year, **m)
    out["over-500-share"] = (
        "hidden"
        if subsidy["over_500_days"] is None or subsidy["clients_with_known_days"] is None
        else str(subsidy["share_over_500_days"])
    )
    durations = await get("/statistics/durations", year=year, **m)
    out["over-three-years-share"] = (
        "hidden"
        if durations["over_three_years"] is None or durations["closed"] is None
        else str(durations["share_over_three_years"])
    )
    deadlines = await get("/statistics/deadlines", year=year, as_of=as_of.isoformat(), **m)
    out["overdue-assessment"] = value(deadlines["assessment"]["overdue"])
    out["overdue-plan"] = value(deadlines["plan"]["overdue"])
    cost = await get("/statistics/municipal-cost", year=year, as_of=as_of.isoformat(), **m)
    out["municipal-cost"] = out["cost-total"] = value(cost["total"])
    out["daily-amount"] = str(cost["daily_amount"])
    for row in cost["municipalities"]:
        slug = organisation_slug(row["municipality"])
        out[f"cost-clients-{slug}"] = value(row["clients"])
        out[f"cost-days-{slug}"] = value(row["paid_days"])
        out[f"cost-{slug}"] = value(row["municipal_cost"])
    caseloads = await get("/statistics/caseloads", **m)
    assert caseloads["staff_shown"] is staff and (staff or not caseloads["guides"])
    out |= {f"caseload-band-{b['band'].replace(' ', '-')}": str(b["guides"]) for b in caseloads["bands"]}
    out |= {f"caseload-{g['guide_person_id']}": str(g["active_clients"]) for g in caseloads["guides"]}
    return out


async def test_every_figure_on_the_dashboard_equals_the_apis_answer(settings, pool, nats_client) -> None:
    events = [*seed_targets(), *interleaved(seed_year())]
    await publish(nats_client.jetstream(), settings, events)
    async with running(reporting_app(settings)) as reporting:
        await eventually(lambda: applied(pool), lambda n: n == len(events), within=60)
        for who, staff in ((STEERING, False), (COORDINATOR, True)):

            async def get(path: str, **params: Any) -> Any:
                response = await reporting.get(path, params=params, headers=who)  # noqa: B023
                assert response.status_code == 200, (path, params, response.text)
                return response.json()

            for year, municipality, as_of in (
                (2010, None, date(2010, 12, 31)),
                (2010, "Mikkeli", date(2010, 12, 31)),
                (2010, "Puumala", date(2010, 6, 30)),
                (2011, None, date(2011, 12, 31)),
                (2011, "Hirvensalmi", date(2011, 12, 31)),
            ):
                params: dict[str, str | int] = {
                    "year": year,
                    "as_of": as_of.isoformat(),
                    "municipality": municipality or "all",
                }
                page = await reporting.get("/dashboard", params=params, headers=who)
                assert page.status_code == 200, page.text
                shown = shown_figures(page.text)
                expected = await api_figures(
                    get, year=year, municipality=municipality, as_of=as_of, staff=staff
                )
                assert shown == expected, (who is STEERING, year, municipality)
        # the seed's figures are there, the target set through events
        page = await reporting.get("/dashboard", params={"year": 2010}, headers=STEERING)
        shown = shown_figures(page.text)
        assert (shown["new-clients"], shown["intake-target"]) == ("139", "350")
        assert "Counted as of 2010-12-31" in page.text, "as_of: the end of the year shown"
        assert shown["trend-target-2009"] == "None", "no target was set for 2009"
        reconciled = page.text.split('data-testid="transfers-reconciled">')[1].split("</p>")[0]
        assert reconciled.startswith(f"The {shown['transfers']} transfers = ")
        assert "Seed rules 2010-2014" in page.text and "25.63" in shown["daily-amount"]
        assert "guide-1" not in page.text, "the steering group sees no staff"
        bad = await reporting.get("/dashboard", params={"municipality": "Helsinki"}, headers=STEERING)
        assert bad.status_code == 422


@pytest.mark.slow
@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
)
async def test_the_dashboard_shows_in_a_real_browser_the_numbers_the_api_returns(
    settings, pool, nats_client, tmp_path: Path
) -> None:
    import uvicorn
    from playwright.async_api import async_playwright

    events = [*seed_targets(), *interleaved(seed_year())]
    await publish(nats_client.jetstream(), settings, events)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(reporting_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    base = f"http://127.0.0.1:{port}"
    try:
        await eventually(lambda: asyncio.sleep(0, server.started), bool)
        await eventually(lambda: applied(pool), lambda n: n == len(events), within=60)
        async with httpx.AsyncClient(base_url=base) as api:

            async def get(path: str, **params: Any) -> Any:
                response = await api.get(path, params=params, headers=STEERING)
                assert response.status_code == 200, response.text
                return response.json()

            everywhere = await api_figures(
                get, year=2011, municipality=None, as_of=date(2011, 12, 31), staff=False
            )
            mikkeli = await api_figures(
                get, year=2010, municipality="Mikkeli", as_of=date(2010, 12, 31), staff=False
            )

        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page(viewport={"width": 1600, "height": 1000})
                requests: list[str] = []
                page.on("request", lambda request: requests.append(request.url))
                # no session: the browser is sent to the sign-in form, signs in, and comes back
                await page.goto(f"{base}/dashboard?year=2011")
                assert page.url.startswith(f"{base}/dashboard/sign-in?")
                await page.get_by_label("Your token").fill(steering_token())
                async with page.expect_navigation():
                    await page.get_by_role("button", name="Sign in").click()
                assert page.url == f"{base}/dashboard?year=2011"
                (session,) = [c for c in await page.context.cookies() if c["name"] == "reitti_dashboard"]
                assert session["httpOnly"] and session["sameSite"] == "Lax"
                assert session["path"] == "/dashboard"
                assert await page.evaluate("document.cookie") == "", "no script can read the session"

                async def shown(testid: str) -> tuple[str, str | None]:
                    element = page.get_by_test_id(testid)
                    return (await element.text_content() or ""), await element.get_attribute("data-value")

                async def every_figure() -> dict[str, str]:
                    return shown_figures(await page.content())

                assert await every_figure() == everywhere, "2011 as of its end, the default"
                assert (await shown("intake-target"))[0] == "200"

                # the picker: a GET form, no script
                await page.get_by_label("Year", exact=True).select_option("2010")
                await page.get_by_label("Municipality", exact=True).select_option("Mikkeli")
                async with page.expect_navigation():
                    await page.get_by_test_id("pick").click()
                assert page.url == f"{base}/dashboard?year=2010&municipality=Mikkeli"
                assert await every_figure() == mikkeli
                assert (
                    await page.get_by_role("heading", level=1).text_content()
                    == "Reitti: Mikkeli in figures, 2010"
                )
                assert (await shown("new-clients"))[0] == mikkeli["new-clients"]
                assert (await shown("intake-target"))[0] == mikkeli["intake-target"] == "233"
                for outcome, exact in mikkeli.items():
                    if outcome.startswith("outcome-share-") and exact != "hidden":
                        text, _ = await shown(outcome)
                        assert text.startswith(f"{round(float(exact) * 100)} %")
                median = mikkeli["wait-assessment-median"]
                assert (await shown("wait-assessment-median"))[0] == f"{float(median):g} days"
                band = await shown("caseload-band-0-19")
                assert band == (f"{mikkeli['caseload-band-0-19']} guides", mikkeli["caseload-band-0-19"])
                assert await page.get_by_test_id("disclosure-control").count() == 1
                assert await page.locator("svg").count() >= 5, "the charts are inline SVG"
                assert await page.locator("details.as-table table").count() >= 5, "each chart as a table"
                assert all(url.startswith(base) for url in requests), "nothing is fetched from elsewhere"

                screenshot = tmp_path / "dashboard.png"
                await page.screenshot(path=str(screenshot), full_page=True)

                async with page.expect_navigation():
                    await page.get_by_test_id("sign-out").click()
                assert page.url.startswith(f"{base}/dashboard/sign-in?")
                assert not [c for c in await page.context.cookies() if c["name"] == "reitti_dashboard"]
                await page.goto(f"{base}/dashboard?year=2010")
                assert page.url.startswith(f"{base}/dashboard/sign-in?"), "signed out"
                assert all("token=" not in url for url in requests), "no token in any address"
            finally:
                await browser.close()
    finally:
        server.should_exit = True
        await serving
    assert screenshot.stat().st_size > 10_000


#: the page's reader: the steering group, whose figures are under disclosure control
STEERING = headers("steering_group_member", "steering-1", "centre")
#: a reader with client access: exact figures, and the guides named
COORDINATOR = headers("service_coordinator", "coordinator-1", "centre")


def steering_token() -> str:
    return ISSUER.issue(person_id="steering-1", role="steering_group_member", organisation="centre")
