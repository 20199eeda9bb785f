"""The guidance pages of the desk (*palveluohjaus*): the coordinator's clients waiting
for a named guide and the assignment (guides with their caseload against the limit, the
override with its reason); the guide's worklist with its deadlines and overdue flags;
one case with the plan (measures from the catalogue, each saying when it is meant to be
used), the transfer to social services and the closure (a proposal, or the decision
with the final assessment, by the rules in force); and the social worker's transfers
waiting for acknowledgement, the acknowledgement and the return. Every read and write is
guidance's or reporting's public API, called as the user (docs/adr/0045)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from contracts.base import Actor
from contracts.guidance import MOVABLE_PHASES
from contracts.intake import Route
from contracts.names import social_services_of
from contracts.subjects import organisation_slug, social_services
from runtime import clock
from runtime.access import Permission, allowed
from services.desk import guidance_forms as bodies
from services.desk.apis import Answer, Problem
from services.desk.bootstrap import parts_of
from services.desk.i18n import N_
from services.desk.labels import organisations
from services.desk.pages import refused, submitted
from services.desk.web import Form, form_context, form_of, page, signed_in, token_of
from services.rules import closure_requires_joint_decision, rules_in_force

Body = Callable[[Form, Actor], dict[str, Any]]


def form_only(body: Callable[[Form], dict[str, Any]]) -> Body:
    """A body made from the form alone, whoever sends it."""
    return lambda form, _actor: body(form)


#: the case page's forms: action -> (the API's path under the case, its body, permission)
CASE_FORMS: dict[str, tuple[str, Body, Permission]] = {
    "guide": ("guide", form_only(bodies.guide_body), Permission.GUIDE_ASSIGN),
    "phase": ("phase", form_only(bodies.phase_body), Permission.PLAN_REVISE),
    "plan": ("plan", form_only(bodies.plan_body), Permission.PLAN_REVISE),
    "transfer": ("transfers", form_only(bodies.transfer_body), Permission.TRANSFER_MAKE),
    "reassessment": ("reassessment", bodies.reassessment_body, Permission.REASSESSMENT_RECORD),
    "closure-proposal": ("closure-proposal", form_only(bodies.proposal_body), Permission.CLOSURE_PROPOSE),
    "closure": ("closure", form_only(bodies.closure_body), Permission.CLOSURE_RECORD),
}
#: the social worker's forms on one transfer
TRANSFER_FORMS: dict[str, tuple[str, Callable[[Form], dict[str, Any]], Permission]] = {
    "acknowledgement": ("acknowledgement", bodies.acknowledgement_body, Permission.TRANSFER_ACKNOWLEDGE),
    "return": ("return", bodies.return_body, Permission.TRANSFER_RETURN),
}


def joint_decision_needed(case: dict[str, Any]) -> bool:
    """Whether closing this case needs the joint decision, by the rules of its opening
    (the rule guidance applies, services/rules)."""
    return closure_requires_joint_decision(rules_in_force(date.fromisoformat(case["opened_on"])))


def municipal_social_services(municipalities: tuple[str, ...]) -> list[tuple[str, str, dict[str, str]]]:
    """The centre's municipalities' social services, as the consent form names them."""
    codes = set(social_services_of(municipalities))
    return [o for o in organisations(municipalities) if o[0] in codes]


def municipality_of(organisation: str, municipalities: tuple[str, ...]) -> str | None:
    """The municipality of a ``social_services:<slug>`` organisation, as the API names it."""
    slug = organisation.split(":", 1)[1] if organisation.startswith("social_services:") else ""
    return next((m for m in municipalities if organisation_slug(m) == slug), None)


@dataclass(frozen=True)
class CaseTimeline:
    """A client's timeline as the case page shows it: intake's part (when the disclosure
    policy lets the user read it) and guidance's, in the order things happened."""

    entries: list[dict[str, Any]]
    #: why intake's part is not shown (its refusal, naming any missing consent), or None
    intake_hidden: Problem | None


async def case_timeline(request: Request, client: str) -> CaseTimeline:
    """Intake's and guidance's timelines of ``client`` (quoted), each read as the user:
    each service's own disclosure decision says what is shown, and each read is logged."""
    apis, token = parts_of(request.app).apis, token_of(request)
    intake = await apis.call(
        "intake", "GET", f"/clients/{client}/timeline", token=token, purpose="service_guidance"
    )
    guidance = await apis.call(
        "guidance", "GET", f"/cases/{client}/timeline", token=token, purpose="service_guidance"
    )
    entries = [*(intake.body if intake.ok else []), *(guidance.body if guidance.ok else [])]
    entries.sort(
        key=lambda e: (datetime.fromisoformat(e["occurred_at"]), e["source"] != "intake", e["stream_version"])
    )
    return CaseTimeline(entries, None if intake.ok else intake.problem)


