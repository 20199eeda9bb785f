"""The dashboard's sign-in against the running reporting service: a token is exchanged for
an HttpOnly, SameSite session cookie; the dashboard opens with it and never with a token in
its URL; sign-out, forged and expired cookies, roles without the permission and forged
forms are refused (docs/adr/0028)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from http.cookiejar import CookieJar, DefaultCookiePolicy
from http.cookies import Morsel, SimpleCookie
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from contracts.base import Actor
from services.reporting.app import create_app as reporting_app
from services.reporting.dashboard_session import COOKIE, FORM_COOKIE, DashboardSessions, Session
from tests.support.apps import running
from tests.support.auth import ISSUER, headers

pytestmark = pytest.mark.integration

#: what a browser's navigation asks for
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
COORDINATOR = {"person_id": "coordinator-1", "role": "service_coordinator", "organisation": "centre"}


def stateless(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """A client that keeps no cookies: each test says which cookie a request carries."""
    client.cookies = httpx.Cookies(CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])))
    return client


def token(
    ttl: timedelta = timedelta(minutes=10),
    *,
    person_id: str = COORDINATOR["person_id"],
    role: str = COORDINATOR["role"],
    organisation: str = COORDINATOR["organisation"],
) -> str:
    return ISSUER.issue(person_id=person_id, role=role, organisation=organisation, ttl=ttl)


def set_cookies(response: httpx.Response) -> dict[str, Morsel[str]]:
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        jar.load(header)
    return dict(jar)


async def sign_in_form(client: httpx.AsyncClient) -> tuple[str, str]:
    """A sign-in form's hidden field and its anti-forgery cookie, as a browser gets them."""
    page = await client.get("/dashboard/sign-in", headers=BROWSER)
    assert page.status_code == 200
    field = re.search(r'name="form" value="([^"]+)"', page.text)
    assert field is not None
    return field.group(1), set_cookies(page)[FORM_COOKIE].value


async def sign_in(
    client: httpx.AsyncClient, with_token: str, *, next_url: str = "/dashboard?year=2010"
) -> httpx.Response:
    field, nonce = await sign_in_form(client)
    return await client.post(
        "/dashboard/sign-in",
        data={"token": with_token, "form": field, "next": next_url},
        headers={**BROWSER, "Cookie": f"{FORM_COOKIE}={nonce}"},
    )


def session_of(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    return set_cookies(response)[COOKIE].value


def assert_sensitive(response: httpx.Response) -> None:
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"


def to_sign_in(response: httpx.Response) -> str:
    """The reason a browser was sent to the sign-in page."""
    assert response.status_code == 303, response.text
    location = urlsplit(response.headers["location"])
    assert location.path == "/dashboard/sign-in"
    return parse_qs(location.query)["reason"][0]


async def test_sign_in_sets_an_httponly_samesite_session_cookie_that_opens_the_dashboard(settings) -> None:
    app = reporting_app(settings)
    async with running(app) as jar_client:
        client = stateless(jar_client)
        page = await client.get("/dashboard/sign-in", headers=BROWSER)
        assert page.status_code == 200 and '<form method="post" action="/dashboard/sign-in">' in page.text
        assert "<script" not in page.text and 'name="token"' in page.text
        assert_sensitive(page)
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        form_cookie = set_cookies(page)[FORM_COOKIE]
        assert form_cookie["httponly"] and form_cookie["samesite"].lower() == "strict"
        assert form_cookie["path"] == "/dashboard/sign-in"

        the_token = token(ttl=timedelta(minutes=10))
        signed_in = await sign_in(client, the_token)
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/dashboard?year=2010"
        assert_sensitive(signed_in)
        session = set_cookies(signed_in)[COOKIE]
        assert session["httponly"] and session["samesite"].lower() == "lax"
        assert session["path"] == "/dashboard" and not session["secure"], "plain http: not Secure"
        assert 0 < int(session["max-age"]) <= 600, "no longer than the token's remaining life"
        # not the token: no part of it, least of all its signature
        assert all(part not in session.value for part in the_token.split("."))
        assert set_cookies(signed_in)[FORM_COOKIE]["max-age"] == "0", "the form's cookie is spent"

        dashboard = await client.get(
            "/dashboard", params={"year": 2010}, headers={**BROWSER, "Cookie": f"{COOKIE}={session.value}"}
        )
        assert dashboard.status_code == 200, dashboard.text
        assert "Reitti: the centre in figures, 2010" in dashboard.text
        assert 'action="/dashboard/sign-out"' in dashboard.text
        assert_sensitive(dashboard)
        assert "frame-ancestors 'none'" in dashboard.headers["content-security-policy"]

        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://service"
        ) as https:
            session = set_cookies(await sign_in(stateless(https), token()))[COOKIE]
            assert session["secure"], "over https the cookie is Secure"


async def test_a_token_in_the_url_is_refused(settings) -> None:
    async with running(reporting_app(settings)) as jar_client:
        client = stateless(jar_client)
        url_token = token()
        browser = await client.get("/dashboard", params={"year": 2010, "token": url_token}, headers=BROWSER)
        assert to_sign_in(browser) == "token-in-url"
        assert url_token not in browser.headers["location"], "not carried on to the sign-in page"
        assert "year=2010" in parse_qs(urlsplit(browser.headers["location"]).query)["next"][0]
        page = await client.get(browser.headers["location"], headers=BROWSER)
        assert "no longer accepted" in page.text and "Authorization" not in page.text

        api = await client.get("/dashboard", params={"token": url_token})
        assert api.status_code == 401 and "not accepted" in api.text

        nothing = await client.get("/dashboard", headers=BROWSER)
        assert to_sign_in(nothing) == "none"
        assert_sensitive(nothing)
        assert (await client.get("/dashboard")).status_code == 401, "an API client without a token"


