"""The whole path through the desk's pages, over real HTTP against intake, guidance and
reporting on the test's broker and database (services/desk/, docs/adr/0045): an advisor
refers, invites, records attendance and consent and assesses the client to individual
guidance; the coordinator names a guide from the suggestions; the guide sees the client
on their worklist, makes the plan from the catalogue (a mistake shown beside its field)
and transfers the client; the municipality's social worker acknowledges and returns
them; the guide closes the case with the final assessment by the rules in force. A nurse
is shown "not permitted" for the guidance pages."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from contracts.intake import ConsentScope
from runtime import clock
from services.desk.i18n import read_catalogue
from services.desk.labels import SCOPES
from services.guidance.domain.plan import DEFAULT_MEASURE_CATALOGUE, DEFAULT_MEASURE_USES
from tests.e2e.test_desk import BROWSER, csrf, referral, sign_in
from tests.support.apps import eventually
from tests.support.desk import desk_over_services


def measure_cell(html: str) -> str:
    """The measure named in the plan's first row."""
    shown = re.search(r'<tr data-testid="measure-row"><td>([^<]+)</td>', html)
    assert shown is not None, "a row of the plan"
    return shown.group(1)


def timeline_events(html: str) -> list[str]:
    """The event types of the case page's timeline, in its order."""
    return re.findall(r'<tr data-testid="case-timeline-row" data-event="([^"]+)"', html)


def finnish_measure(code: str) -> str:
    """What the Finnish catalogue calls measure ``code`` of the one measure catalogue."""
    message = read_catalogue("fi").get(DEFAULT_MEASURE_CATALOGUE[code])
    assert message is not None, code
    return str(message.string)


pytestmark = pytest.mark.integration

HEALTH_DETAILS = "Selkakipu vuodesta 2019"
ENGLISH = {**BROWSER, "Accept-Language": "en"}


async def post(desk: httpx.AsyncClient, path: str, page: httpx.Response, **fields: str) -> httpx.Response:
    return await desk.post(path, data={"csrf": csrf(page.text), **fields})