def router() -> APIRouter:
    api = APIRouter()

    @api.get("/guidance/waiting", include_in_schema=False)
    async def waiting(request: Request) -> Response:
        answer = await parts_of(request.app).apis.call(
            "guidance", "GET", "/waiting", token=token_of(request), purpose="service_guidance"
        )
        if not answer.ok:
            return refused(request, answer, Permission.GUIDANCE_READ)
        return page(request, "waiting.html", {"waiting": answer.body}, title=N_("Waiting for a guide"))

    @api.get("/guidance/worklist", include_in_schema=False)
    async def worklist(request: Request) -> Response:
        session = signed_in(request)
        assert session.token is not None and session.actor is not None
        mine = request.query_params.get("all") != "1"
        params = {"guide": session.actor.person_id} if mine else None
        answer = await parts_of(request.app).apis.call(
            "guidance", "GET", "/worklist", token=session.token, purpose="service_guidance", params=params
        )
        if not answer.ok:
            return refused(request, answer, Permission.GUIDANCE_READ)
        return page(
            request,
            "worklist.html",
            {"entries": answer.body, "mine": mine, "today": clock.today().isoformat()},
            title=N_("My worklist"),
        )

    async def case_page(
        request: Request,
        client_id: str,
        *,
        problem: Problem | None = None,
        problem_form: str | None = None,
        values: Form | None = None,
        status: int = 200,
    ) -> Response:
        session = signed_in(request)
        assert session.token is not None and session.actor is not None
        apis, client = parts_of(request.app).apis, quote(client_id, safe="")
        case = await apis.call(
            "guidance", "GET", f"/cases/{client}", token=session.token, purpose="service_guidance"
        )
        if not case.ok:
            return refused(request, case, Permission.GUIDANCE_READ)
        role = session.actor.role
        suggestions: Answer = Answer(200, [])
        if allowed(Permission.GUIDE_ASSIGN, role) and case.body["status"] != "closed":
            suggestions = await apis.call(
                "guidance",
                "GET",
                f"/cases/{client}/guide-suggestions",
                token=session.token,
                purpose="service_guidance",
            )
        guide = await apis.call("guidance", "GET", "/measure-guide", token=session.token)
        measures = guide.body if guide.ok else []
        history = await case_timeline(request, client)
        return page(
            request,
            "case.html",
            {
                "case": case.body,
                "suggestions": suggestions.body if suggestions.ok else [],
                "catalogue": {m["kind"]: m["name"] for m in measures},
                "measure_guide": measures,
                "timeline": history.entries,
                "intake_hidden": history.intake_hidden,
                "phases": MOVABLE_PHASES,
                "social_services": municipal_social_services(parts_of(request.app).municipalities),
                "case_social_services": social_services(case.body["municipality"]),
                "routes": tuple(Route),
                "joint": joint_decision_needed(case.body),
                "may": {action: allowed(p, role) for action, (_, _, p) in CASE_FORMS.items()}
                | {"health": allowed(Permission.HEALTH_RECORD, role)},
                **form_context(problem, values, problem_form),
                "today": clock.today().isoformat(),
                "municipalities": parts_of(request.app).municipalities,
                "done": request.query_params.get("done"),
            },
            title=N_("Service guidance"),
            status=status,
        )

    @api.get("/guidance/cases/{client_id}", include_in_schema=False)
    async def case(request: Request, client_id: str) -> Response:
        return await case_page(request, client_id)

    @api.post("/guidance/cases/{client_id}/{action}", include_in_schema=False)
    async def act(request: Request, client_id: str, action: str) -> Response:
        session = signed_in(request)
        assert session.token is not None and session.actor is not None
        form = await form_of(request)
        if action not in CASE_FORMS:
            return page(request, "not_found.html", {}, title=N_("No such page"), status=404)
        path, body, permission = CASE_FORMS[action]
        client = quote(client_id, safe="")
        answer = await parts_of(request.app).apis.call(
            "guidance", "POST", f"/cases/{client}/{path}", token=session.token, json=body(form, session.actor)
        )
        return await submitted(
            request,
            answer,
            done=f"/guidance/cases/{client}?done={action}",
            again=lambda problem: case_page(
                request, client_id, problem=problem, problem_form=action, values=form, status=problem.status
            ),
            permission=permission,
        )

    async def transfers_page(
        request: Request,
        *,
        problem: Problem | None = None,
        problem_form: str | None = None,
        values: Form | None = None,
        status: int = 200,
    ) -> Response:
        session = signed_in(request)
        assert session.token is not None and session.actor is not None
        parts = parts_of(request.app)
        municipality = municipality_of(session.actor.organisation or "", parts.municipalities)
        if municipality is None:
            return refused(
                request, Answer(403, problem=Problem(403, "forbidden", "")), Permission.TRANSFER_ACKNOWLEDGE
            )
        answer = await parts.apis.call(
            "reporting",
            "GET",
            f"/views/municipalities/{quote(municipality, safe='')}/clients",
            token=session.token,
            purpose="social_services",
        )
        if not answer.ok:
            return refused(request, answer, Permission.MUNICIPAL_VIEW_READ)
        names = {c["client_id"]: c.get("name") for c in answer.body["clients"]}
        return page(
            request,
            "transfers.html",
            {
                "record": answer.body,
                "names": names,
                **form_context(problem, values, problem_form),
                "today": clock.today().isoformat(),
                "done": request.query_params.get("done"),
            },
            title=N_("Transfers to social services"),
            status=status,
        )

    @api.get("/social/transfers", include_in_schema=False)
    async def transfers(request: Request) -> Response:
        return await transfers_page(request)

    @api.post("/social/transfers/{client_id}/{transfer_id}/{action}", include_in_schema=False)
    async def answer_transfer(request: Request, client_id: str, transfer_id: str, action: str) -> Response:
        token = token_of(request)
        form = await form_of(request)
        if action not in TRANSFER_FORMS:
            return page(request, "not_found.html", {}, title=N_("No such page"), status=404)
        path, body, permission = TRANSFER_FORMS[action]
        answer = await parts_of(request.app).apis.call(
            "guidance",
            "POST",
            f"/cases/{quote(client_id, safe='')}/transfers/{quote(transfer_id, safe='')}/{path}",
            token=token,
            json=body(form),
        )
        return await submitted(
            request,
            answer,
            done=f"/social/transfers?done={action}",
            again=lambda problem: transfers_page(
                request,
                problem=problem,
                problem_form=f"{action}-{transfer_id}",
                values=form,
                status=problem.status,
            ),
            permission=permission,
        )

    return api
