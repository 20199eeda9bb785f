"""Demo data: a year that mirrors the seed's 2010, taken through the real HTTP APIs.

``reitti demo`` (and ``reitti up --demo``) refers the 139 new clients of the seed's 2010
(TE-office 52 %, social services 5 %, self-referral 29 %, other 14 %), spread over the
seven municipalities by population, and takes each of them through intake (referral,
pick from the queue, consent, service-needs assessment) and guidance (named guide, health
check, plan, phases, transfers to and returns from social services, re-assessment) to a
closure with the seed's outcome mix: open labour market 13 %, education 15 %,
wage-subsidised work 17 %, outside the labour force 28 %, unemployed 14 %, interrupted 13 %.

Everything goes through the services' public HTTP APIs with signed tokens of the roles
that do each step in the centre, so the demo exercises the same rules, events, JetStream
hops and projections as real use. Guidance opens a case only when it has consumed
intake's ``AssessmentCompleted`` from JetStream, so the demo polls for it.

The year is planned first (:func:`plan_year`), from a seeded random generator, with exact
counts that round to the seed's shares: the same run gives the same data. Running it again
adds nothing: identity codes are the same, so intake answers ``already_present``, and
every later step is skipped when the case shows it is done.

The identity codes are synthetic: their individual numbers are in 900-999, the range
reserved for temporary codes, so none is a real person's.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TextIO

from contracts.subjects import organisation_slug
from runtime.auth import TokenIssuer
from runtime.purposes import PurposeCode

#: The random seed of the demo year (the seed's year).
SEED = 2010
YEAR = 2010
FIRST_DAY = date(YEAR, 1, 4)
LAST_DAY = date(YEAR, 12, 31)

#: The steering group's yearly intake targets (the seed): 350 new clients for 2010, cut
#: to 200 for 2011; set through intake's API as IntakeTargetSet events (docs/adr/0032),
#: each before its year, on the business date given here.
SEED_TARGETS: Mapping[int, tuple[int, date]] = {
    2010: (350, date(2009, 12, 15)),
    2011: (200, date(2010, 12, 15)),
}

#: New clients of 2010 by referral source: 72/139 = 51.8 %, 7 = 5.0 %, 40 = 28.8 %, 20 = 14.4 %.
SOURCE_COUNTS: Mapping[str, int] = {"te_office": 72, "social_services": 7, "self_referral": 40, "other": 20}
#: Relationships closed in 2010 by outcome (100 closures: the counts are the percentages).
OUTCOME_COUNTS: Mapping[str, int] = {
    "open_labour_market": 13,
    "education": 15,
    "wage_subsidised_work": 17,
    "outside_labour_force": 28,
    "unemployed": 14,
    "interrupted": 13,
}
#: The seed's shares, to print beside what reporting answers.
SOURCE_SHARES: Mapping[str, float] = {
    "te_office": 0.52,
    "social_services": 0.05,
    "self_referral": 0.29,
    "other": 0.14,
}
OUTCOME_SHARES: Mapping[str, float] = {k: v / 100 for k, v in OUTCOME_COUNTS.items()}
NEW_CLIENTS = sum(SOURCE_COUNTS.values())
CLOSURES = sum(OUTCOME_COUNTS.values())
#: The new clients whose assessment routes them elsewhere (no guidance case).
ROUTED_ELSEWHERE: Sequence[tuple[str, str | None]] = (
    ("intermediate_labour_market", "Vaaksa project"),
    ("intermediate_labour_market", "Vaaksa project"),
    ("intermediate_labour_market", "Vaaksa project"),
    ("intermediate_labour_market", "Vaaksa project"),
    ("job_search_services", None),
    ("job_search_services", None),
    ("paid_or_wage_subsidised_work", None),
    ("not_helped_here", "Kela vocational rehabilitation"),
    ("not_helped_here", "Mental health services, for treatment first"),
)
#: Clients still in the centre at the end of 2010 (the rest of the 139).
STILL_OPEN = NEW_CLIENTS - CLOSURES - len(ROUTED_ELSEWHERE)

#: Route into the centre by outcome: (health check first, rehabilitative work activity);
#: the rest individual service guidance.
ROUTES_BY_OUTCOME: Mapping[str | None, tuple[int, int]] = {
    "open_labour_market": (0, 0),
    "education": (0, 0),
    "wage_subsidised_work": (1, 0),
    "outside_labour_force": (10, 5),
    "unemployed": (2, 2),
    "interrupted": (1, 1),
    None: (5, 3),
}
OUTSIDE_REASONS = ("pension",) * 9 + ("long_rehabilitation",) * 11 + ("carer",) * 4 + ("parental_leave",) * 4
#: Clients handed to social services (and back) during a relationship closed in 2010, and
#: still with social services at the end of the year.
TRANSFERS_RETURNED = 8
TRANSFERS_STILL_OUT = 3
REASSESSMENTS = 6
#: The seed's joint assessments (employment advisor with the municipality's social worker)
#: began in August 2010.
JOINT_ASSESSMENTS_FROM = date(YEAR, 8, 1)

#: the demo's reads: synthetic data through the real APIs (runtime/purposes.py)
PURPOSE = PurposeCode.SYSTEM_TEST
PURPOSE_DETAIL = "demo data: loading the seed's year 2010"
AREAS = (
    "competence",
    "motivation",
    "work_ability",
    "social_functioning",
    "material_resources",
    "labour_market_position",
)
PHASES = ("referral", "survey_and_research", "rehabilitation_and_guidance", "coaching_and_employment")

FIRST_NAMES_F = (
    "Aino", "Anna", "Anne", "Eija", "Elina", "Hanna", "Heidi", "Helena", "Johanna", "Kaisa",
    "Katja", "Kirsi", "Laura", "Leena", "Maarit", "Maija", "Marja", "Minna", "Niina", "Outi",
    "Päivi", "Riikka", "Sari", "Satu", "Seija", "Susanna", "Tarja", "Tiina", "Tuula", "Ulla",
)  # fmt: skip
FIRST_NAMES_M = (
    "Ari", "Antti", "Esa", "Harri", "Heikki", "Jari", "Janne", "Jukka", "Juha", "Kalle",
    "Kari", "Markku", "Marko", "Matti", "Mika", "Mikko", "Pasi", "Pekka", "Petri", "Sami",
    "Seppo", "Tapio", "Teemu", "Timo", "Tommi", "Tuomas", "Vesa", "Ville", "Jouni", "Raimo",
)  # fmt: skip
LAST_NAMES = (
    "Hakkarainen", "Hämäläinen", "Heikkinen", "Hyvönen", "Jääskeläinen", "Kauppinen", "Kettunen",
    "Kinnunen", "Korhonen", "Koskinen", "Laitinen", "Lehtonen", "Leinonen", "Manninen",
    "Miettinen", "Mustonen", "Nieminen", "Nykänen", "Pesonen", "Puhakka", "Rautiainen",
    "Räsänen", "Ruotsalainen", "Savolainen", "Tikkanen", "Toivanen", "Turunen", "Väisänen",
    "Venäläinen", "Ylönen",
)  # fmt: skip
CHECK_CHARACTERS = "0123456789ABCDEFHJKLMNPRSTUVWXY"


# --- the staff ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    person_id: str
    role: str
    organisation: str
    name: str = ""


@dataclass(frozen=True)
class Guide:
    person: Person
    areas: tuple[str, ...]


ADVISORS = (
    Person("demo-advisor-1", "employment_advisor", "te-office", "Pirjo Lahtinen"),
    Person("demo-advisor-2", "employment_advisor", "te-office", "Jarmo Hiltunen"),
    Person("demo-advisor-3", "employment_advisor", "te-office", "Merja Kolehmainen"),
)
SERVICE_GUIDES = (
    Person("demo-guide-1", "service_guide", "centre", "Sirpa Vesterinen"),
    Person("demo-guide-2", "service_guide", "centre", "Kimmo Partanen"),
)
COORDINATOR = Person("demo-coordinator", "service_coordinator", "centre", "Raija Tuominen")
NURSE = Person("demo-nurse", "nurse", "centre", "Terhi Ikonen")
SECRETARY = Person("demo-secretary", "office_secretary", "centre", "Anneli Suomalainen")
STEERING = Person("demo-steering-group", "steering_group_member", "centre", "Steering group")
#: Named guides and the municipality areas they (or their pair) cover: each worker had
#: clients in several municipalities, and pairs per named area were wanted (the seed).
GUIDES = (
    Guide(ADVISORS[0], ("Mikkeli",)),
    Guide(ADVISORS[1], ("Mikkeli", "Ristiina")),
    Guide(ADVISORS[2], ("Mäntyharju", "Pertunmaa", "Mikkeli")),
    Guide(SERVICE_GUIDES[0], ("Mikkeli", "Kangasniemi")),
    Guide(SERVICE_GUIDES[1], ("Hirvensalmi", "Puumala", "Mikkeli")),
)


def social_worker(municipality: str) -> Person:
    """The client's own social worker, of their municipality's social services."""
    slug = organisation_slug(municipality)
    return Person(f"demo-sw-{slug}", "social_worker", f"social_services:{slug}")


# --- the plan of the year ----------------------------------------------------------------------


@dataclass(frozen=True)
class Transfer:
    transferred_on: date
    acknowledged_on: date
    returned_on: date | None
    months: int
    days_per_week: int
    hours_per_day: int
    place: str


@dataclass(frozen=True)
class Closure:
    closed_on: date
    outcome: str
    outside_labour_force_reason: str | None
    services_continue: str
    follow_up_advisor: str | None
    text: str
    work_ability_clarified: bool
    competence_improved: bool
    recommended_services: tuple[str, ...]


@dataclass(frozen=True)
class Measure:
    kind: str
    provider: str
    start: date
    end: date | None
    final_status: str


@dataclass(frozen=True)
class DemoClient:
    """One new client of the demo year and everything that happens to them in 2010."""

    number: int
    first_name: str
    last_name: str
    identity_code: str
    municipality: str
    source: str
    source_description: str | None
    referral_date: date
    received_by: Person
    subsidy_days: int | None
    unemployment_months: int | None
    consent_on: date
    consent_organisations: tuple[str, ...]
    assessed_on: date
    assessors: tuple[Person, ...]
    findings: tuple[tuple[str, str], ...]
    capacity_allows_rehabilitative_work: bool
    route: str
    profile: str | None
    ministry_segment: int | None
    destination: str | None
    guide: Guide | None = None
    assigned_on: date | None = None
    health_check_on: date | None = None
    plan_on: date | None = None
    measures: tuple[Measure, ...] = ()
    phases: tuple[tuple[str, date], ...] = ()
    transfer: Transfer | None = None
    reassessed_on: date | None = None
    review_on: date | None = None
    closure: Closure | None = None

    @property
    def into_centre(self) -> bool:
        return self.route in (
            "individual_service_guidance",
            "health_check_first",
            "rehabilitative_work_activity",
        )


def municipalities_by_population(total: int) -> dict[str, int]:
    """``total`` clients over the municipalities in proportion to population, split as
    reporting apportions the intake target (so intake and target line up on the dashboard)."""
    from services.reporting.config import POPULATIONS
    from services.reporting.figures import apportion

    return apportion(total, POPULATIONS)


def workday(day: date) -> date:
    """The day itself, or the Monday after a weekend; never past the end of the year."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    if day > LAST_DAY:
        day = LAST_DAY
        while day.weekday() >= 5:
            day -= timedelta(days=1)
    return day


