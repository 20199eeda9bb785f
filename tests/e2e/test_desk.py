"""The staff desk against a running intake over real HTTP (services/desk/, docs/adr/0045):
the development sign-in and its session cookie, the anti-forgery check of every form, a
referral through the desk landing in the queue, the API's field errors beside their
fields in the user's language, a role without the permission shown "not permitted", and
every call made with the user's own token (the access log names the user)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from runtime import clock
from runtime.auth import TokenIssuer
from services.desk.app import HEADERS
from services.desk.app import create_app as desk_app
from services.intake.app import create_app as intake_app
from services.settings import ReittiConfig
from tests.support.auth import ISSUER
from tests.support.desk import desk_over_intake
from tests.support.served import serving

pytestmark = pytest.mark.integration

BROWSER = {"Accept": "text/html", "Accept-Language": "fi"}


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, html[:500]
    return found.group(1)


async def sign_in(desk: httpx.AsyncClient, role: str, person: str, organisation: str = "") -> httpx.Response:
    form = await desk.get("/sign-in")
    return await desk.post(
        "/sign-in",
        data={"csrf": csrf(form.text), "role": role, "person": person, "organisation": organisation},
    )


def referral(token: str, **changes: str) -> dict[str, str]:
    form = {
        "csrf": token,
        "client.first_name": "Maija",
        "client.last_name": "Meikäläinen",
        "client.personal_identity_code": "010190-123M",
        "source": "te_office",
        "municipality": "Mikkeli",
        "referral_date": "2026-03-02",
        "subsidy_days": "520",
    }
    return {**form, **changes}


async def test_an_advisor_refers_a_client_through_the_desk_and_sees_them_in_the_queue(
    settings, pool, tmp_path: Path
) -> None:
    async with (
        desk_over_intake(settings, tmp_path) as (desk_url, _intake),
        httpx.AsyncClient(base_url=desk_url, headers=BROWSER) as desk,
    ):
        assert (await desk.get("/intake/queue")).headers["location"].startswith("/sign-in?next=")
        signed = await sign_in(desk, "employment_advisor", "advisor-7")
        assert signed.status_code == 303 and signed.headers["location"] == "/"
        cookie = next(h for h in signed.headers.get_list("set-cookie") if h.startswith("reitti_desk="))
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie

        form = await desk.get("/intake/referral")
        assert form.status_code == 200 and '<html lang="fi">' in form.text
        # the API's field errors, beside their fields, in Finnish
        wrong = await desk.post(
            "/intake/referral",
            data=referral(csrf(form.text), subsidy_days="many", **{"client.last_name": ""}),
        )
        assert wrong.status_code == 422
        assert 'data-testid="error-subsidy_days" data-code="number_type">Anna kokonaisluku.' in wrong.text
        assert 'data-testid="error-client.last_name" data-code="missing">Täytä tämä kenttä.' in wrong.text
        assert 'aria-describedby="subsidy_days-error"' in wrong.text
        assert 'value="Maija"' in wrong.text, "what was typed is kept"

        done = await desk.post("/intake/referral", data=referral(csrf(form.text)))
        assert done.status_code == 303 and done.headers["location"] == "/intake/queue?done=referral"
        queue = await desk.get(done.headers["location"])
        assert queue.status_code == 200
        assert queue.text.count('data-testid="queue-row"') == 1
        assert "Mikkeli" in queue.text and "TE-toimisto" in queue.text and "2.3.2026" in queue.text
        assert 'data-testid="queue-name">Meikäläinen, Maija</a>' in queue.text, "a row names its client"

    # every call was the user's own: the access log names the advisor, not the desk
    reads = await pool.fetch(
        "SELECT envelope->'data'->'actor'->>'person_id' AS person, envelope->'data'->>'what' AS what, "
        "envelope->'data'->>'purpose_detail' AS detail "
        "FROM intake.events WHERE event_type = 'ClientDataAccessed'"
    )
    assert {(r["person"], r["what"], r["detail"]) for r in reads} >= {
        ("advisor-7", "intake queue", "staff desk: GET /intake/queue"),
        # the name in the queue is a read of the case; each read names the desk's page
        ("advisor-7", "intake case", "staff desk: GET /intake/queue"),
    }


async def test_a_form_without_the_session_s_anti_forgery_value_does_nothing(settings, tmp_path: Path) -> None:
    async with (
        desk_over_intake(settings, tmp_path) as (desk_url, _intake),
        httpx.AsyncClient(base_url=desk_url, headers=BROWSER) as desk,
    ):
        await sign_in(desk, "employment_advisor", "advisor-1")
        forged = await desk.post("/intake/referral", data=referral("not-this-session-s"))
        assert forged.status_code == 403 and 'data-testid="rejected"' in forged.text
        missing = await desk.post("/sign-out", data={"next": "/"})
        assert missing.status_code == 403
        as_json = await desk.post("/intake/referral", json=referral("x"))
        assert as_json.status_code == 415
        queue = await desk.get("/intake/queue")
        assert 'data-testid="queue-empty"' in queue.text, "nothing was referred"

        # the sign-in form is protected too (login CSRF)
        async with httpx.AsyncClient(base_url=desk_url, headers=BROWSER) as other:
            refused = await other.post("/sign-in", data={"csrf": "x", "role": "auditor", "person": "a"})
            assert refused.status_code == 403 and "reitti_desk" not in refused.text

        out = await desk.post("/sign-out", data={"csrf": csrf(queue.text)})
        assert out.status_code == 303 and out.headers["location"] == "/sign-in?reason=signed-out"
        assert (await desk.get("/intake/queue")).status_code == 303, "signed out"


async def test_a_role_without_the_permission_sees_a_not_permitted_page(settings, tmp_path: Path) -> None:
    async with (
        desk_over_intake(settings, tmp_path) as (desk_url, _intake),
        httpx.AsyncClient(base_url=desk_url, headers={**BROWSER, "Accept-Language": "sv"}) as desk,
    ):
        await sign_in(desk, "nurse", "nurse-1")
        home = await desk.get("/")
        assert 'href="/intake/queue"' not in home.text, "the menu offers what the role may do"
        denied = await desk.get("/intake/queue")
        assert denied.status_code == 403
        assert 'data-testid="denied"' in denied.text and "hälsovårdare" in denied.text
        assert "arbetskraftsrådgivare" in denied.text, "it names the roles that may"
        nothing = await desk.get("/no-such-page")
        assert nothing.status_code == 404 and "Sidan finns inte" in nothing.text


async def test_the_development_sign_in_signs_organisations_by_the_token_rule(
    settings, tmp_path: Path
) -> None:
    async with (
        desk_over_intake(settings, tmp_path) as (desk_url, _intake),
        httpx.AsyncClient(base_url=desk_url, headers={**BROWSER, "Accept-Language": "en"}) as desk,
    ):
        refused = await sign_in(desk, "social_worker", "sw-1")
        assert refused.status_code == 422
        assert 'id="organisation-error">Choose the organisation this role works for.' in refused.text
        signed = await sign_in(desk, "social_worker", "sw-1", "social_services:mikkeli")
        assert signed.status_code == 303
        home = await desk.get("/")
        assert "sw-1, social worker" in home.text


async def test_how_the_centre_works_is_the_matrix_and_the_rules_in_force(settings, tmp_path: Path) -> None:
    async with (
        desk_over_intake(settings, tmp_path) as (desk_url, _intake),
        httpx.AsyncClient(base_url=desk_url, headers=BROWSER) as desk,
    ):
        page = await desk.get("/how-the-centre-works")
        assert page.status_code == 200
        step = page.text.split("<h3>Terveystarkastus</h3>", 1)[1].split("</li>", 1)[0]
        assert "terveydenhoitaja" in step and "palveluohjaaja" not in step, "the nurse only"
        assert page.text.count('data-testid="in-force"') == 1
        assert "60 aktiivista asiakasta ohjaajaa kohden" in page.text


async def test_an_advisor_takes_a_client_invites_records_attendance_and_consent(
    settings, tmp_path: Path, monkeypatch
) -> None:
    real_now, ahead = clock._utc_now, [timedelta(0)]
    monkeypatch.setattr(clock, "_utc_now", lambda: real_now() + ahead[0])  # the business clock, movable
    async with (
        desk_over_intake(settings, tmp_path) as (desk_url, _intake),
        httpx.AsyncClient(base_url=desk_url, headers={**BROWSER, "Accept-Language": "en"}) as desk,
    ):
        await sign_in(desk, "employment_advisor", "advisor-3")
        form = await desk.get("/intake/referral")
        await desk.post("/intake/referral", data=referral(csrf(form.text)))
        queue = await desk.get("/intake/queue")
        found = re.search(r'href="(/intake/clients/client-[^"]+)"', queue.text)
        assert found is not None
        client = found.group(1)

        page = await desk.get(client)
        assert page.status_code == 200 and 'data-testid="client-name">Maija Meikäläinen' in page.text
        picked = await desk.post(f"{client}/pick", data={"csrf": csrf(page.text)})
        assert picked.headers["location"] == f"{client}?done=pick"
        page = await desk.get(picked.headers["location"])
        assert 'data-testid="owner">advisor-3' in page.text
        assert "No info session is scheduled." in page.text

        sessions = await desk.get("/intake/info-sessions")
        wrong = await desk.post(
            "/intake/info-sessions", data={"csrf": csrf(sessions.text), "place": "", "capacity": "many"}
        )
        assert wrong.status_code == 422
        assert 'data-testid="error-starts_at" data-code="missing"' in wrong.text
        assert 'data-testid="error-place"' in wrong.text and 'data-testid="error-capacity"' in wrong.text
        # the form's local time, in the centre's zone: the desk adds the offset
        starts = (clock.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
        scheduled = await desk.post(
            "/intake/info-sessions",
            data={"csrf": csrf(sessions.text), "starts_at": starts, "place": "Room 2", "capacity": "12"},
        )
        assert scheduled.status_code == 303, scheduled.text
        listed = await desk.get(scheduled.headers["location"])
        assert listed.text.count('data-testid="session-row"') == 1 and "Room 2" in listed.text
        page = await desk.get(client)
        session_id = re.search(r'<option value="(info-session-[^"]+)"', page.text)
        assert session_id is not None
        invited = await desk.post(
            f"{client}/invitation",
            data={
                "csrf": csrf(page.text),
                "session_id": session_id.group(1),
                "client_id": client.split("/")[-1],
            },
        )
        assert invited.status_code == 303, invited.text
        page = await desk.get(client)
        assert 'data-testid="invited"' in page.text

        early = await desk.post(
            f"{client}/attendance",
            data={
                "csrf": csrf(page.text),
                "session_id": session_id.group(1),
                "attended": "yes",
                "attended_on": clock.today().isoformat(),
            },
        )
        assert early.status_code == 409, "a refusal of the process, beside the attendance form"
        assert "The rules of the process do not allow this now." in early.text
        ahead[0] = timedelta(days=2, hours=1)  # the session has begun
        missing = await desk.post(
            f"{client}/attendance", data={"csrf": csrf(page.text), "session_id": session_id.group(1)}
        )
        assert missing.status_code == 422
        assert 'data-testid="error-attended" data-code="missing">Fill in this field.' in missing.text
        today = clock.today().isoformat()
        came = await desk.post(
            f"{client}/attendance",
            data={
                "csrf": csrf(page.text),
                "session_id": session_id.group(1),
                "attended": "yes",
                "attended_on": today,
                "initial_survey_form_given": "1",
            },
        )
        assert came.status_code == 303, came.text
        page = await desk.get(client)
        assert 'data-testid="attended"' in page.text
        assert 'name="assessor_person_id" type="text" value="advisor-3"' in page.text, "the user by default"
        no_time = await desk.post(
            f"{client}/appointment", data={"csrf": csrf(page.text), "assessor_person_id": "advisor-3"}
        )
        assert (
            no_time.status_code == 422
            and 'data-testid="error-appointment_at" data-code="missing"' in no_time.text
        )
        next_week = (clock.now() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
        booked = await desk.post(
            f"{client}/appointment",
            data={"csrf": csrf(page.text), "appointment_at": next_week, "assessor_person_id": "advisor-3"},
        )
        assert booked.status_code == 303, booked.text
        page = await desk.get(client)
        assert 'data-testid="appointment"' in page.text
        assert 'data-testid="waiting-for">the service-needs assessment' in page.text

        no_scope = await desk.post(f"{client}/consent", data={"csrf": csrf(page.text), "given_on": today})
        assert no_scope.status_code == 422 and 'data-testid="error-scopes"' in no_scope.text
        given = await desk.post(
            f"{client}/consent",
            content=(
                f"csrf={csrf(page.text)}&scopes=move_to_centre&scopes=disclosure_to_organisations"
                f"&organisations=kela&given_on={today}"
            ),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert given.status_code == 303, given.text
        page = await desk.get(client)
        assert page.text.count('data-testid="consent-row"') == 1 and "<td>Kela</td>" in page.text
        assert "disclosure to the organisations named; moving to the joint service centre" in page.text
        consent_id = re.search(r'name="consent_id" value="([^"]+)"', page.text)
        assert consent_id is not None
        withdrawn = await desk.post(
            f"{client}/withdrawal",
            data={"csrf": csrf(page.text), "consent_id": consent_id.group(1), "withdrawn_on": today},
        )
        assert withdrawn.status_code == 303, withdrawn.text
        page = await desk.get(client)
        assert "withdrawn on" in page.text and 'name="consent_id"' not in page.text

        # the service-needs assessment over the six areas, with a pair assessor
        again = await desk.post(
            f"{client}/consent",
            content=(
                f"csrf={csrf(page.text)}&scopes=move_to_centre&scopes=data_exchange_within_centre"
                f"&given_on={today}"
            ),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert again.status_code == 303, again.text
        page = await desk.get(client)
        assert 'data-testid="assessment-link"' in page.text
        form = await desk.get(f"{client}/assessment")
        assert form.status_code == 200 and form.text.count('<select id="findings-') == 6
        areas = {f"findings.{i}.support_need": "some" for i in range(6)}
        half_pair = await desk.post(
            f"{client}/assessment",
            data={"csrf": csrf(form.text), "assessed_on": today, **areas, "assessors.1.person_id": "sw-1"},
        )
        assert half_pair.status_code == 422, half_pair.text
        assert 'data-testid="error-capacity_allows_rehabilitative_work" data-code="missing"' in half_pair.text
        assert 'data-testid="error-route"' in half_pair.text
        assert 'data-testid="error-assessors.1.role"' in half_pair.text, "the pair's missing role, beside it"
        assessed = await desk.post(
            f"{client}/assessment",
            data={
                "csrf": csrf(form.text),
                "assessed_on": today,
                **areas,
                "findings.2.support_need": "significant",
                "assessors.1.person_id": "sw-1",
                "assessors.1.role": "social_worker",
                "assessors.1.organisation": "social_services:mikkeli",
                "capacity_allows_rehabilitative_work": "yes",
                "route": "individual_service_guidance",
                "profile": "centre",
                "ministry_segment": "3",
            },
        )
        assert assessed.status_code == 303, assessed.text
        page = await desk.get(assessed.headers["location"])
        assert 'data-testid="route">The assessment is done: the route is individual service guidance.' in (
            page.text
        )


async def test_without_the_development_sign_in_a_token_is_pasted_and_one_the_api_refuses_ends_it(
    settings, tmp_path: Path
) -> None:
    async with (
        serving(intake_app(settings)) as intake,
        serving(desk_app(ReittiConfig.from_env({"REITTI_DESK_INTAKE_URL": intake}))) as desk_url,
        httpx.AsyncClient(base_url=desk_url, headers={**BROWSER, "Accept-Language": "en"}) as desk,
    ):
        form = await desk.get("/sign-in")
        assert 'name="token"' in form.text and 'name="role"' not in form.text, "no development sign-in"
        for name, value in HEADERS.items():
            assert form.headers[name.lower()] == value
        token = ISSUER.issue(person_id="advisor-9", role="employment_advisor", organisation="te-office")
        signed = await desk.post("/sign-in", data={"csrf": csrf(form.text), "token": token})
        assert signed.status_code == 303
        cookie = next(h for h in signed.headers.get_list("set-cookie") if h.startswith("reitti_desk="))
        max_age = re.search(r"Max-Age=(\d+)", cookie)
        assert max_age is not None and 0 < int(max_age.group(1)) <= 12 * 3600
        assert (await desk.get("/intake/queue")).status_code == 200

        other = TokenIssuer.generate().issue(
            person_id="x", role="employment_advisor", organisation="te-office"
        )
        form = await desk.get("/sign-in")
        await desk.post("/sign-in", data={"csrf": csrf(form.text), "token": other})
        ended = await desk.get("/intake/queue")
        assert ended.status_code == 303 and ended.headers["location"] == "/sign-in?reason=ended"
        again = await desk.get(ended.headers["location"])
        assert (
            "Your session has ended: sign in again." in again.text
            and 'data-testid="signed-in-as"' not in again.text
        )