async def test_one_client_from_referral_to_a_closed_case_through_the_desk(
    settings, tmp_path: Path, monkeypatch
) -> None:
    real_now, ahead = clock._utc_now, [timedelta(0)]
    monkeypatch.setattr(clock, "_utc_now", lambda: real_now() + ahead[0])  # the business clock, movable
    async with desk_over_services(settings, tmp_path) as urls:

        def browser() -> httpx.AsyncClient:
            return httpx.AsyncClient(base_url=urls["desk"], headers=ENGLISH)

        async with browser() as advisor:
            await sign_in(advisor, "employment_advisor", "advisor-1")
            form = await advisor.get("/intake/referral")
            await advisor.post("/intake/referral", data=referral(csrf(form.text)))
            found = re.search(
                r'href="/intake/clients/(client-[^"]+)"', (await advisor.get("/intake/queue")).text
            )
            assert found is not None
            client_id = found.group(1)
            client = f"/intake/clients/{client_id}"
            page = await advisor.get(client)
            assert (await post(advisor, f"{client}/pick", page)).status_code == 303
            sessions = await advisor.get("/intake/info-sessions")
            starts = (clock.now() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
            scheduled = await post(
                advisor, "/intake/info-sessions", sessions, starts_at=starts, place="Room 1", capacity="10"
            )
            assert scheduled.status_code == 303, scheduled.text
            page = await advisor.get(client)
            session_id = re.search(r'<option value="(info-session-[^"]+)"', page.text)
            assert session_id is not None
            invited = await post(
                advisor, f"{client}/invitation", page, session_id=session_id.group(1), client_id=client_id
            )
            assert invited.status_code == 303, invited.text
            ahead[0] = timedelta(hours=3)  # the session has begun
            today = clock.today().isoformat()
            came = await post(
                advisor,
                f"{client}/attendance",
                page,
                session_id=session_id.group(1),
                attended="yes",
                attended_on=today,
            )
            assert came.status_code == 303, came.text
            consent = await advisor.post(
                f"{client}/consent",
                content=(
                    f"csrf={csrf(page.text)}&scopes=move_to_centre&scopes=data_exchange_within_centre"
                    f"&scopes=disclosure_to_organisations&organisations=social_services:mikkeli"
                    f"&given_on={today}"
                ),
                headers={"content-type": "application/x-www-form-urlencoded"},
            )
            assert consent.status_code == 303, consent.text
            areas = {f"findings.{i}.support_need": "some" for i in range(6)}
            assessed = await post(
                advisor,
                f"{client}/assessment",
                page,
                assessed_on=today,
                **areas,
                capacity_allows_rehabilitative_work="yes",
                route="individual_service_guidance",
                profile="centre",
                ministry_segment="3",
            )
            assert assessed.status_code == 303, assessed.text

        async with browser() as coordinator:  # the coordinator registers the guide and their area
            await sign_in(coordinator, "service_coordinator", "coordinator-1")
            guides = await coordinator.get("/guidance/guides")
            assert guides.status_code == 200 and 'action="/guidance/guides"' in guides.text
            greta = {"person_id": "guide-1", "role": "service_guide", "areas": "Mikkeli"}
            no_name = await post(coordinator, "/guidance/guides", guides, **greta)
            assert no_name.status_code == 422 and 'data-testid="error-name"' in no_name.text
            added = await post(coordinator, "/guidance/guides", guides, **greta, name="Greta Guide")
            assert added.status_code == 303, added.text
            guides = await coordinator.get(added.headers["location"])
            row = re.search(r'<tr data-testid="guide-row">\s*<td>Greta Guide .*?</tr>', guides.text, re.S)
            assert row is not None and "Mikkeli" in row.group(0) and "0 / " in row.group(0), "caseload, limit"
            area = re.search(r'data-testid="area-Mikkeli">([^<]*)</dd>', guides.text)
            assert area is not None and "Greta Guide" in area.group(1), "the guides of the area"

        async with browser() as coordinator:
            await sign_in(coordinator, "service_coordinator", "coordinator-1")
            waiting = await eventually(
                lambda: coordinator.get("/guidance/waiting"), lambda r: client_id in r.text, within=30
            )
            assert waiting.status_code == 200
            case = f"/guidance/cases/{client_id}"
            page = await coordinator.get(case)
            assert page.status_code == 200 and 'data-testid="suggestion-row"' in page.text
            assert "Greta Guide (guide-1)" in page.text and "0 of " in page.text, (
                "the caseload against the limit"
            )
            assigned = await post(
                coordinator, f"{case}/guide", page, guide_person_id="guide-1", assigned_on=today
            )
            assert assigned.status_code == 303, assigned.text
            page = await coordinator.get(case)
            assert 'data-testid="guide">guide-1' in page.text

        async with browser() as guide:
            await sign_in(guide, "service_guide", "guide-1")
            worklist = await guide.get("/guidance/worklist")
            assert worklist.status_code == 200 and worklist.text.count('data-testid="worklist-row"') == 1
            assert client_id in worklist.text
            page = await guide.get(case)
            assert 'data-testid="catalogue"' in page.text
            kind = re.search(
                r'<select id="measures-0-kind"[^>]*>\s*<option value="">[^<]*</option>'
                r'\s*<option value="([^"]+)"',
                page.text,
            )
            assert kind is not None, "the catalogue's measures to choose from"
            no_start = await post(
                guide, f"{case}/plan", page, revised_on=today, **{"measures.0.kind": kind.group(1)}
            )
            assert no_start.status_code == 422, no_start.text
            assert 'data-testid="error-measures.0.start"' in no_start.text, "the mistake beside its field"
            planned = await post(
                guide,
                f"{case}/plan",
                page,
                revised_on=today,
                **{
                    "measures.0.kind": kind.group(1),
                    "measures.0.provider": "Vartti",
                    "measures.0.start": today,
                },
            )
            assert planned.status_code == 303, planned.text
            page = await guide.get(case)
            assert page.text.count('data-testid="measure-row"') == 1
            assert measure_cell(page.text) == DEFAULT_MEASURE_CATALOGUE[kind.group(1)], "named, not coded"
            assert (await post(guide, "/language", page, language="fi", next=case)).status_code == 303
            page = await guide.get(case)
            assert measure_cell(page.text) == finnish_measure(kind.group(1)), "named in the user's language"
            assert (await post(guide, "/language", page, language="en", next=case)).status_code == 303
            assert 'data-testid="health-link"' not in page.text, "the health check is the nurse's"
            page = await guide.get(case)
            use = re.search(r'data-testid="measure-use" data-kind="job_coach">([^<]+)</dd>', page.text)
            assert use is not None and use.group(1) == DEFAULT_MEASURE_USES["job_coach"].replace("'", "&#39;")
            assert page.text.count('data-testid="measure-use"') == len(DEFAULT_MEASURE_CATALOGUE)
            no_phase = await post(guide, f"{case}/phase", page, changed_on=today)
            assert no_phase.status_code == 422 and 'data-testid="error-phase"' in no_phase.text
            moved = await post(guide, f"{case}/phase", page, phase="survey_and_research", changed_on=today)
            assert moved.status_code == 303, moved.text
            page = await guide.get(case)
            assert "<dd>survey and research</dd>" in page.text
            assert timeline_events(page.text) == [
                "ClientReferred",
                "ReferralPicked",
                "InvitedToInfoSession",
                "InfoSessionAttended",
                "ConsentGiven",
                "AssessmentCompleted",
                "GuidanceCaseOpened",
                "GuideAssigned",
                "PlanRevised",
                "PhaseChanged",
            ], "intake's steps and guidance's, in order, under the consent to exchange"
            assert 'data-testid="intake-hidden"' not in page.text

        async with browser() as nurse:  # the health check: details into the health partition
            await sign_in(nurse, "nurse", "nurse-1")
            assert 'data-testid="health-link"' in (await nurse.get(case)).text
            health = await nurse.get(f"{case}/health")
            assert health.status_code == 200 and 'data-testid="no-health-check"' in health.text
            check = {
                "checked_on": today,
                "work_restrictions_found": "yes",
                "recommended_next_step": "Tyoterveys",
            }
            no_details = await post(nurse, f"{case}/health", health, **check)
            assert no_details.status_code == 422 and 'data-testid="error-details"' in no_details.text
            recorded = await post(nurse, f"{case}/health", health, **check, details=HEALTH_DETAILS)
            assert recorded.status_code == 303, recorded.text
            health = await nurse.get(recorded.headers["location"])
            assert health.text.count('data-testid="health-row"') == 1 and HEALTH_DETAILS in health.text

        async with browser() as guide:
            await sign_in(guide, "service_guide", "guide-1")
            denied = await guide.get(f"{case}/health")
            assert denied.status_code == 403 and 'data-testid="denied"' in denied.text
            assert HEALTH_DETAILS not in (await guide.get(case)).text, "the team sees the summary only"
            page = await guide.get(case)
            transferred = await post(
                guide,
                f"{case}/transfer",
                page,
                transferred_on=today,
                relationship_stays_open="yes",
                **{
                    "activation_plan.start": today,
                    "activation_plan.months": "3",
                    "activation_plan.days_per_week": "3",
                    "activation_plan.hours_per_day": "4",
                    "activation_plan.place": "Workshop",
                },
            )
            assert transferred.status_code == 303, transferred.text

        async with browser() as social:
            await sign_in(social, "social_worker", "sw-1", "social_services:mikkeli")
            page = await eventually(
                lambda: social.get("/social/transfers"),
                lambda r: 'data-testid="transfer-waiting"' in r.text,
                within=30,
            )
            assert "Maija Meikäläinen" in page.text, "the name, under the consent naming them"
            action = re.search(r'action="(/social/transfers/[^"]+/acknowledgement)"', page.text)
            assert action is not None
            accepted = await post(social, action.group(1), page, accepted="yes", acknowledged_on=today)
            assert accepted.status_code == 303, accepted.text
            page = await eventually(
                lambda: social.get("/social/transfers"),
                lambda r: 'data-testid="transfer-accepted"' in r.text,
                within=30,
            )
            action = re.search(r'action="(/social/transfers/[^"]+/return)"', page.text)
            assert action is not None
            returned = await post(social, action.group(1), page, returned_on=today)
            assert returned.status_code == 303, returned.text

        async with browser() as guide:
            await sign_in(guide, "service_guide", "guide-1")
            page = await guide.get(case)
            assert "returned on" in page.text
            alone = await post(
                guide,
                f"{case}/reassessment",
                page,
                reassessed_on=today,
                route="job_search_services",
                reason="x",
            )
            assert alone.status_code == 422, alone.text
            assert 'data-testid="error-assessors.1.person_id"' in alone.text, (
                "the co-assessor, beside its field"
            )
            reassessed = await post(
                guide,
                f"{case}/reassessment",
                page,
                reassessed_on=today,
                route="individual_service_guidance",
                reason="Stalled after the return; work ability clarified with the social worker.",
                **{"assessors.1.person_id": "sw-1", "assessors.1.organisation": "social_services:mikkeli"},
            )
            assert reassessed.status_code == 303, reassessed.text
            page = await guide.get(case)
            assert timeline_events(page.text)[-1] == "ReassessmentCompleted"
            joint = (
                'data-testid="closure-rule">Under the rules in force the closure is a joint decision'
                in page.text
            )
            fields = {
                "closed_on": today,
                "outcome": "education",
                "services_continue": "te_office",
                "final_assessment.text": "Starts vocational studies.",
                "final_assessment.work_ability_clarified": "yes",
                "final_assessment.competence_improved": "yes",
            }
            if joint:
                proposed = await post(
                    guide,
                    f"{case}/closure-proposal",
                    page,
                    proposed_on=today,
                    outcome="education",
                    services_continue="te_office",
                    reason="Studies start.",
                )
                assert proposed.status_code == 303, proposed.text
                page = await guide.get(case)
                assert 'data-testid="decided-by-others"' in page.text
                fields.update(
                    {
                        "joint_decision.decided_on": today,
                        "joint_decision.te_office_person_id": "advisor-1",
                        "joint_decision.municipality_person_id": "sw-1",
                        "joint_decision.kela_person_id": "kela-1",
                    }
                )
        # under a joint decision someone other than the proposing guide records it
        async with browser() as decider:
            await sign_in(
                decider, *(("employment_advisor", "advisor-1") if joint else ("service_guide", "guide-1"))
            )
            page = await decider.get(case)
            no_text = await post(decider, f"{case}/closure", page, **{**fields, "final_assessment.text": ""})
            assert no_text.status_code == 422, no_text.text
            assert 'data-testid="error-final_assessment.text"' in no_text.text
            closed = await post(decider, f"{case}/closure", page, **fields)
            assert closed.status_code == 303, closed.text
            page = await decider.get(case)
            assert 'data-testid="status">closed' in page.text and 'data-testid="closed-on"' in page.text

        async with browser() as advisor:  # the client withdraws the consent to exchange
            await sign_in(advisor, "employment_advisor", "advisor-1")
            page = await advisor.get(client)
            consent_id = re.search(r'name="consent_id" value="([^"]+)"', page.text)
            assert consent_id is not None
            withdrawn = await post(
                advisor, f"{client}/withdrawal", page, consent_id=consent_id.group(1), withdrawn_on=today
            )
            assert withdrawn.status_code == 303, withdrawn.text
        async with browser() as guide:  # intake's steps are no longer the municipal guide's to see
            await sign_in(guide, "service_guide", "guide-1")
            page = await guide.get(case)
            assert page.status_code == 200, page.text
            assert 'data-testid="intake-hidden"' in page.text and 'data-testid="missing-consent"' in page.text
            hidden = page.text.split('data-testid="intake-hidden"', 1)[1].split("</div>", 2)[0]
            assert SCOPES[ConsentScope.DATA_EXCHANGE_WITHIN_CENTRE] in hidden, "the consent missing, named"
            assert "ClientReferred" not in timeline_events(page.text)
            assert "GuidanceCaseOpened" in timeline_events(page.text)

        # each role sees only what it may: the API refuses, the desk shows "not permitted"
        for role, person, organisation, paths in (
            (
                "social_worker",
                "sw-2",
                "social_services:mikkeli",
                ("/guidance/waiting", "/guidance/worklist", case),
            ),
            ("nurse", "nurse-1", "", ("/social/transfers",)),
        ):
            async with browser() as other:
                await sign_in(other, role, person, organisation)
                for path in paths:
                    denied = await other.get(path)
                    assert denied.status_code == 403 and 'data-testid="denied"' in denied.text, (role, path)
