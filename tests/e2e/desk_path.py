"""The whole path of one client through the desk's pages in a real browser, for the
browser test (tests/e2e/test_desk_browser.py), in the page's language: the info list's
import (a row in error, a possible duplicate resolved), the intake queue, the info
session, attendance, consent, the service-needs assessment, the guide registered and
assigned by the coordinator, the plan (each measure saying when to use it), the phase,
the client's timeline, the transfer, the social worker's acknowledgement and return, the
re-assessment with the social worker, the closure proposal and the joint decision with
the final assessment. Each page visited is handed to ``visited`` (axe runs there, and
the test notes who viewed which page, for the access report); a step that waits for
another service waits on that service's answer, then loads the page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import httpx
from playwright.async_api import FilePayload, Page

from runtime import clock
from tests.support.apps import eventually
from tests.support.auth import headers

Visited = Callable[[Page, str], Awaitable[None]]
SignIn = Callable[[str, str, str], Awaitable[None]]


@dataclass(frozen=True)
class PathClient:
    """One whole path's client and staff, distinct per language: the staff's ids end in
    ``suffix``. ``duplicate_code`` has the client's name and birth date under a new code:
    the info list's row with it is held as a possible duplicate."""

    suffix: str
    first_name: str
    last_name: str
    code: str
    duplicate_code: str
    reason: str
    final_assessment: str

    def person(self, role: str) -> str:
        return f"{role}-{self.suffix}"

    def info_list(self) -> bytes:
        return (
            "personal_identity_code;first_name;last_name;municipality;referral_date;subsidy_days\n"
            f"{self.code};{self.first_name};{self.last_name};Mikkeli;2026-03-02;520\n"
            f"{self.code[:7]}999X;Väärä;Rivi;Mikkeli;2026-02-30;\n"
            f"{self.duplicate_code};{self.first_name};{self.last_name};Mikkeli;2026-03-02;520\n"
        ).encode()


async def submit(page: Page, action: str) -> None:
    """Send the form posting to ``action`` (its path's end) with its button."""
    async with page.expect_navigation():
        await page.locator(f'form[action$="{action}"] button[type="submit"]').click()


async def import_info_list(page: Page, desk: str, who: PathClient, visited: Visited) -> str:
    """The advisor imports the info list: one new case, a row in error by its line, a
    possible duplicate held, then resolved as the same person; the new client's id."""
    await page.goto(f"{desk}/intake/import")
    await visited(page, "import form")
    listed: FilePayload = {"name": "infolista.csv", "mimeType": "text/csv", "buffer": who.info_list()}
    await page.locator("#info_list").set_input_files(files=[listed])
    await submit(page, "/intake/import")
    # the progress page updates itself (its script) and shows the results at the end
    await page.get_by_test_id("import-done").wait_for()
    counts = {
        name: await page.get_by_test_id(f"count-{name}").text_content()
        for name in ("new_cases", "rejected", "possible_duplicates")
    }
    assert counts == {"new_cases": "1", "rejected": "1", "possible_duplicates": "1"}, counts
    errors = await page.get_by_test_id("import-error-row").all_inner_texts()
    assert errors and all(e.startswith("3") for e in errors), errors  # line 3, each field
    await visited(page, "import result")
    client_id = (await page.get_by_test_id("import-row").get_by_role("link").text_content() or "").strip()
    assert client_id.startswith("client-"), client_id

    await page.get_by_role("link", name=client_id).click()
    await page.wait_for_url(f"{desk}/intake/clients/{client_id}")
    await page.goto(f"{desk}/intake/possible-duplicates")
    await visited(page, "possible duplicates")
    held = page.get_by_test_id("possible-duplicate").filter(has_text=who.last_name)
    await held.locator(f'input[value="same_person:{client_id}"]').check()
    async with page.expect_navigation():
        await held.get_by_role("button").click()
    assert await page.get_by_test_id("done").count() == 1
    return client_id


