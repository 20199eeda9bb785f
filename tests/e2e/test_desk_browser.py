"""The staff desk in a real browser (Debian's chromium, driven by Playwright; slow). First
the whole path of one client in Finnish, referral to a closed case, across the roles
(tests/e2e/desk_path.py), and a social worker refused the guide's worklist. Then, in
Finnish, Swedish and English (a shorter path, to keep the test near a minute) an
employment advisor signs in with the keyboard, refers a client (first with a mistake,
shown beside its field in the page's language), and sees them in the intake queue; a
nurse is shown "not permitted" for the queue. axe-core checks every page visited (zero
violations), nothing is fetched from elsewhere, and the key pages are saved as
screenshots in the test's tmp dir, and under docs/desk/ (shown in the README) only when
``REITTI_UPDATE_SCREENSHOTS=1``, so a normal run leaves the tree clean."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
import pytest

from runtime import clock
from tests.e2e.desk_path import PathClient, whole_path
from tests.e2e.test_dashboard import CHROMIUM, CHROMIUM_ARGS
from tests.support.apps import eventually
from tests.support.auth import headers
from tests.support.desk import desk_over_services

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: where the README's screenshots live; written only with REITTI_UPDATE_SCREENSHOTS=1
README_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "desk"


def screenshot_dir(tmp_path: Path) -> Path:
    """docs/desk/ when the README's pictures are to be made again, else the test's tmp dir."""
    if os.environ.get("REITTI_UPDATE_SCREENSHOTS") == "1":
        return README_SCREENSHOTS
    found = tmp_path / "screenshots"
    found.mkdir(exist_ok=True)
    return found


#: per language: the switcher's button, the texts the test reads, and a client to refer
LANGUAGES: dict[str, dict[str, str]] = {
    "fi": {
        "button": "suomeksi",
        "sign_in": "Kirjaudu sisään",
        "referral": "Uusi lähete",
        "sessions": "Info-tilaisuudet",
        "register": "Kirjaa lähete",
        "whole_number": "Anna kokonaisluku.",
        "done": "Lähete kirjattiin.",
        "denied": "Roolisi, terveydenhoitaja, ei saa nähdä tätä sivua.",
        "code": "010190-901R",
        "first": "Maija",
    },
    "sv": {
        "button": "på svenska",
        "sign_in": "Logga in",
        "referral": "Ny remiss",
        "sessions": "Infotillfällen",
        "register": "Registrera remissen",
        "whole_number": "Ange ett heltal.",
        "done": "Remissen registrerades.",
        "denied": "Din roll, hälsovårdare, får inte se den här sidan.",
        "code": "020285-902X",
        "first": "Stina",
    },
    "en": {
        "button": "in English",
        "sign_in": "Sign in",
        "referral": "New referral",
        "sessions": "Info sessions",
        "register": "Register the referral",
        "whole_number": "Give a whole number.",
        "done": "The referral was registered.",
        "denied": "Your role, nurse, may not see this page.",
        "code": "030378-903L",
        "first": "Emma",
    },
}
#: the whole path's client and staff in each language
PATHS: dict[str, PathClient] = {
    "fi": PathClient(
        "fi", "Aino", "Polku", "010190-123M", "010190-456C", "Opinnot alkavat.", "Aloittaa opinnot."
    ),
    "sv": PathClient(
        "sv", "Greta", "Stig", "020285-211M", "020285-358C", "Studierna börjar.", "Börjar yrkesstudier."
    ),
    "en": PathClient(
        "en", "Ada", "Route", "030378-4223", "030378-5474", "Studies begin.", "Starts vocational studies."
    ),
}
#: the desk's pages that show a client's data (each view is in the client's access report)
CLIENT_DATA_PAGES = (
    "/intake/clients/",
    "/intake/queue",
    "/intake/possible-duplicates",
    "/guidance/waiting",
    "/guidance/worklist",
    "/guidance/cases/",
    "/social/transfers",
    "/audit/clients",
)
#: the pages saved for the README: (language, what) -> file
SHOTS = {
    ("fi", "sign-in"): "sign-in-fi.png",
    ("fi", "referral-errors"): "referral-errors-fi.png",
    ("sv", "queue"): "queue-sv.png",
    ("fi", "client"): "client-fi.png",
    ("en", "how"): "how-the-centre-works-en.png",
    ("en", "denied"): "not-permitted-en.png",
    ("fi", "assessment"): "assessment-fi.png",
    ("fi", "case, to assign"): "assign-guide-fi.png",
    ("fi", "worklist"): "worklist-fi.png",
    ("fi", "transfers to acknowledge"): "transfers-fi.png",
    ("fi", "case, closed"): "closed-fi.png",
    ("fi", "audit"): "audit-fi.png",
    ("fi", "import result"): "import-result-fi.png",
    ("sv", "possible duplicates"): "possible-duplicates-sv.png",
    ("en", "case, the plan"): "plan-en.png",
    ("fi", "case, the plan and the timeline"): "timeline-fi.png",
}


async def denied_pages(page: Any, desk: str, client_id: str, sign_in_as: Any, accessible: Any) -> None:
    """Each role sees only what it may: a social worker is refused the guide's worklist, a
    nurse sees the health check (and nothing else of the case), the coordinator the guides,
    the steering group the dashboard and not a client's page."""
    await sign_in_as("social_worker", "sw-other", "social_services:mikkeli")
    refused: Any = await page.goto(f"{desk}/guidance/worklist")
    assert refused is not None and refused.status == 403
    await accessible(page, "fi: a social worker is not permitted the worklist")
    await sign_in_as("nurse", "nurse-path", "")
    health: Any = await page.goto(f"{desk}/guidance/cases/{client_id}/health")
    assert health is not None and health.status == 200
    assert await page.get_by_test_id("no-health-check").count() == 1
    await accessible(page, "fi: the nurse's health check")
    await sign_in_as("steering_group_member", "steering-path", "")
    await page.get_by_role("navigation").get_by_test_id("nav-dashboard").click()
    await page.wait_for_url("**/dashboard**")
    assert await page.get_by_role("heading", level=1).count() == 1
    await accessible(page, "fi: the steering group's dashboard")
    await page.goto(f"{desk}/")
    case: Any = await page.goto(f"{desk}/guidance/cases/{client_id}")
    assert case is not None and case.status == 403
    await accessible(page, "fi: the steering group is not permitted a client's case")