def identity_code(rng: random.Random, used: set[str]) -> str:
    """A valid, synthetic personal identity code: born 1950-1990, individual number 900-999."""
    while True:
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 41 * 365))
        number = rng.randrange(900, 1000)
        base = f"{born:%d%m}{born.year % 100:02d}"
        code = f"{base}-{number:03d}" + CHECK_CHARACTERS[int(f"{base}{number:03d}") % 31]
        if code not in used:
            used.add(code)
            return code


def spread(rng: random.Random, items: Iterable[str], counts: Mapping[str, int]) -> list[str]:
    out = [k for k in items for _ in range(counts[k])]
    rng.shuffle(out)
    return out


MEASURES_BY_OUTCOME: Mapping[str | None, tuple[tuple[str, str], ...]] = {
    "open_labour_market": (("job_coach", "TYP job coach"), ("job_finder", "TYP job finder")),
    "education": (("work_life_coaching", "Vartti project"), ("training", "Mikkeli vocational college")),
    "wage_subsidised_work": (("work_try_out", "Vartti project"), ("wage_subsidised_work", "City of Mikkeli")),
    "outside_labour_force": (
        ("psychologist_assessment", "TYP psychologist"),
        ("pension_or_long_rehabilitation_inquiry", "Kela"),
    ),
    "unemployed": (("work_try_out", "Vaaksa project"), ("job_coach", "TYP job coach")),
    "interrupted": (("work_life_coaching", "Vartti project"),),
    None: (("work_try_out", "Vartti project"), ("work_life_coaching", "TYP job coach")),
}
CONTINUATION: Mapping[str, tuple[str, ...]] = {
    "open_labour_market": ("none", "light_follow_up"),
    "education": ("te_office",),
    "wage_subsidised_work": ("light_follow_up", "te_office"),
    "outside_labour_force": ("none",),
    "unemployed": ("vaaksa", "te_office"),
    "interrupted": ("te_office",),
}
FINAL_TEXT: Mapping[str, str] = {
    "open_labour_market": "Employed on the open labour market after job coaching.",
    "education": "Started vocational education.",
    "wage_subsidised_work": "Started wage-subsidised work.",
    "outside_labour_force": "Outside the labour force for now.",
    "unemployed": "Guidance ended without employment.",
    "interrupted": "The client interrupted the guidance.",
}
CONTINUATION_TEXT: Mapping[str, str] = {
    "none": "No further services from the centre are needed.",
    "light_follow_up": "Lighter follow-up by the named employment advisor.",
    "te_office": "Services continue at the TE-office.",
    "vaaksa": "Continues in the Vaaksa project (intermediate labour market).",
}


