"""Running the planned year through the services' APIs (:func:`run_demo`).

Over 400 lines because :class:`DemoRun` is one client's relationship, step by step, as
the centre's roles do it (intake, the guidance case's steps in the order of their dates,
the closure); each step is a few lines beside the check that skips it when already done."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from reitti.demo.http import Answer, DemoError, Endpoints, Http
from reitti.demo.planner import DemoClient, plan_year
from reitti.demo.seed import (
    COORDINATOR,
    GUIDES,
    NURSE,
    PHASES,
    SEED,
    SEED_TARGETS,
    STEERING,
    YEAR,
    Person,
    social_worker,
)
from runtime.auth import TokenIssuer


def _assessor(p: Person) -> dict[str, str]:
    return {"person_id": p.person_id, "role": p.role, "organisation": p.organisation}


@dataclass
class DemoReport:
    """What the run did, and what reporting answers afterwards."""

    clients: int = 0
    new_cases: int = 0
    already_present: int = 0
    guidance_cases: int = 0
    closed_now: int = 0
    already_closed: int = 0
    calls: int = 0
    #: clients placed under a legal hold, so no retention sweep erases the demo
    held: int = 0
    #: clients the year ends with still waiting for a named guide: the demo names none later
    left_waiting: int = 0
    seconds: float = 0.0
    #: of which waiting for reporting's projections to catch up
    reporting_seconds: float = 0.0
    statistics: dict[str, Any] = field(default_factory=dict)


class DemoRun:
    def __init__(
        self,
        endpoints: Endpoints,
        issuer: TokenIssuer,
        *,
        concurrency: int = 8,
        case_timeout: float = 90.0,
    ) -> None:
        self.urls = endpoints
        self.http = Http(issuer)
        self.concurrency = max(1, concurrency)
        self.case_timeout = case_timeout
        self.report = DemoReport()

    async def call(
        self, method: str, url: str, person: Person, body: Any = None, *, ok: Iterable[int] = (200, 201)
    ) -> Answer:
        self.report.calls += 1
        return await self.http.call(method, url, person, body, ok=ok)

    async def close(self) -> None:
        await self.http.aclose()

    # intake

    async def intake(self, c: DemoClient) -> str:
        base = self.urls.intake
        referral: dict[str, Any] = {
            "source": c.source,
            "municipality": c.municipality,
            "referral_date": c.referral_date,
            "subsidy_days": c.subsidy_days,
            "unemployment_months": c.unemployment_months,
            "client": {
                "first_name": c.first_name,
                "last_name": c.last_name,
                "personal_identity_code": c.identity_code,
            },
        }
        if c.source_description:
            referral["source_description"] = c.source_description
        answer = await self.call("POST", f"{base}/referrals", c.received_by, referral, ok=(200, 201, 202))
        advisor = c.assessors[0]
        receipt = "client_id" not in answer.body
        if receipt:
            # A social worker may not read intake cases, so their answer is a receipt that
            # tells nothing. The advisor's same referral (same source and date) finds the
            # case, writes nothing, and is recorded in the access log.
            answer = await self.call("POST", f"{base}/referrals", advisor, referral)
        client_id: str = answer.body["client_id"]
        kind = answer.body["outcome"]
        if kind == "new_case":
            self.report.new_cases += 1
            owner, consents, assessed = None, 0, False
        else:
            self.report.already_present += 1
            if receipt:
                # The social worker's referral waits in the one intake queue: the advisor
                # picks it (and so holds the intake task that lets them read the case
                # before there is a consent), unless it was picked or assessed before.
                await self.call("POST", f"{base}/queue/{client_id}/pick", advisor, ok=(200, 201, 409))
            case = (await self.call("GET", f"{base}/clients/{client_id}", advisor)).body
            owner, consents, assessed = case["owner"], len(case["consents"]), case["assessment"] is not None
            if receipt and not assessed:  # the social worker's referral was the new case
                self.report.already_present -= 1
                self.report.new_cases += 1
        if c.source == "te_office" and owner is None and not assessed:
            await self.call("POST", f"{base}/queue/{client_id}/pick", advisor)
        if consents == 0 and not assessed and c.route != "not_helped_here":
            scopes = ["move_to_centre", "data_exchange_within_centre"]
            if c.consent_organisations:
                scopes.append("disclosure_to_organisations")
            consent = {
                "scopes": scopes,
                "organisations": list(c.consent_organisations),
                "given_on": c.consent_on,
            }
            await self.call("POST", f"{base}/clients/{client_id}/consents", advisor, consent)
        if not assessed:
            assessment = {
                "assessed_on": c.assessed_on,
                "assessors": [_assessor(p) for p in c.assessors],
                "findings": [{"area": a, "support_need": n} for a, n in c.findings],
                "capacity_allows_rehabilitative_work": c.capacity_allows_rehabilitative_work,
                "profile": c.profile,
                "ministry_segment": c.ministry_segment,
                "route": c.route,
                "destination": c.destination,
                "summary": "Service-needs assessment (demo data).",
            }
            await self.call("POST", f"{base}/clients/{client_id}/assessment", advisor, assessment)
        return client_id

    async def hold(self, client_id: str) -> None:
        """A legal hold on the demo's client, so the retention sweep of the next start does
        not erase the 2010 closures' names (they closed more than four years ago). Only
        erasure's roles set one: the coordinator. Clear it with
        ``POST /clients/{id}/legal-hold {"hold": false}``."""
        url = f"{self.urls.intake}/clients/{client_id}/legal-hold"
        await self.call("POST", url, COORDINATOR, {"hold": True})
        self.report.held += 1

    # guidance

    async def case(self, client_id: str) -> dict[str, Any]:
        """The guidance case, once guidance has consumed the assessment from JetStream."""
        deadline = time.monotonic() + self.case_timeout
        delay = 0.05
        while True:
            answer = await self.call(
                "GET", f"{self.urls.guidance}/cases/{client_id}", COORDINATOR, ok=(200, 404)
            )
            if answer.status == 200:
                found: dict[str, Any] = answer.body
                return found
            if time.monotonic() > deadline:
                raise DemoError(
                    f"guidance did not open the case of {client_id} within {self.case_timeout:.0f}s: "
                    "is guidance consuming intake's events?"
                )
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 0.5)

    async def guidance(self, c: DemoClient, client_id: str) -> None:
        """The relationship's steps in the order of their dates; each one skipped when the
        case shows it is done (a second run adds nothing)."""
        case = await self.case(client_id)
        self.report.guidance_cases += 1
        if case["status"] == "closed":
            self.report.already_closed += 1
            return
        if c.guide is None or c.assigned_on is None or c.plan_on is None:
            if case["status"] == "waiting_for_guide":
                self.report.left_waiting += 1
            return  # still waiting for a named guide
        base = f"{self.urls.guidance}/cases/{client_id}"
        guide = c.guide.person
        transfers: list[dict[str, Any]] = list(case["transfers"])
        Step = tuple[date, int, Callable[[], Awaitable[Any]]]
        steps: list[Step] = []

        def post(path: str, person: Person, body: dict[str, Any]) -> Callable[[], Awaitable[Answer]]:
            return lambda: self.call("POST", f"{base}{path}", person, body)

        if case["guide"] is None:
            assign = {"guide_person_id": guide.person_id, "assigned_on": c.assigned_on}
            steps.append((c.assigned_on, 0, post("/guide", COORDINATOR, assign)))
        if c.health_check_on is not None and case["health_check"] is None:
            check = {
                "checked_on": c.health_check_on,
                "work_restrictions_found": c.closure is not None
                and c.closure.outcome == "outside_labour_force",
                "recommended_next_step": "continue in individual service guidance",
                "details": "Health check by the centre's nurse (demo data).",
            }
            steps.append((c.health_check_on, 1, post("/health-check", NURSE, check)))
        if case["plan_revision"] == 0:
            steps.append((c.plan_on, 2, post("/plan", guide, self._plan(c, final=False))))
        current = PHASES.index(case["phase"]) if case["phase"] in PHASES else len(PHASES)
        for phase, on in c.phases:
            if PHASES.index(phase) > current:
                steps.append((on, 3, post("/phase", guide, {"phase": phase, "changed_on": on})))
        t = c.transfer
        if t is not None and not transfers:

            async def hand_over() -> None:
                transfers.append(await self.hand_over(c, client_id))

            steps.append((t.transferred_on, 4, hand_over))
        if t is not None and (not transfers or transfers[-1]["accepted"] is None):
            ack = {"accepted": True, "acknowledged_on": t.acknowledged_on}
            receiver = social_worker(c.municipality)

            async def acknowledge() -> None:
                tid = transfers[-1]["transfer_id"]
                await self.call("POST", f"{base}/transfers/{tid}/acknowledgement", receiver, ack)

            steps.append((t.acknowledged_on, 5, acknowledge))
        if (
            t is not None
            and t.returned_on is not None
            and (not transfers or transfers[-1]["returned_on"] is None)
        ):
            returned_on = t.returned_on

            async def come_back() -> None:
                tid = transfers[-1]["transfer_id"]
                await self.call("POST", f"{base}/transfers/{tid}/return", guide, {"returned_on": returned_on})

            steps.append((returned_on, 6, come_back))
        if c.reassessed_on is not None and case["reassessments"] == 0:
            reassessment = {
                "reassessed_on": c.reassessed_on,
                "assessors": [_assessor(p) for p in (guide, social_worker(c.municipality))],
                "route": c.route,
                "reason": "The process stalled: re-assessed with the client's own social worker.",
            }
            steps.append((c.reassessed_on, 7, post("/reassessment", guide, reassessment)))
        if c.closure is not None:
            k = c.closure
            if case["plan_revision"] < 2:
                steps.append((k.closed_on, 8, post("/plan", guide, self._plan(c, final=True))))
            closure = {
                "closed_on": k.closed_on,
                "outcome": k.outcome,
                "outside_labour_force_reason": k.outside_labour_force_reason,
                "services_continue": k.services_continue,
                "follow_up_advisor_person_id": k.follow_up_advisor,
                "final_assessment": {
                    "text": k.text,
                    "work_ability_clarified": k.work_ability_clarified,
                    "competence_improved": k.competence_improved,
                    "recommended_services": list(k.recommended_services),
                },
            }

            # The seed's guide "decides or proposes" (docs/adr/0031): every third guide
            # proposes, and the coordinator decides; the others decide at once.
            proposes = c.number % 3 == 0
            decider = COORDINATOR if proposes else guide
            if proposes and case.get("closure_proposal") is None:
                proposal = {
                    "proposed_on": k.closed_on,
                    "outcome": k.outcome,
                    "services_continue": k.services_continue,
                    "reason": "The need for the centre's service has ended; proposed to the team.",
                }
                steps.append((k.closed_on, 9, post("/closure-proposal", guide, proposal)))

            async def close() -> None:
                await self.call("POST", f"{base}/closure", decider, closure)
                self.report.closed_now += 1

            steps.append((k.closed_on, 10, close))
        for _, _, step in sorted(steps, key=lambda s: (s[0], s[1])):
            await step()

    async def hand_over(self, c: DemoClient, client_id: str) -> dict[str, Any]:
        """Transfer to the municipality's rehabilitative work activity (the relationship
        stays open)."""
        t = c.transfer
        assert t is not None and c.guide is not None
        base = f"{self.urls.guidance}/cases/{client_id}"
        body = {
            "transferred_on": t.transferred_on,
            "activation_plan": {
                "start": t.transferred_on,
                "months": t.months,
                "days_per_week": t.days_per_week,
                "hours_per_day": t.hours_per_day,
                "place": t.place,
            },
            "relationship_stays_open": True,
        }
        made = await self.call("POST", f"{base}/transfers", c.guide.person, body)
        return {"transfer_id": made.body["transfer_id"], "accepted": None, "returned_on": None}

    def _plan(self, c: DemoClient, *, final: bool) -> dict[str, Any]:
        assert c.plan_on is not None
        measures = []
        for n, m in enumerate(c.measures, start=1):
            item: dict[str, Any] = {
                "measure_id": f"m{n}",
                "kind": m.kind,
                "provider": m.provider,
                "start": m.start,
                "end": m.end,
                "status": m.final_status if final or (m.end and m.end <= c.plan_on) else "planned",
            }
            measures.append(item)
        on = c.review_on if final and c.review_on else c.plan_on
        return {"revised_on": on, "measures": measures, "review": final}

    async def client(self, c: DemoClient) -> None:
        client_id = await self.intake(c)
        await self.hold(client_id)
        if c.into_centre:
            await self.guidance(c, client_id)
        self.report.clients += 1

    async def guides(self) -> None:
        for g in GUIDES:
            body = {
                "person_id": g.person.person_id,
                "name": g.person.name,
                "role": g.person.role,
                "areas": list(g.areas),
            }
            await self.call("POST", f"{self.urls.guidance}/guides", COORDINATOR, body)

    async def targets(self) -> None:
        """The seed's intake targets, set as the steering group sets them; a target that
        reporting already shows as set on that day is not set again."""
        for year, (target, set_on) in SEED_TARGETS.items():
            shown = (
                await self.call("GET", f"{self.urls.reporting}/statistics/intake?year={year}", STEERING)
            ).body
            if (shown.get("target"), shown.get("target_set_on")) == (target, set_on.isoformat()):
                continue
            body = {"year": year, "target": target, "set_on": set_on.isoformat()}
            await self.call("POST", f"{self.urls.intake}/intake-targets", STEERING, body)

    # reporting

    async def statistics(
        self, *, expected_new: int, expected_closed: int, within: float = 60.0
    ) -> dict[str, Any]:
        """Reporting's 2010 statistics, once its projections have caught up (they follow
        JetStream a moment behind). Read as the service coordinator, who sees exact counts:
        the steering group's figures hide small cells and the cells that would give them
        away (docs/adr/0023), so its total may be null and cannot be compared with the seed."""
        base = self.urls.reporting
        deadline = time.monotonic() + within
        while True:
            intake = (await self.call("GET", f"{base}/statistics/intake?year={YEAR}", COORDINATOR)).body
            outcomes = (await self.call("GET", f"{base}/statistics/outcomes?year={YEAR}", COORDINATOR)).body
            caught_up = (
                intake["new_clients"] >= expected_new
                and outcomes["total"] >= expected_closed
                and intake["target"] == SEED_TARGETS[YEAR][0]
            )
            if caught_up or time.monotonic() > deadline:
                sources = (
                    await self.call("GET", f"{base}/statistics/referral-sources?year={YEAR}", COORDINATOR)
                ).body
                return {
                    "intake": intake,
                    "referral_sources": sources,
                    "outcomes": outcomes,
                    "caught_up": caught_up,
                }
            await asyncio.sleep(0.25)


async def run_demo(
    endpoints: Endpoints,
    issuer: TokenIssuer,
    *,
    concurrency: int = 8,
    progress: Callable[[int, int], None] | None = None,
    seed: int = SEED,
    wait_for_reporting: float = 60.0,
) -> DemoReport:
    """Load the demo year through the APIs at ``endpoints``, signing tokens with ``issuer``;
    then read reporting's 2010 statistics into the report."""
    started = time.perf_counter()
    clients = plan_year(seed)
    run = DemoRun(endpoints, issuer, concurrency=concurrency)
    try:
        await run.guides()
        await run.targets()
        gate = asyncio.Semaphore(run.concurrency)
        done = 0

        async def one(c: DemoClient) -> None:
            nonlocal done
            async with gate:
                try:
                    await run.client(c)
                except DemoError as exc:
                    raise DemoError(f"client {c.number} ({c.municipality}, {c.route}): {exc}") from None
            done += 1
            if progress is not None:
                progress(done, len(clients))

        # In referral order, so the intake queue fills as the year goes.
        ordered = sorted(clients, key=lambda c: (c.referral_date, c.number))
        tasks = [asyncio.create_task(one(c)) for c in ordered]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        closed = sum(1 for c in clients if c.closure is not None)
        if wait_for_reporting > 0:
            waited = time.perf_counter()
            run.report.statistics = await run.statistics(
                expected_new=len(clients), expected_closed=closed, within=wait_for_reporting
            )
            run.report.reporting_seconds = time.perf_counter() - waited
    finally:
        await run.close()
    run.report.seconds = time.perf_counter() - started
    return run.report