async def one_path(
    browser: Any,
    desk: str,
    urls: dict[str, str],
    language: str,
    who: PathClient,
    requests: list[str],
    accessible: Any,
    shot: Any,
    move_clock: Any,
) -> None:
    """The whole path of one client in ``language``, the info list to a closed case; then
    the auditor's timeline, access report (every page view of the client's data: who,
    which page) and export; in Finnish, the pages each role is refused."""
    context = await browser.new_context(viewport={"width": 1100, "height": 900}, locale=language)
    page = await context.new_page()
    page.on("request", lambda request: requests.append(request.url))
    signed_in_as = [""]
    views: set[tuple[str, str]] = set()

    async def sign_in_as(role: str, person: str, organisation: str) -> None:
        await page.goto(f"{desk}/sign-in")
        await page.locator("#role").select_option(role)
        await page.locator("#organisation").select_option(organisation)
        await page.locator("#person").fill(person)
        async with page.expect_navigation():
            await page.locator("#person").press("Enter")
        signed_in_as[0] = person

    async def visited(page: Any, what: str) -> None:
        assert await page.get_attribute("html", "lang") == language
        await accessible(page, f"{language} path: {what}")
        await shot(page, language, what)
        path = urlsplit(page.url).path
        if path.startswith(CLIENT_DATA_PAGES):
            views.add((signed_in_as[0], path))

    client_id = await whole_path(page, desk, urls, sign_in_as, visited, move_clock, who)
    await sign_in_as("auditor", who.person("auditor"), "")
    await page.goto(f"{desk}/audit/clients?client_id={client_id}")
    assert await page.get_by_test_id("timeline-row").count() >= 10, "every step of the path"
    await visited(page, "audit")
    # every page view of the client's data is in the access report: who, which page
    pages = {(person, path.replace(client_id, "{client_id}")) for person, path in views}
    expected = {(person, f"staff desk: GET {path}") for person, path in pages}
    auditor = headers("auditor", who.person("auditor"), "centre")
    async with httpx.AsyncClient(base_url=urls["reporting"], headers=auditor) as reporting:
        seen = await eventually(
            lambda: reporting.get(f"/audit/clients/{client_id}/access-report"),
            lambda r: expected <= {(a["person_id"], a["purpose_detail"]) for a in r.json()},
            within=30,
        )
    logged = {(a["person_id"], a["purpose_detail"]) for a in seen.json()}
    assert expected <= logged, expected - logged
    assert len(expected) >= 10, expected
    readers = {who.person(r) for r in ("advisor", "coordinator", "guide", "sw")}
    people = set(await page.get_by_test_id("access-person").all_text_contents())
    assert readers <= people, people
    # the auditor's export of the log, through the desk
    async with page.expect_download() as download:
        await page.get_by_test_id("audit-export").click()
    exported = await (await download.value).path()
    assert client_id in await anyio.Path(exported).read_text()
    if language == "fi":
        await denied_pages(page, desk, client_id, sign_in_as, accessible)
    await context.close()