def plan_year(seed: int = SEED) -> list[DemoClient]:
    """The demo year: 139 new clients and their paths, the same for the same seed."""
    rng = random.Random(seed)
    sources = spread(rng, SOURCE_COUNTS, SOURCE_COUNTS)
    per_municipality = municipalities_by_population(NEW_CLIENTS)
    municipalities = spread(rng, per_municipality, per_municipality)
    fates: list[str | None] = [o for o in OUTCOME_COUNTS for _ in range(OUTCOME_COUNTS[o])]
    fates += [None] * STILL_OPEN
    fates += ["elsewhere"] * len(ROUTED_ELSEWHERE)
    rng.shuffle(fates)

    # Routes: exact counts per outcome, the rest individual service guidance.
    routes: dict[int, str] = {}
    for outcome, (health, rehab) in ROUTES_BY_OUTCOME.items():
        indexes = [i for i, f in enumerate(fates) if f == outcome]
        rng.shuffle(indexes)
        for n, i in enumerate(indexes):
            routes[i] = (
                "health_check_first"
                if n < health
                else "rehabilitative_work_activity"
                if n < health + rehab
                else "individual_service_guidance"
            )
    elsewhere = list(ROUTED_ELSEWHERE)
    reasons = list(OUTSIDE_REASONS)
    rng.shuffle(reasons)

    used: set[str] = set()
    load: Counter[str] = Counter()
    clients: list[DemoClient] = []
    for i, fate in enumerate(fates):
        code = identity_code(rng, used)
        female = int(code[7:10]) % 2 == 0
        first = rng.choice(FIRST_NAMES_F if female else FIRST_NAMES_M)
        last = rng.choice(LAST_NAMES)
        municipality = municipalities[i]
        source = sources[i]
        # Referral dates: those closed in 2010 came early enough to finish within the year.
        if fate == "elsewhere":
            referral = workday(FIRST_DAY + timedelta(days=rng.randrange(0, 320)))
        elif fate is None:
            referral = workday(date(YEAR, 6, 1) + timedelta(days=rng.randrange(0, 190)))
        else:
            referral = workday(FIRST_DAY + timedelta(days=rng.randrange(0, 200)))
        wait = rng.randrange(5, 45) if source == "te_office" else rng.randrange(3, 30)
        assessed = workday(referral + timedelta(days=wait))
        consent_on = workday(max(referral, assessed - timedelta(days=rng.randrange(0, 8))))
        if consent_on > assessed:
            consent_on = assessed
        capacity = True
        if fate == "elsewhere":
            route, destination = elsewhere.pop()
            # The entry rule: one of those not helped here cannot take even rehabilitative work.
            capacity = not (route == "not_helped_here" and "treatment" in (destination or ""))
        else:
            route, destination = routes[i], None
        advisor = ADVISORS[i % len(ADVISORS)]
        joint = assessed >= JOINT_ASSESSMENTS_FROM and route != "not_helped_here"
        assessors = (advisor, social_worker(municipality)) if joint else (advisor,)
        heavy = route in ("health_check_first", "rehabilitative_work_activity")
        findings = tuple(
            (area, rng.choice(("significant", "some", "some") if heavy else ("none", "some", "some")))
            for area in AREAS
        )
        profile = {
            "rehabilitative_work_activity": "rehabilitative_work_activity",
            "intermediate_labour_market": "intermediate_labour_market",
            "not_helped_here": None,
        }.get(route, "centre")
        segment = (
            None
            if route == "not_helped_here"
            else 1
            if fate == "open_labour_market"
            or route in ("job_search_services", "paid_or_wage_subsidised_work")
            else 2
            if fate in ("education", "wage_subsidised_work")
            else 3
        )
        if source == "te_office" or rng.random() < 0.5:
            # The national criterion of 2010: at least half of the clients over 500 days.
            over = rng.random() < 0.6
            days = rng.randrange(501, 1600) if over else rng.randrange(120, 500)
            subsidy_days: int | None = days
            months: int | None = max(6, days // 21)
        else:
            subsidy_days = months = None
        received_by = {
            "te_office": advisor,
            "social_services": social_worker(municipality),
        }.get(source, SECRETARY)
        client = DemoClient(
            number=i + 1,
            first_name=first,
            last_name=last,
            identity_code=code,
            municipality=municipality,
            source=source,
            source_description={"other": rng.choice(("school", "health care", "Vartti project"))}.get(source),
            referral_date=referral,
            received_by=received_by,
            subsidy_days=subsidy_days,
            unemployment_months=months,
            consent_on=consent_on,
            consent_organisations=(),
            assessed_on=assessed,
            assessors=assessors,
            findings=findings,
            capacity_allows_rehabilitative_work=capacity,
            route=route,
            profile=profile,
            ministry_segment=segment,
            destination=destination,
        )
        if client.into_centre:
            client = _guidance_path(rng, client, fate, reasons, load)
        clients.append(client)
    clients = _transfers_and_reassessments(rng, clients)
    return [_with_consent(c) for c in clients]


def _guidance_path(
    rng: random.Random, client: DemoClient, outcome: str | None, reasons: list[str], load: Counter[str]
) -> DemoClient:
    """Guide, health check, plan and phases; the closure when ``outcome`` is given."""
    covering = [g for g in GUIDES if client.municipality in g.areas]
    guide = min(covering, key=lambda g: (load[g.person.person_id], g.person.person_id))
    assigned = workday(client.assessed_on + timedelta(days=rng.randrange(2, 30)))
    if assigned >= LAST_DAY and outcome is None:
        return client  # still waiting for a named guide at the end of the year
    load[guide.person.person_id] += 1
    health = (
        workday(assigned + timedelta(days=rng.randrange(3, 15)))
        if client.route == "health_check_first"
        else None
    )
    plan_on = workday((health or assigned) + timedelta(days=rng.randrange(5, 20)))
    closed: date | None = None
    if outcome is not None:
        closed = workday(plan_on + timedelta(days=rng.randrange(60, 200)))
        if closed >= date(YEAR, 12, 22):
            closed = workday(date(YEAR, 12, 13) + timedelta(days=rng.randrange(0, 8)))
        closed = max(closed, workday(plan_on + timedelta(days=14)))
    end = closed or LAST_DAY
    span = max((end - plan_on).days, 3)
    phases: list[tuple[str, date]] = [("survey_and_research", plan_on)]
    if span > 40 or outcome is not None:
        phases.append(("rehabilitation_and_guidance", workday(plan_on + timedelta(days=span // 3))))
    if outcome in ("open_labour_market", "education", "wage_subsidised_work") or (
        outcome is None and span > 120
    ):
        phases.append(("coaching_and_employment", workday(plan_on + timedelta(days=2 * span // 3))))
    phases = [(p, d) for p, d in phases if d <= end]
    kinds = MEASURES_BY_OUTCOME[outcome]
    if client.route == "health_check_first":
        kinds = (("health_check", "TYP nurse"), *kinds)
    if client.route == "rehabilitative_work_activity":
        kinds = (("rehabilitative_work_activity", f"{client.municipality} social services"), *kinds[1:])
    measures = []
    for n, (kind, provider) in enumerate(kinds):
        start = workday(plan_on + timedelta(days=7 + n * max(span // (len(kinds) + 1), 1)))
        start = min(start, end)
        stop = workday(start + timedelta(days=rng.randrange(20, 90))) if closed else None
        if kind == "health_check" and health is not None:
            start = stop = health
        if stop is not None and closed is not None:
            stop = min(stop, closed)
        final = "interrupted" if outcome == "interrupted" and kind != "health_check" else "completed"
        measures.append(Measure(kind, provider, start, stop, final))
    closure = None
    review = None
    if outcome is not None and closed is not None:
        review = closed
        continues = rng.choice(CONTINUATION[outcome])
        closure = Closure(
            closed_on=closed,
            outcome=outcome,
            outside_labour_force_reason=reasons.pop() if outcome == "outside_labour_force" else None,
            services_continue=continues,
            follow_up_advisor=ADVISORS[client.number % len(ADVISORS)].person_id
            if continues == "light_follow_up"
            else None,
            text=f"{FINAL_TEXT[outcome]} {CONTINUATION_TEXT[continues]} (Demo data.)",
            work_ability_clarified=outcome != "interrupted"
            and (outcome != "unemployed" or rng.random() < 0.5),
            competence_improved=outcome in ("open_labour_market", "education", "wage_subsidised_work")
            or (outcome == "unemployed" and rng.random() < 0.3),
            recommended_services={"vaaksa": ("Vaaksa project",), "te_office": ("TE-office services",)}.get(
                continues, ()
            ),
        )
    return replace(
        client,
        guide=guide,
        assigned_on=assigned,
        health_check_on=health,
        plan_on=plan_on,
        measures=tuple(measures),
        phases=tuple(phases),
        review_on=review,
        closure=closure,
    )


def _transfers_and_reassessments(rng: random.Random, clients: list[DemoClient]) -> list[DemoClient]:
    """Some relationships pass through the municipality's rehabilitative work activity and
    come back; a few are still there at the end of the year; stalled ones are re-assessed
    with the client's own social worker before closing."""
    out = list(clients)

    def candidates(check: Callable[[DemoClient], bool]) -> list[int]:
        found = [i for i, c in enumerate(out) if c.route == "individual_service_guidance" and check(c)]
        rng.shuffle(found)
        return found

    def room(c: DemoClient) -> int:
        end = c.closure.closed_on if c.closure else LAST_DAY
        return (end - c.plan_on).days if c.plan_on else 0

    for i in candidates(
        lambda c: (
            c.closure is not None
            and c.closure.outcome
            in ("outside_labour_force", "unemployed", "interrupted", "wage_subsidised_work")
            and room(c) >= 130
        )
    )[:TRANSFERS_RETURNED]:
        c = out[i]
        assert c.plan_on is not None and c.closure is not None
        moved = workday(c.plan_on + timedelta(days=rng.randrange(7, 20)))
        back = workday(moved + timedelta(days=rng.randrange(95, 110)))
        if back >= c.closure.closed_on:
            continue
        acked = workday(moved + timedelta(days=rng.randrange(1, 10)))
        plan = Transfer(moved, acked, back, 3, rng.choice((2, 3, 4)), rng.choice((4, 5, 6)), "Työkeskus")
        out[i] = replace(c, transfer=plan)
    for i in candidates(lambda c: c.closure is None and c.transfer is None and room(c) >= 30)[
        :TRANSFERS_STILL_OUT
    ]:
        c = out[i]
        assert c.plan_on is not None
        moved = workday(c.plan_on + timedelta(days=rng.randrange(5, 15)))
        acked = workday(moved + timedelta(days=rng.randrange(1, 10)))
        plan = Transfer(moved, acked, None, 6, 3, 6, "Työkeskus")
        out[i] = replace(c, transfer=plan)
    for i in candidates(
        lambda c: (
            c.closure is not None and c.closure.outcome in ("unemployed", "interrupted") and room(c) >= 40
        )
    )[:REASSESSMENTS]:
        c = out[i]
        assert c.closure is not None and c.plan_on is not None
        on = c.closure.closed_on - timedelta(days=rng.randrange(7, 21))
        while on.weekday() >= 5:
            on -= timedelta(days=1)
        after = max([c.plan_on, *(d for _, d in c.phases)])
        if c.transfer is not None and c.transfer.returned_on is not None:
            after = max(after, c.transfer.returned_on)
        if on > after:
            out[i] = replace(c, reassessed_on=on)
    return out


def _with_consent(c: DemoClient) -> DemoClient:
    """Disclosure to the municipality's social services where they take part."""
    involved = (
        c.route == "rehabilitative_work_activity"
        or c.transfer is not None
        or c.reassessed_on is not None
        or len(c.assessors) == 2
    )
    organisations = (social_worker(c.municipality).organisation,) if involved else ()
    if c.closure is not None and c.closure.outcome == "outside_labour_force":
        organisations = (*organisations, "kela")
    return replace(c, consent_organisations=organisations)


# --- HTTP --------------------------------------------------------------------------------------


class DemoError(RuntimeError):
    """A call the demo needs did not succeed: the message says which and why."""


@dataclass(frozen=True)
class Endpoints:
    intake: str = "http://127.0.0.1:8001"
    guidance: str = "http://127.0.0.1:8002"
    reporting: str = "http://127.0.0.1:8003"


@dataclass
class Answer:
    status: int
    body: Any


class Http:
    """Blocking JSON calls with signed tokens (urllib: no extra dependency), run in a
    thread pool so that many clients move at once."""

    def __init__(self, issuer: TokenIssuer, *, timeout: float = 30.0) -> None:
        self._issuer = issuer
        self._tokens: dict[Person, str] = {}
        self._timeout = timeout

    def token(self, person: Person) -> str:
        if person not in self._tokens:
            self._tokens[person] = self._issuer.issue(
                person_id=person.person_id,
                role=person.role,
                organisation=person.organisation,
                ttl=timedelta(hours=6),
            )
        return self._tokens[person]

    def call(
        self, method: str, url: str, person: Person, body: Any = None, *, ok: Iterable[int] = (200, 201)
    ) -> Answer:
        expected = set(ok)
        data = None if body is None else json.dumps(body, default=str).encode()
        headers = {
            "Authorization": f"Bearer {self.token(person)}",
            "X-Reitti-Purpose": PURPOSE.value,
            "X-Reitti-Purpose-Detail": PURPOSE_DETAIL,
            "Accept": "application/json",
        }
        if data is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(8):
            request = urllib.request.Request(url, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=self._timeout) as response:
                    answer = Answer(response.status, _json(response.read()))
            except urllib.error.HTTPError as exc:
                answer = Answer(exc.code, _json(exc.read()))
            except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
                # Retry only what cannot have been done: a read, or a refused connection.
                refused = isinstance(getattr(exc, "reason", exc), ConnectionRefusedError)
                if attempt < 3 and (method == "GET" or refused):
                    time.sleep(0.5 * (attempt + 1))
                    continue
                raise DemoError(f"{method} {url}: {exc}") from None
            retryable = isinstance(answer.body, dict) and answer.body.get("retryable") is True
            if answer.status == 409 and retryable and attempt < 7:
                time.sleep(0.05 * (attempt + 1))
                continue
            if answer.status in expected:
                return answer
            raise DemoError(f"{method} {url} answered {answer.status}: {_detail(answer.body)}")
        raise DemoError(f"{method} {url}: gave up after retries")


def _assessor(p: Person) -> dict[str, str]:
    return {"person_id": p.person_id, "role": p.role, "organisation": p.organisation}


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode(errors="replace")


def _detail(body: Any) -> str:
    if isinstance(body, dict) and "detail" in body:
        return str(body["detail"])
    return str(body)[:500]


# --- running the year through the APIs -----------------------------------------------------------


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
        self._pool = ThreadPoolExecutor(max_workers=self.concurrency + 2, thread_name_prefix="reitti-demo")

    async def call(
        self, method: str, url: str, person: Person, body: Any = None, *, ok: Iterable[int] = (200, 201)
    ) -> Answer:
        loop = asyncio.get_running_loop()
        self.report.calls += 1
        return await loop.run_in_executor(
            self._pool, lambda: self.http.call(method, url, person, body, ok=ok)
        )

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

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
        run.close()
    run.report.seconds = time.perf_counter() - started
    return run.report


# --- the command line ---------------------------------------------------------------------------


def load_issuer(data_dir: Path) -> TokenIssuer:
    """The signing key ``reitti up`` keeps (or ``REITTI_JWT_PRIVATE_KEY``), as ``reitti token``."""
    key = Path(os.environ.get("REITTI_JWT_PRIVATE_KEY") or data_dir / "keys" / "token-signing.key")
    if not key.is_file():
        raise DemoError(f"no signing key at {key}: run `reitti up` first, or set REITTI_JWT_PRIVATE_KEY")
    return TokenIssuer.load(key, issuer=os.environ.get("REITTI_JWT_ISSUER", "reitti-embedded"))


def render(report: DemoReport, out: TextIO | None = None) -> None:
    """Print what the run did and reporting's 2010 shares beside the seed's."""
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out, highlight=False, soft_wrap=True)
    console.print(
        f"demo year {YEAR}: {report.clients} clients ({report.new_cases} new, "
        f"{report.already_present} already present), {report.guidance_cases} guidance cases, "
        f"{report.closed_now} closed now ({report.already_closed} were closed before); "
        f"{report.calls} API calls in {report.seconds:.1f}s "
        f"({report.reporting_seconds:.1f}s of it waiting for reporting to catch up)"
    )
    console.print(
        f"legal hold set on {report.held} demo clients: the retention sweep will not erase them "
        '(clear one with POST /clients/<id>/legal-hold {"hold": false} as a service coordinator)'
    )
    if report.left_waiting:
        console.print(
            f"{report.left_waiting} clients end {YEAR} waiting for a named guide and the demo names "
            f"none later, so they wait still: GET /waiting?as_of={YEAR}-12-31 counts their waits to "
            "the year's end (without as_of, to today)"
        )
    stats = report.statistics
    if not stats:
        return
    if not stats.get("caught_up"):
        console.print("[yellow]reporting had not caught up yet: the figures below may still grow[/]")
    intake = stats["intake"]
    console.print(f"new clients in {YEAR}: {intake['new_clients']} (intake target {intake['target']})")
    for title, key, seed in (
        ("Referral sources", "referral_sources", SOURCE_SHARES),
        ("Outcomes of closed relationships", "outcomes", OUTCOME_SHARES),
    ):
        shares = stats[key]
        table = Table(title=f"{title}, {YEAR} (total {shares['total']})")
        table.add_column("")
        table.add_column("count", justify="right")
        table.add_column("share", justify="right")
        table.add_column("seed", justify="right")
        for name, count in shares["counts"].items():
            table.add_row(
                name,
                str(count),
                f"{100 * shares['shares'].get(name, 0):.1f} %",
                f"{100 * seed[name]:.0f} %" if name in seed else "",
            )
        console.print(table)
    rows = ", ".join(f"{r['municipality']} {r['new_clients']}" for r in intake["municipalities"])
    console.print(f"new clients by municipality: {rows}")


def main(endpoints: Endpoints, data_dir: Path, *, concurrency: int = 8, out: TextIO | None = None) -> int:
    """``reitti demo``: load the year with a progress bar and print the statistics."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    issuer = load_issuer(data_dir)
    console = Console(file=out, soft_wrap=True)
    with Progress(
        TextColumn(f"demo year {YEAR}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("clients"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("demo", total=NEW_CLIENTS)
        report = asyncio.run(
            run_demo(
                endpoints,
                issuer,
                concurrency=concurrency,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        )
    render(report, out)
    console.print(
        f"dashboard: open {endpoints.reporting}/dashboard and sign in with the token of "
        f"`reitti token --data-dir {data_dir} --role steering_group_member --person you`"
    )
    return 0


def after_launch(data_dir: Path, host: str, ports: Mapping[str, int], out: Any) -> None:
    """``reitti up --demo``: load the demo year once the services answer; a failure is
    reported and the services keep running."""
    client_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    urls = {name: f"http://{client_host}:{port}" for name, port in ports.items()}
    endpoints = Endpoints(intake=urls["intake"], guidance=urls["guidance"], reporting=urls["reporting"])
    if os.environ.get("REITTI_JWT_PUBLIC_KEY") and not os.environ.get("REITTI_JWT_PRIVATE_KEY"):
        print(
            "reitti up --demo: tokens come from an external identity provider; set "
            "REITTI_JWT_PRIVATE_KEY to a key it trusts to load the demo year",
            file=out,
            flush=True,
        )
        return
    try:
        main(endpoints, data_dir, out=out)
    except DemoError as exc:
        print(f"reitti up --demo: the demo year was not loaded: {exc}", file=out, flush=True)
