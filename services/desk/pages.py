"""The desk's pages of work: the start page, "How the centre works", and the intake
advisor's queue and referral form. Each calls the services' APIs as the signed-in user;
the services decide what the user may see, and their refusals become pages: 403 a "not
permitted" page naming the roles that may, 401 back to the sign-in, a problem with
``errors`` the form again with each message beside its field."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from contracts.intake import ReferralSource
from runtime import clock
from runtime.access import Permission
from services.desk.apis import Answer, Problem
from services.desk.bootstrap import parts_of
from services.desk.i18n import N_
from services.desk.process import STEPS, rule_periods
from services.desk.web import form_of, may, page, redirect, session_of, signed_in

#: the referral form's fields, named as the API names them (so an error's ``field`` is its name)
REFERRAL_FIELDS = (
    "source",
    "source_description",
    "municipality",
    "referral_date",
    "subsidy_days",
    "unemployment_months",
    "need_based_reason",
    "client.first_name",
    "client.last_name",
    "client.personal_identity_code",
)
NUMBERS = ("subsidy_days", "unemployment_months")
#: a problem shown with its form (a refusal of the process, invalid fields); others get a page
FORM_PROBLEMS = (400, 404, 409, 422)


async def submitted(
    request: Request,
    answer: Answer,
    *,
    done: str,
    again: Callable[[Problem], Awaitable[Response]],
    permission: Permission,
) -> Response:
    """The answer to a form sent to an API: on success, to the page ``done`` (so a reload
    sends nothing twice); a problem about the form, its page ``again`` with the problem
    beside its fields; any other problem, a page of its own (:func:`refused`)."""
    if answer.ok:
        return redirect(request, done)
    assert answer.problem is not None
    if answer.problem.status in FORM_PROBLEMS:
        return await again(answer.problem)
    return refused(request, answer, permission)


def refused(request: Request, answer: Answer, permission: Permission) -> Response:
    """The page for a problem answer that is not about a form's fields."""
    problem = answer.problem
    assert problem is not None
    if problem.status == 401:
        fresh = parts_of(request.app).sessions.new(session_of(request).language)
        return redirect(request, "/sign-in?reason=ended", fresh)
    if problem.status == 403 and not problem.missing_consents:
        return page(
            request,
            "denied.html",
            {"may": may(permission), "permission": permission.value, "detail": problem.detail},
            title=N_("Not permitted"),
            status=403,
        )
    return page(
        request, "problem.html", {"problem": problem}, title=N_("It did not work"), status=problem.status
    )


def referral_body(form: dict[str, str]) -> dict[str, Any]:
    """The API's body from the form: what is left empty is left out; a number stays text
    if it is none, so that the API's own check answers for it beside its field."""
    body: dict[str, Any] = {}
    client: dict[str, Any] = {}
    for name in REFERRAL_FIELDS:
        value = form.get(name, "")
        if not value:
            continue
        converted: Any = int(value) if name in NUMBERS and value.isdigit() else value
        if name.startswith("client."):
            client[name.removeprefix("client.")] = converted
        else:
            body[name] = converted
    body["client"] = client
    return body


def router() -> APIRouter:
    api = APIRouter()

    @api.get("/", include_in_schema=False)
    async def home(request: Request) -> Response:
        signed_in(request)
        return page(request, "home.html", title=N_("Staff desk"))

    @api.get("/how-the-centre-works", include_in_schema=False)
    async def how_the_centre_works(request: Request) -> Response:
        parts = parts_of(request.app)
        today = clock.today()
        return page(
            request,
            "how.html",
            {"steps": STEPS, "periods": rule_periods(today, parts.caseload_limit), "today": today},
            title=N_("How the centre works"),
        )

    @api.get("/intake/queue", include_in_schema=False)
    async def queue(request: Request) -> Response:
        session = signed_in(request)
        assert session.token is not None
        answer = await parts_of(request.app).apis.call(
            "intake", "GET", "/queue", token=session.token, purpose="intake"
        )
        if not answer.ok:
            return refused(request, answer, Permission.QUEUE_READ)
        done = request.query_params.get("done") == "referral"
        return page(request, "queue.html", {"entries": answer.body, "done": done}, title=N_("Intake queue"))

    def referral_page(
        request: Request, values: dict[str, str], problem: Problem | None, status: int
    ) -> Response:
        parts = parts_of(request.app)
        return page(
            request,
            "referral.html",
            {
                "values": values,
                "problem": problem,
                "errors": problem.by_field() if problem else {},
                "sources": list(ReferralSource),
                "municipalities": parts.municipalities,
                "today": clock.today().isoformat(),
            },
            title=N_("New referral"),
            status=status,
        )

    @api.get("/intake/referral", include_in_schema=False)
    async def referral_form(request: Request) -> Response:
        signed_in(request)
        return referral_page(request, {}, None, 200)

    @api.post("/intake/referral", include_in_schema=False)
    async def refer(request: Request) -> Response:
        session = signed_in(request)
        form = await form_of(request)
        assert session.token is not None
        answer = await parts_of(request.app).apis.call(
            "intake", "POST", "/referrals", token=session.token, json=referral_body(form)
        )
        if answer.ok:
            return redirect(request, "/intake/queue?done=referral")
        problem = answer.problem
        assert problem is not None
        if problem.status in (400, 409, 422):
            return referral_page(request, form, problem, problem.status)
        return refused(request, answer, Permission.REFERRAL_REGISTER)

    return api
