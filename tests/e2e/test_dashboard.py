"""The dashboard in a real headless browser (Debian's chromium driven by Playwright):
reporting serves it over HTTP, fed a year like the seed's 2010 through JetStream; the
browser signs in with the form, no script; the page shows the numbers the API returns, a
screenshot is saved, and the browser signs out."""

from __future__ import annotations

import asyncio
import shutil
import socket
from pathlib import Path

import httpx
import pytest

from services.reporting.app import create_app as reporting_app
from tests.support.apps import eventually
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
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "dashboard.png"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def applied(pool) -> int:
    async with pool.acquire() as conn:
        return int(await conn.fetchval("SELECT count(*) FROM reporting.consumed_events"))


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
            outcomes = (await api.get("/statistics/outcomes", params={"year": 2010}, headers=STEERING)).json()
            sources = (
                await api.get(
                    "/statistics/referral-sources",
                    params={"year": 2010},
                    headers=STEERING,
                )
            ).json()
            intake = (await api.get("/statistics/intake", params={"year": 2010}, headers=STEERING)).json()
            caseloads = (await api.get("/statistics/caseloads", headers=STEERING)).json()
            waiting = (
                await api.get(
                    "/statistics/waiting-times",
                    params={"year": 2010},
                    headers=STEERING,
                )
            ).json()

        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page(viewport={"width": 1600, "height": 1000})
                requests: list[str] = []
                page.on("request", lambda request: requests.append(request.url))
                # no session: the browser is sent to the sign-in form, signs in, and comes back
                await page.goto(f"{base}/dashboard?year=2010&as_of=2010-12-31")
                assert page.url.startswith(f"{base}/dashboard/sign-in?")
                await page.get_by_label("Your token").fill(steering_token())
                async with page.expect_navigation():
                    await page.get_by_role("button", name="Sign in").click()
                assert page.url == f"{base}/dashboard?year=2010&as_of=2010-12-31"
                (session,) = [c for c in await page.context.cookies() if c["name"] == "reitti_dashboard"]
                assert session["httpOnly"] and session["sameSite"] == "Lax"
                assert session["path"] == "/dashboard"
                assert await page.evaluate("document.cookie") == "", "no script can read the session"

                async def shown(testid: str) -> tuple[str, str | None]:
                    element = page.get_by_test_id(testid)
                    return (await element.text_content() or ""), await element.get_attribute("data-value")

                for outcome, value in outcomes["shares"].items():
                    text, exact = await shown(f"outcome-share-{outcome}")
                    if value is None:  # hidden by disclosure control: marked, not drawn
                        assert (text, exact) == ("hidden", "hidden")
                    else:
                        assert exact == f"{value:.4f}" and text.startswith(f"{round(value * 100)} %")
                assert [
                    round(outcomes["shares"][o] * 100) for o in ("open_labour_market", "outside_labour_force")
                ] == [
                    13,
                    28,
                ]
                for source, value in sources["shares"].items():
                    text, exact = await shown(f"source-share-{source}")
                    if value is None:
                        assert (text, exact) == ("hidden", "hidden")
                    else:
                        assert exact == f"{value:.4f}" and text.startswith(f"{round(value * 100)} %")
                assert await page.get_by_test_id("disclosure-control").count() == 1
                assert await shown("new-clients") == (str(intake["new_clients"]), str(intake["new_clients"]))
                assert (await shown("intake-target"))[0] == "350"
                mikkeli = next(r for r in intake["municipalities"] if r["municipality"] == "Mikkeli")
                assert (await shown("intake-mikkeli"))[
                    0
                ] == f"{mikkeli['new_clients']} (target {mikkeli['target']})"
                for guide in caseloads["guides"]:
                    text, _ = await shown(f"caseload-{guide['guide_person_id']}")
                    assert text.startswith(str(guide["active_clients"]))
                median = waiting["referral_to_assessment"]["median_days"]
                assert (await shown("wait-assessment-median"))[0] == f"{median:g} days"
                assert await page.locator("svg").count() >= 5, "the charts are inline SVG"
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
    shutil.copyfile(screenshot, DOCS_SCREENSHOT)


#: the page's reader: the steering group, whose figures are under disclosure control
STEERING = headers("steering_group_member", "steering-1", "centre")


def steering_token() -> str:
    return ISSUER.issue(person_id="steering-1", role="steering_group_member", organisation="centre")
