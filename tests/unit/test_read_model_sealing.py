"""Personal values in read models, sealed with the client's key and bound to their place
(docs/adr/0020), without servers."""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal

from runtime.erasure import ERASED, PREFIX
from runtime.sealing import Sealer, binding
from services.reporting.facts import CaseFacts, HealthSummaryFact, MeasureFact, TransferFact
from services.reporting.sealed import SEALED_COLUMNS, open_facts, open_rows, seal_cell, seal_facts

CLIENT, OTHER = "client-1", "client-2"
KEYS = {CLIENT: os.urandom(32), OTHER: os.urandom(32)}


def test_a_value_is_sealed_under_the_clients_key_and_opens_only_there() -> None:
    sealer = Sealer(KEYS)
    aad = binding("te_measures.provider", CLIENT, "m1")
    sealed = sealer.seal(CLIENT, "Vartti Oy", aad)
    assert sealed is not None and sealed.startswith(PREFIX) and "Vartti" not in sealed
    assert sealed != sealer.seal(CLIENT, "Vartti Oy", aad), "a fresh nonce each time"
    assert sealer.open(CLIENT, sealed, aad) == "Vartti Oy"
    # Moved to another row, another column or another client, it does not open.
    assert sealer.open(CLIENT, sealed, binding("te_measures.provider", CLIENT, "m2")) == ERASED
    assert sealer.open(CLIENT, sealed, binding("municipal_transfers.place", CLIENT, "m1")) == ERASED
    assert sealer.open(OTHER, sealed, aad) == ERASED
    # Once the key is gone (or was never there), it reads [erased].
    assert Sealer({CLIENT: None}).open(CLIENT, sealed, aad) == ERASED
    assert Sealer({}).open(CLIENT, sealed, aad) == ERASED


def test_nothing_is_ever_written_in_plaintext_and_empty_values_stay_as_they_are() -> None:
    aad = binding("health_checks.details", "e1")
    assert Sealer({CLIENT: None}).seal(CLIENT, "back pain", aad) == ERASED, "no key: erased, not plain"
    assert Sealer({}).seal(CLIENT, "back pain", aad) == ERASED
    sealer = Sealer(KEYS)
    assert sealer.seal(CLIENT, None, aad) is None
    assert sealer.seal(CLIENT, ERASED, aad) == ERASED
    sealed = sealer.seal(CLIENT, "back pain", aad)
    assert sealer.seal(CLIENT, sealed, aad) == sealed, "sealed once"
    assert sealer.open(CLIENT, "plain from before", aad) == "plain from before"


def test_a_sealed_column_is_bound_to_its_rows_key() -> None:
    sealer = Sealer(KEYS)
    row = {"municipality": "Mikkeli", "client_id": CLIENT, "transfer_id": "t1", "place": "Vartti"}
    stored = {**row, "place": seal_cell(sealer, "municipal_transfers", row)}
    assert "Vartti" not in str(stored)
    assert open_rows(sealer, "municipal_transfers", [stored]) == [row]
    moved = {**stored, "transfer_id": "t2"}
    assert open_rows(sealer, "municipal_transfers", [moved])[0]["place"] == ERASED
    assert set(SEALED_COLUMNS) == {
        "te_measures",
        "te_health_summaries",
        "te_final_assessments",
        "municipal_transfers",
        "municipal_clients",
        "health_checks",
    }
    named = {"municipality": "Mikkeli", "client_id": CLIENT, "name": "Matti Virtanen"}
    stored_name = {**named, "name": seal_cell(sealer, "municipal_clients", named)}
    assert "Matti" not in str(stored_name) and open_rows(sealer, "municipal_clients", [stored_name]) == [
        named
    ]
    elsewhere = {**stored_name, "municipality": "Puumala"}
    assert open_rows(sealer, "municipal_clients", [elsewhere])[0]["name"] == ERASED


def facts() -> CaseFacts:
    return CaseFacts(
        client_id=CLIENT,
        municipality="Mikkeli",
        name="Matti Virtanen",
        measures=(
            MeasureFact(
                measure_id="m1", kind="work_try_out", provider="Vartti", start=date(2010, 1, 1), end=None,
                status="ongoing",
            ),
        ),
        health_summaries=(
            HealthSummaryFact(
                checked_on=date(2010, 2, 1), work_restrictions_found=True, recommended_next_step="lepo-7"
            ),
        ),
        transfers=(
            TransferFact(
                transfer_id="t1", receiving_municipality="Mikkeli", transferred_on=date(2010, 3, 1),
                plan_start=date(2010, 3, 1), plan_months=6, days_per_week=4, hours_per_day=Decimal("6.5"),
                place="Kierrätyskeskus", relationship_stays_open=True,
            ),
            TransferFact(
                transfer_id="opening", receiving_municipality="Mikkeli", transferred_on=date(2010, 1, 1),
                plan_start=None, plan_months=None, days_per_week=None, hours_per_day=None, place=None,
                relationship_stays_open=True,
            ),
        ),
    )  # fmt: skip


def test_the_case_facts_are_stored_with_their_personal_text_sealed_and_read_back_revealed() -> None:
    case = facts()
    stored = seal_facts(Sealer(KEYS), case)
    assert all(text not in stored for text in ("Vartti", "lepo-7", "Kierrätyskeskus", "Matti"))
    assert stored.count(PREFIX) == 4 and '"kind":"work_try_out"' in stored
    assert open_facts(Sealer(KEYS), stored) == case
    erased = open_facts(Sealer({CLIENT: None}), stored)
    assert erased.measures[0].provider == erased.transfers[0].place == ERASED
    assert erased.health_summaries[0].recommended_next_step == ERASED and erased.name == ERASED
    assert erased.transfers[1].place is None and erased.measures[0].kind == "work_try_out"
    # The name alone is personal text too.
    named = CaseFacts(client_id=CLIENT, municipality="Mikkeli", name="Matti Virtanen")
    assert "Matti" not in seal_facts(Sealer(KEYS), named)
    assert open_facts(Sealer(KEYS), seal_facts(Sealer(KEYS), named)) == named
    # Facts with no personal text are stored and read as they are.
    bare = CaseFacts(client_id=CLIENT, municipality="Mikkeli")
    assert open_facts(Sealer({}), seal_facts(Sealer({}), bare)) == bare
