"""The whole path of one client through the desk's pages in a real browser, for the
browser test (tests/e2e/test_desk_browser.py): referral, the intake queue, the info
session, attendance, consent, the service-needs assessment, the guide's assignment,
the plan, the transfer, the social worker's acknowledgement and return, the closure
proposal and the joint decision with the final assessment. Each page visited is handed
to ``visited`` (axe runs there); a step that waits for another service waits on that
service's answer, then loads the page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import httpx
from playwright.async_api import Page

from runtime import clock
from tests.support.apps import eventually
from tests.support.auth import headers

Visited = Callable[[Page, str], Awaitable[None]]
SignIn = Callable[[str, str, str], Awaitable[None]]


async def submit(page: Page, action: str) -> None:
    """Send the form posting to ``action`` (its path's end) with its button."""
    async with page.expect_navigation():
        await page.locator(f'form[action$="{action}"] button[type="submit"]').click()


async def whole_path(
    page: Page,
    desk: str,
    urls: dict[str, str],
    sign_in: SignIn,
    visited: Visited,
    move_clock: Callable[[timedelta], None],
) -> str:
    """One client from referral to a closed case; the client's id."""
    await sign_in("employment_advisor", "advisor-path", "")
    await page.goto(f"{desk}/intake/referral")
    await page.locator("#client-first_name").fill("Aino")
    await page.locator("#client-last_name").fill("Polku")
    await page.locator("#client-personal_identity_code").fill("010190-123M")
    await page.locator("#referral_date").fill("2026-03-02")
    await page.locator("#subsidy_days").fill("520")
    async with page.expect_navigation():
        await page.locator("#subsidy_days").press("Enter")
    await page.get_by_test_id("queue-row").first.get_by_role("link").click()
    await page.wait_for_url(f"{desk}/intake/clients/*")
    client_id = page.url.rsplit("/", 1)[1].split("?")[0]
    client = f"{desk}/intake/clients/{client_id}"
    await submit(page, "/pick")

    await page.goto(f"{desk}/intake/info-sessions")
    await page.locator("#starts_at").fill((clock.now() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    await page.locator("#place").fill("Sali 1")
    await page.locator("#capacity").fill("10")
    await submit(page, "/intake/info-sessions")
    await page.goto(client)
    await submit(page, "/invitation")
    move_clock(timedelta(hours=3))  # the session has begun
    today = clock.today().isoformat()
    await page.goto(client)
    await page.locator('input[name="attended"][value="yes"]').check()
    await page.locator("#attended_on").fill(today)
    await submit(page, "/attendance")
    for scope in ("move_to_centre", "data_exchange_within_centre", "disclosure_to_organisations"):
        await page.locator(f'input[name="scopes"][value="{scope}"]').check()
    await page.locator('input[name="organisations"][value="social_services:mikkeli"]').check()
    await page.locator("#given_on").fill(today)
    await submit(page, "/consent")
    await visited(page, "client with consent")

    await page.get_by_test_id("assessment-link").click()
    await page.wait_for_url(f"{client}/assessment")
    await visited(page, "assessment")
    for index in range(6):
        await page.locator(f"#findings-{index}-support_need").select_option("some")
    await page.locator('input[name="capacity_allows_rehabilitative_work"][value="yes"]').check()
    await page.locator("#route").select_option("individual_service_guidance")
    await page.locator("#profile").select_option("centre")
    await page.locator("#ministry_segment").select_option("3")
    await submit(page, "/assessment")
    assert await page.get_by_test_id("route").count() == 1

    coordinator = headers("service_coordinator", "coordinator-path", "centre")
    async with httpx.AsyncClient(base_url=urls["guidance"], headers=coordinator) as guidance:
        added = await guidance.post(
            "/guides",
            json={"person_id": "guide-path", "name": "Greta", "role": "service_guide", "areas": ["Mikkeli"]},
        )
        assert added.is_success, added.text
        await eventually(lambda: guidance.get("/waiting"), lambda r: client_id in r.text, within=30)
    await sign_in("service_coordinator", "coordinator-path", "")
    await page.goto(f"{desk}/guidance/waiting")
    await visited(page, "waiting for a guide")
    await page.get_by_role("link", name=client_id).click()
    await page.wait_for_url(f"{desk}/guidance/cases/{client_id}")
    await visited(page, "case, to assign")
    await submit(page, "/guide")

    await sign_in("service_guide", "guide-path", "")
    await page.goto(f"{desk}/guidance/worklist")
    assert await page.get_by_test_id("worklist-row").count() == 1
    await visited(page, "worklist")
    await page.get_by_role("link", name=client_id).click()
    await page.wait_for_url(f"{desk}/guidance/cases/{client_id}")
    await visited(page, "case, the plan")
    await page.locator("#measures-0-kind").select_option(index=1)
    await page.locator("#measures-0-provider").fill("Vartti")
    await page.locator("#measures-0-start").fill(today)
    await submit(page, "/plan")
    assert await page.get_by_test_id("measure-row").count() == 1
    await page.locator("#transferred_on").fill(today)
    await page.locator('input[name="relationship_stays_open"][value="yes"]').check()
    await page.locator("#activation_plan-start").fill(today)
    await page.locator("#activation_plan-months").fill("3")
    await page.locator("#activation_plan-days_per_week").fill("3")
    await page.locator("#activation_plan-hours_per_day").fill("4")
    await page.locator("#activation_plan-place").fill("Paja")
    await submit(page, "/transfer")

    social = headers("social_worker", "sw-path", "social_services:mikkeli")
    municipal = "/views/municipalities/Mikkeli/clients"

    def answered(accepted: bool | None) -> Callable[[httpx.Response], bool]:
        return lambda r: any(
            t["client_id"] == client_id and t["accepted"] is accepted for t in r.json()["transfers"]
        )

    async with httpx.AsyncClient(base_url=urls["reporting"], headers=social) as reporting:
        await eventually(lambda: reporting.get(municipal), answered(None), within=30)
        await sign_in("social_worker", "sw-path", "social_services:mikkeli")
        await page.goto(f"{desk}/social/transfers")
        await visited(page, "transfers to acknowledge")
        await page.get_by_test_id("transfer-waiting").locator('input[name="accepted"][value="yes"]').check()
        await submit(page, "/acknowledgement")
        await eventually(lambda: reporting.get(municipal), answered(True), within=30)
    await page.goto(f"{desk}/social/transfers")
    await visited(page, "transfers, to return")
    await submit(page, "/return")

    await sign_in("service_guide", "guide-path", "")
    case = f"{desk}/guidance/cases/{client_id}"
    await page.goto(case)
    await page.locator("#proposed_on").fill(today)
    for name, value in (("outcome", "education"), ("services_continue", "te_office")):
        await page.locator(f'form[action$="/closure-proposal"] select[name="{name}"]').select_option(value)
    await page.locator("#reason").fill("Opinnot alkavat.")
    await submit(page, "/closure-proposal")
    await visited(page, "case, proposed")

    await sign_in("employment_advisor", "advisor-path", "")
    await page.goto(case)
    closure = page.locator('form[action$="/closure"]')
    await closure.locator('select[name="outcome"]').select_option("education")
    await closure.locator('select[name="services_continue"]').select_option("te_office")
    await page.locator("#final_assessment-text").fill("Aloittaa ammatilliset opinnot.")
    for name in ("final_assessment.work_ability_clarified", "final_assessment.competence_improved"):
        await page.locator(f'input[name="{name}"][value="yes"]').check()
    await page.locator("#joint_decision-decided_on").fill(today)
    await page.locator("#joint_decision-te_office_person_id").fill("advisor-path")
    await page.locator("#joint_decision-municipality_person_id").fill("sw-path")
    await page.locator("#joint_decision-kela_person_id").fill("kela-path")
    await submit(page, "/closure")
    assert await page.get_by_test_id("closed-on").count() == 1
    await visited(page, "case, closed")
    return client_id
