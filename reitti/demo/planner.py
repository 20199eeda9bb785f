"""The plan of the demo year: every client's path, drawn from a seeded random generator
with exact counts that round to the seed's shares (:func:`plan_year`).

Over 400 lines because one seeded generator draws the whole year in one fixed order
(sources, municipalities, fates, then each client's path, then transfers), and the same
seed must give the same year; split over modules, that order would be easy to break."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta

from reitti.demo.seed import (
    ADVISORS,
    AREAS,
    CHECK_CHARACTERS,
    FIRST_DAY,
    FIRST_NAMES_F,
    FIRST_NAMES_M,
    GUIDES,
    JOINT_ASSESSMENTS_FROM,
    LAST_DAY,
    LAST_NAMES,
    NEW_CLIENTS,
    OUTCOME_COUNTS,
    OUTSIDE_REASONS,
    REASSESSMENTS,
    ROUTED_ELSEWHERE,
    ROUTES_BY_OUTCOME,
    SECRETARY,
    SEED,
    SOURCE_COUNTS,
    STILL_OPEN,
    TRANSFERS_RETURNED,
    TRANSFERS_STILL_OUT,
    YEAR,
    Guide,
    Person,
    social_worker,
)


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
