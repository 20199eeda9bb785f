"""Which of reporting's columns hold a client's personal text, and how they are sealed
(docs/adr/0020): with the client's key (:class:`runtime.sealing.Sealer`), bound to the
table, the column and the row, written sealed and revealed only when read.

The centre partition's case facts (``centre_cases.facts``, JSON) carry three such
values: each plan measure's provider, each health summary's next step and each
transfer's place of work; each is bound to its place in the case.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

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


#: (value, path in the facts, the item it belongs to) -> the changed value
_Change = Callable[[str | None, str, object], str | None]


def _facts_aad(client_id: str, path: str, item: object) -> bytes:
    return binding(f"{CASE_FACTS}.{path}", client_id, item)


def seal_facts(sealer: Sealer, facts: CaseFacts) -> str:
    """The case facts as stored: JSON with their personal text sealed."""
    c = facts.client_id

    def seal(value: str | None, path: str, item: object) -> str | None:
        return sealer.seal(c, value, _facts_aad(c, path, item))

    return _changed(facts, seal).model_dump_json()


def open_facts(sealer: Sealer, text: str) -> CaseFacts:
    """The stored case facts with their personal text revealed (or ``[erased]``)."""
    facts = CaseFacts.model_validate_json(text)
    if PREFIX not in text:
        return facts
    c = facts.client_id

    def open_(value: str | None, path: str, item: object) -> str | None:
        return sealer.open(c, value, _facts_aad(c, path, item))

    return _changed(facts, open_)


def _changed(facts: CaseFacts, change: _Change) -> CaseFacts:
    """``facts`` with ``change`` applied to each personal value."""
    if not (facts.measures or facts.health_summaries or facts.transfers):
        return facts
    return facts.model_copy(
        update={
            "measures": tuple(
                m.model_copy(update={"provider": change(m.provider, "measures.provider", m.measure_id)})
                for m in facts.measures
            ),
            "health_summaries": tuple(
                h.model_copy(
                    update={
                        "recommended_next_step": change(
                            h.recommended_next_step, "health_summaries.recommended_next_step", n
                        )
                    }
                )
                for n, h in enumerate(facts.health_summaries, start=1)
            ),
            "transfers": tuple(
                t.model_copy(update={"place": change(t.place, "transfers.place", t.transfer_id)})
                for t in facts.transfers
            ),
        }
    )
