"""Which of reporting's columns hold a client's personal text, and how they are sealed
(docs/adr/0020): with the client's key (:class:`runtime.sealing.Sealer`), bound to the
table, the column and the row, written sealed and revealed only when read.

The centre partition's case facts (``centre_cases.facts``, JSON) carry four such
values: the client's name (for the municipal view), each plan measure's provider, each
health summary's next step and each transfer's place of work; each is bound to its
place in the case.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from runtime.erasure import PREFIX, fetch_keys
from runtime.sealing import Sealer, binding
from services.reporting.facts import CaseFacts


@dataclass(frozen=True)
class SealedColumn:
    """A text column sealed with the key of the row's client (``client_column``); the
    associated data names the table, the column and the values of ``row_key``."""

    table: str
    column: str
    row_key: tuple[str, ...]
    client_column: str = "client_id"

    @property
    def place(self) -> str:
        return f"{self.table}.{self.column}"

    def aad(self, row: Mapping[str, object]) -> bytes:
        return binding(self.place, *(row[k] for k in self.row_key))


#: every sealed column of the projection, by table (centre_cases.facts is JSON: below)
SEALED_COLUMNS: dict[str, SealedColumn] = {
    c.table: c
    for c in (
        SealedColumn("te_measures", "provider", ("client_id", "measure_id")),
        SealedColumn("te_health_summaries", "recommended_next_step", ("client_id", "n")),
        SealedColumn("te_final_assessments", "assessment_text", ("event_id",)),
        SealedColumn("municipal_transfers", "place", ("municipality", "client_id", "transfer_id")),
        SealedColumn("municipal_clients", "name", ("municipality", "client_id")),
        SealedColumn("health_checks", "details", ("event_id",)),
    )
}
CASE_FACTS = "centre_cases.facts"


def seal_cell(sealer: Sealer, table: str, row: Mapping[str, object]) -> str | None:
    """The sealed value of ``row``'s sealed column in ``table``."""
    spec = SEALED_COLUMNS[table]
    value = row[spec.column]
    assert value is None or isinstance(value, str)
    return sealer.seal(str(row[spec.client_column]), value, spec.aad(row))


def open_rows(sealer: Sealer, table: str, rows: Sequence[Mapping[str, object]]) -> list[dict[str, object]]:
    """``rows`` of ``table`` as dicts, the sealed column revealed (or ``[erased]``)."""
    spec = SEALED_COLUMNS[table]
    out = []
    for r in rows:
        row = dict(r)
        value = row[spec.column]
        if isinstance(value, str):
            row[spec.column] = sealer.open(str(row[spec.client_column]), value, spec.aad(row))
        out.append(row)
    return out


async def sealer_for(conn: asyncpg.Connection, client_ids: Iterable[object]) -> Sealer:
    """A sealer with the keys of ``client_ids``, read now, for this call only."""
    return Sealer(await fetch_keys(conn, {str(c) for c in client_ids}))


# --- the case facts ----------------------------------------------------------------------


def _facts_aad(client_id: str, path: str, item: object) -> bytes:
    return binding(f"{CASE_FACTS}.{path}", client_id, item)


def seal_facts(sealer: Sealer, facts: CaseFacts) -> str:
    """The case facts as stored: JSON with their personal text sealed."""
    if not (facts.name or facts.measures or facts.health_summaries or facts.transfers):
        return facts.model_dump_json()  # nothing personal in it
    data = facts.model_dump(mode="json")
    _change(data, facts.client_id, sealer.seal)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def open_facts(sealer: Sealer, text: str) -> CaseFacts:
    """The stored case facts with their personal text revealed (or ``[erased]``)."""
    if PREFIX not in text:
        return CaseFacts.model_validate_json(text)
    data = json.loads(text)
    _change(data, str(data["client_id"]), sealer.open)
    return CaseFacts.model_validate(data)


#: the personal values at the top of the case facts
_FACTS_PERSONAL_TOP = ("name",)
#: the personal values of the case facts: (list, value, what names an item of the list)
_FACTS_PERSONAL = (
    ("measures", "provider", "measure_id"),
    ("health_summaries", "recommended_next_step", None),
    ("transfers", "place", "transfer_id"),
)


def _change(
    data: dict[str, Any], client_id: str, change: Callable[[str, str | None, bytes], str | None]
) -> None:
    """Apply ``change`` (seal or open) to each personal value of the facts' JSON, in place;
    each is bound to its client, its place and its item (by id, or by position from 1)."""
    for value in _FACTS_PERSONAL_TOP:
        if data.get(value) is not None:
            data[value] = change(client_id, data[value], _facts_aad(client_id, value, None))
    for items, value, name in _FACTS_PERSONAL:
        for n, item in enumerate(data.get(items) or (), start=1):
            if item.get(value) is not None:
                aad = _facts_aad(client_id, f"{items}.{value}", item[name] if name else n)
                item[value] = change(client_id, item[value], aad)