@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
)
async def test_the_desk_in_a_real_browser_in_three_languages(settings, tmp_path: Path, monkeypatch) -> None:
    from axe_playwright_python.async_playwright import Axe
    from playwright.async_api import Page, async_playwright

    axe = Axe()
    screenshots = screenshot_dir(tmp_path)
    checked: list[str] = []

    async def accessible(page: Page, what: str) -> None:
        results = await axe.run(page)
        assert results.violations_count == 0, f"{what}: {results.generate_report()}"
        checked.append(what)

    async def shot(page: Page, language: str, what: str) -> None:
        if (language, what) in SHOTS:
            await page.screenshot(path=str(screenshots / SHOTS[(language, what)]), full_page=True)

    real_now, ahead = clock._utc_now, [timedelta(0)]
    monkeypatch.setattr(clock, "_utc_now", lambda: real_now() + ahead[0])  # the business clock, movable

    def move_clock(by: timedelta) -> None:
        ahead[0] += by

    async with desk_over_services(settings, tmp_path) as urls, async_playwright() as p:
        desk = urls["desk"]
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        requests: list[str] = []
        try:
            for language, who in PATHS.items():
                await one_path(browser, desk, urls, language, who, requests, accessible, shot, move_clock)
            for count, (language, text) in enumerate(LANGUAGES.items(), start=1):
                context = await browser.new_context(viewport={"width": 1100, "height": 900}, locale=language)
                page = await context.new_page()
                page.on("request", lambda request: requests.append(request.url))

                async def sign_in(
                    role: str, person: str, page: Page = page, text: dict[str, str] = text
                ) -> None:
                    await page.goto(f"{desk}/sign-in")
                    await page.locator("#role").select_option(role)
                    await page.locator("#person").fill(person)
                    # the keyboard alone: Enter in the last field sends the form
                    async with page.expect_navigation():
                        await page.locator("#person").press("Enter")

                # the language, chosen with the switcher (a form: works without script)
                await page.goto(f"{desk}/sign-in")
                async with page.expect_navigation():
                    await page.get_by_role("button", name=text["button"]).click()
                assert await page.get_attribute("html", "lang") == language
                assert await page.get_by_role("heading", level=1).text_content() == text["sign_in"]
                await accessible(page, f"{language} sign-in")
                await shot(page, language, "sign-in")
                # the skip link is the first stop of the keyboard, and leads to the content
                await page.keyboard.press("Tab")
                assert await page.evaluate("document.activeElement.className") == "skip"

                await sign_in("employment_advisor", f"advisor-{language}")
                assert page.url == f"{desk}/"
                await accessible(page, f"{language} start page")
                session = next(c for c in await context.cookies() if c["name"] == "reitti_desk")
                assert session["httpOnly"] and session["sameSite"] == "Lax"
                assert await page.evaluate("document.cookie") == "", "no script can read the session"

                await page.get_by_role("navigation").get_by_role("link", name=text["referral"]).click()
                await page.wait_for_url(f"{desk}/intake/referral")
                await accessible(page, f"{language} referral form")
                await page.locator("#client-first_name").fill(text["first"])
                await page.locator("#client-last_name").fill("Virtanen")
                await page.locator("#client-personal_identity_code").fill(text["code"])
                await page.locator("#referral_date").fill("2026-03-02")
                await page.locator("#subsidy_days").fill("paljon")
                async with page.expect_navigation():
                    await page.get_by_role("button", name=text["register"]).click()
                error = page.get_by_test_id("error-subsidy_days")
                assert await error.text_content() == text["whole_number"]
                described = await page.locator("#subsidy_days").get_attribute("aria-describedby")
                assert described == "subsidy_days-error", "the message is tied to its field"
                await accessible(page, f"{language} referral form with an error")
                await shot(page, language, "referral-errors")

                await page.locator("#subsidy_days").fill("520")
                async with page.expect_navigation():
                    await page.locator("#subsidy_days").press("Enter")
                assert page.url == f"{desk}/intake/queue?done=referral"
                assert await page.get_by_test_id("done").text_content() == text["done"]
                # one more client each time (the whole path's client has left the queue, routed)
                assert await page.get_by_test_id("queue-row").count() == count
                await accessible(page, f"{language} intake queue")
                await shot(page, language, "queue")

                await page.get_by_test_id("queue-row").first.get_by_role("link").click()
                await page.wait_for_url(f"{desk}/intake/clients/*")
                assert await page.get_by_test_id("client-name").text_content() is not None
                await accessible(page, f"{language} client")
                await shot(page, language, "client")
                await page.get_by_role("navigation").get_by_role("link", name=text["sessions"]).click()
                await page.wait_for_url(f"{desk}/intake/info-sessions")
                await accessible(page, f"{language} info sessions")

                await page.goto(f"{desk}/how-the-centre-works")
                assert await page.get_by_test_id("in-force").count() == 1
                await accessible(page, f"{language} how the centre works")
                await shot(page, language, "how")

                async with page.expect_navigation():
                    await page.get_by_test_id("sign-out").click()
                assert page.url.startswith(f"{desk}/sign-in")
                await sign_in("nurse", f"nurse-{language}")
                response: Any = await page.goto(f"{desk}/intake/queue")
                assert response is not None and response.status == 403
                assert await page.get_by_test_id("denied").text_content() == text["denied"]
                await accessible(page, f"{language} not permitted")
                await shot(page, language, "denied")
                await context.close()
        finally:
            await browser.close()
    # the one page elsewhere is the steering group's dashboard: reporting's own page,
    # which the desk's menu leads to (docs/adr/0049)
    dashboard = f"{urls['reporting']}/dashboard"
    elsewhere = [url for url in requests if not url.startswith(desk)]
    assert elsewhere and all(url.startswith(dashboard) for url in elsewhere), elsewhere
    called = " ".join(url for url in requests if url.startswith(desk))
    assert not any(urls[name] in called for name in ("intake", "guidance", "reporting")), (
        "the browser never calls the APIs itself"
    )
    for language in LANGUAGES:  # axe ran on every page of each language's path and visit
        assert sum(c.startswith(f"{language} path: ") for c in checked) >= 15, checked
        assert sum(c.startswith(f"{language} ") and " path: " not in c for c in checked) == 9, checked
    for name in SHOTS.values():
        assert (screenshots / name).stat().st_size > 10_000
