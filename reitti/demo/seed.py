"""The seed's year 2010 (siemen): its counts and shares, the names the demo draws from,
and the centre's staff who do each step."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from contracts.names import TE_OFFICE
from contracts.subjects import organisation_slug
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
    Person("demo-advisor-1", "employment_advisor", TE_OFFICE, "Pirjo Lahtinen"),
    Person("demo-advisor-2", "employment_advisor", TE_OFFICE, "Jarmo Hiltunen"),
    Person("demo-advisor-3", "employment_advisor", TE_OFFICE, "Merja Kolehmainen"),
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
