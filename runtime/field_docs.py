"""Descriptions of the fields that recur across the three services' APIs, written once so
that the OpenAPI says the same thing of the same field wherever it appears."""

from __future__ import annotations

from runtime.config import DEFAULT_MUNICIPALITIES

#: the centre's municipalities as a partner reads them (the default configuration)
CENTRE_MUNICIPALITIES = (
    f"by default {', '.join(DEFAULT_MUNICIPALITIES)} (REITTI_MUNICIPALITIES configures them)"
)

CLIENT_ID = "The client's id, `client-<uuid>`: the same in intake, guidance and reporting"
MUNICIPALITY = f"The client's home municipality, one of the centre's municipalities: {CENTRE_MUNICIPALITIES}"
MUNICIPALITY_FILTER = (
    f"The municipality the figures are for, one of the centre's ({CENTRE_MUNICIPALITIES}); null for all"
)
STREAM_VERSION = "The client stream's version after this command: how many events the case has"
EVENT_IDS = "Events written now; empty when nothing changed"
PERSON_ID = "A person's stable id: the `sub` of their token"
ORGANISATION = "An organisation's name as in tokens, e.g. `te-office`, `mikkeli` or `social_services:mikkeli`"
ROLE = "A role of the permission matrix (docs/permissions.md), e.g. `employment_advisor`"
RULE_SET = (
    "The name of the rule set (the law of the period) that applies, e.g. `Act 381/2023 on "
    "multi-sectoral joint service (TE services in municipalities)`"
)
MINISTRY_SEGMENT = (
    "The ministry's client segment: 1 straight to the labour market, 2 via competence "
    "building, 3 rehabilitating towards the labour market (most of the centre's clients); "
    "null if not given"
)
YEAR_FILTER = "The calendar year the figures are for; null for all years"
WAITING_DAYS = "Whole days waited so far, counted by the Finnish calendar date"