async def test_an_api_client_with_a_bearer_token_still_reads_the_dashboard(settings) -> None:
    async with running(reporting_app(settings)) as jar_client:
        client = stateless(jar_client)
        response = await client.get(
            "/dashboard", params={"year": 2010}, headers=headers("service_coordinator")
        )
        assert response.status_code == 200 and "Reitti: the centre in figures, 2010" in response.text
        assert "sign-out" not in response.text, "nothing to sign out of"
        assert_sensitive(response)
        statistics = await client.get(
            "/statistics/intake", params={"year": 2010}, headers=headers("service_coordinator")
        )
        assert statistics.status_code == 200
        assert_sensitive(statistics)
        assert "cache-control" not in (await client.get("/openapi.json")).headers, (
            "the docs are not sensitive"
        )


async def test_sign_out_clears_the_session(settings) -> None:
    async with running(reporting_app(settings)) as jar_client:
        client = stateless(jar_client)
        session = session_of(await sign_in(client, token()))
        out = await client.post("/dashboard/sign-out", headers={**BROWSER, "Cookie": f"{COOKIE}={session}"})
        assert to_sign_in(out) == "signed-out"
        cleared = set_cookies(out)[COOKIE]
        assert cleared.value == "" and cleared["max-age"] == "0" and cleared["path"] == "/dashboard"
        assert_sensitive(out)
        page = await client.get(out.headers["location"], headers=BROWSER)
        assert "you have signed out" in page.text


async def test_a_forged_or_expired_cookie_is_refused(settings) -> None:
    app = reporting_app(settings)
    async with running(app) as jar_client:
        client = stateless(jar_client)
        session = session_of(await sign_in(client, token()))
        actor = Actor(person_id="auditor-1", role="auditor", organisation="centre")
        later = datetime.now(UTC) + timedelta(hours=1)
        another_key = DashboardSessions(b"k" * 32).seal(Session(actor, later))
        tampered = session[:-3] + ("AAA" if not session.endswith("AAA") else "BBB")
        ours: DashboardSessions = app.state.dashboard_sessions
        expired = ours.seal(Session(actor, datetime.now(UTC) - timedelta(seconds=1)))
        not_a_session = ours.form()[0]  # signed by us, but a form's value: another salt
        for value, reason in (
            (another_key, "invalid"),
            (tampered, "invalid"),
            ("garbage", "invalid"),
            (not_a_session, "invalid"),
            (expired, "expired"),
        ):
            cookie = {"Cookie": f"{COOKIE}={value}"}
            browser = await client.get("/dashboard", headers={**BROWSER, **cookie})
            assert to_sign_in(browser) == reason, value
            assert set_cookies(browser)[COOKIE]["max-age"] == "0", "the bad cookie is cleared"
            assert (await client.get("/dashboard", headers=cookie)).status_code == 401
        good = await client.get("/dashboard", headers={**BROWSER, "Cookie": f"{COOKIE}={session}"})
        assert good.status_code == 200


async def test_a_token_without_the_statistics_permission_is_refused_at_sign_in(settings) -> None:
    async with running(reporting_app(settings)) as jar_client:
        client = stateless(jar_client)
        nurse = await sign_in(client, token(person_id="nurse-1", role="nurse"))
        assert nurse.status_code == 403 and COOKIE not in set_cookies(nurse)
        assert "your role &#x27;nurse&#x27; may not read the statistics" in nurse.text
        assert "statistics:read" in nurse.text
        assert 'name="form"' in nurse.text, "the form again, to try another token"
        assert_sensitive(nurse)

        expired = token(ttl=timedelta(seconds=-60))
        for bad in ("not-a-token", expired):
            refused = await sign_in(client, bad)
            assert refused.status_code == 401 and COOKIE not in set_cookies(refused)
            assert "the token was not accepted" in refused.text
            assert "Authorization" not in refused.text, "no advice about headers to a browser"

        empty = await sign_in(client, "  ")
        assert empty.status_code == 422 and "paste your token" in empty.text


async def test_the_sign_in_refuses_a_form_that_did_not_come_from_its_page(settings) -> None:
    """Login CSRF: another site posts its own token, to show the victim its dashboard."""
    async with running(reporting_app(settings)) as jar_client:
        client = stateless(jar_client)
        field, nonce = await sign_in_form(client)
        _, other_nonce = await sign_in_form(client)
        the_token = token()
        for form, cookie in ((None, None), (field, None), (None, nonce), (field, other_nonce), ("x", nonce)):
            data = {"token": the_token, **({"form": form} if form else {})}
            response = await client.post(
                "/dashboard/sign-in",
                data=data,
                headers={**BROWSER, **({"Cookie": f"{FORM_COOKIE}={cookie}"} if cookie else {})},
            )
            assert response.status_code == 403, (form, cookie)
            assert COOKIE not in set_cookies(response)
            assert "did not come from this page" in response.text
        # a sign-in may not send the browser anywhere but the dashboard
        for next_url, location in (
            ("https://evil.example/dashboard?token=x&year=2011", "/dashboard?year=2011"),
            ("//evil.example/statistics?year=2011", "/dashboard"),
            ("/dashboard?as_of=2010-12-31&token=x", "/dashboard?as_of=2010-12-31"),
        ):
            elsewhere = await sign_in(client, the_token, next_url=next_url)
            assert elsewhere.headers["location"] == location
        json_body = await client.post("/dashboard/sign-in", json={"token": the_token}, headers=BROWSER)
        assert json_body.status_code == 415