async def whole_path(
    page: Page,
    desk: str,
    urls: dict[str, str],
    sign_in: SignIn,
    visited: Visited,
    move_clock: Callable[[timedelta], None],
    who: PathClient,
) -> str:
    """One client from the info list to a closed case; the client's id."""
    advisor, coordinator_id, guide = who.person("advisor"), who.person("coordinator"), who.person("guide")
    worker = who.person("sw")
    await sign_in("employment_advisor", advisor, "")
    client_id = await import_info_list(page, desk, who, visited)
    await page.goto(f"{desk}/intake/queue")
    await visited(page, "intake queue")
    await page.get_by_role("link", name=f"{who.last_name}, {who.first_name}").click()
    await page.wait_for_url(f"{desk}/intake/clients/{client_id}")
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

    # the coordinator registers the guide for the area on the guides page
    await sign_in("service_coordinator", coordinator_id, "")
    await page.goto(f"{desk}/guidance/guides")
    await page.locator("#person_id").fill(guide)
    await page.locator("#name").fill(f"Greta {who.suffix}")
    await page.locator("#role").select_option("service_guide")
    await page.locator('input[name="areas"][value="Mikkeli"]').check()
    await submit(page, "/guidance/guides")
    assert await page.get_by_test_id("done").count() == 1
    await visited(page, "guides and their areas")
    coordinator = headers("service_coordinator", coordinator_id, "centre")
    async with httpx.AsyncClient(base_url=urls["guidance"], headers=coordinator) as guidance:
        await eventually(lambda: guidance.get("/waiting"), lambda r: client_id in r.text, within=30)
    await page.goto(f"{desk}/guidance/waiting")
    await visited(page, "waiting for a guide")
    await page.get_by_role("link", name=client_id).click()
    await page.wait_for_url(f"{desk}/guidance/cases/{client_id}")
    await visited(page, "case, to assign")
    await page.locator("#guide_person_id").select_option(guide)
    await submit(page, "/guide")

    await sign_in("service_guide", guide, "")
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
    assert await page.locator('[data-testid="measure-use"][data-kind="job_coach"]').count() == 1
    await page.locator("#phase").select_option("survey_and_research")
    await page.locator("#changed_on").fill(today)
    await submit(page, "/phase")
    events = page.get_by_test_id("case-timeline-row")
    assert await events.last.get_attribute("data-event") == "PhaseChanged"
    assert await events.first.get_attribute("data-event") == "ClientReferred", "intake's steps, by consent"
    await visited(page, "case, the plan and the timeline")
    await page.locator("#transferred_on").fill(today)
    await page.locator('input[name="relationship_stays_open"][value="yes"]').check()
    await page.locator("#activation_plan-start").fill(today)
    await page.locator("#activation_plan-months").fill("3")
    await page.locator("#activation_plan-days_per_week").fill("3")
    await page.locator("#activation_plan-hours_per_day").fill("4")
    await page.locator("#activation_plan-place").fill("Paja")
    await submit(page, "/transfer")

    social = headers("social_worker", worker, "social_services:mikkeli")
    municipal = "/views/municipalities/Mikkeli/clients"

    def answered(accepted: bool | None) -> Callable[[httpx.Response], bool]:
        return lambda r: any(
            t["client_id"] == client_id and t["accepted"] is accepted for t in r.json()["transfers"]
        )

    async with httpx.AsyncClient(base_url=urls["reporting"], headers=social) as reporting:
        await eventually(lambda: reporting.get(municipal), answered(None), within=30)
        await sign_in("social_worker", worker, "social_services:mikkeli")
        await page.goto(f"{desk}/social/transfers")
        await visited(page, "transfers to acknowledge")
        await page.get_by_test_id("transfer-waiting").locator('input[name="accepted"][value="yes"]').check()
        await submit(page, "/acknowledgement")
        await eventually(lambda: reporting.get(municipal), answered(True), within=30)
    await page.goto(f"{desk}/social/transfers")
    await visited(page, "transfers, to return")
    await submit(page, "/return")

    await sign_in("service_guide", guide, "")
    case = f"{desk}/guidance/cases/{client_id}"
    await page.goto(case)
    await page.locator("#reassessed_on").fill(today)
    await page.locator("#assessors-1-person_id").fill(worker)
    await page.locator("#assessors-1-organisation").select_option("social_services:mikkeli")
    await page.locator("#route").select_option("individual_service_guidance")
    await page.locator("#reassessment-reason").fill(who.reason)
    await submit(page, "/reassessment")
    assert await page.get_by_test_id("case-timeline-row").last.get_attribute("data-event") == (
        "ReassessmentCompleted"
    )
    await page.locator("#proposed_on").fill(today)
    for name, value in (("outcome", "education"), ("services_continue", "te_office")):
        await page.locator(f'form[action$="/closure-proposal"] select[name="{name}"]').select_option(value)
    await page.locator("#reason").fill(who.reason)
    await submit(page, "/closure-proposal")
    await visited(page, "case, proposed")

    await sign_in("employment_advisor", advisor, "")
    await page.goto(case)
    closure = page.locator('form[action$="/closure"]')
    await closure.locator('select[name="outcome"]').select_option("education")
    await closure.locator('select[name="services_continue"]').select_option("te_office")
    await page.locator("#final_assessment-text").fill(who.final_assessment)
    for name in ("final_assessment.work_ability_clarified", "final_assessment.competence_improved"):
        await page.locator(f'input[name="{name}"][value="yes"]').check()
    await page.locator("#joint_decision-decided_on").fill(today)
    await page.locator("#joint_decision-te_office_person_id").fill(advisor)
    await page.locator("#joint_decision-municipality_person_id").fill(worker)
    await page.locator("#joint_decision-kela_person_id").fill(who.person("kela"))
    await submit(page, "/closure")
    assert await page.get_by_test_id("closed-on").count() == 1
    await visited(page, "case, closed")
    return client_id
