"""Digests of a projection's contents, to compare it with a recorded result: a SHA-256 and
a row count per table, so a difference names its table. Standard library only (the
recording script ran it against an older checkout)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"no digest for {type(value).__name__}")


def sha256_of(rows: Any) -> str:
    text = json.dumps(rows, default=_plain, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def as_set(rows: Sequence[Sequence[object]]) -> list[str]:
    """Rows in an order of their own (their JSON, by code point), not the database's: a
    server's collation orders text differently ('Mäntyharju' against 'Mikkeli')."""
    return sorted(json.dumps(list(r), default=_plain, sort_keys=True, ensure_ascii=False) for r in rows)


def projection_digest(
    snapshot: Mapping[str, Sequence[Sequence[object]]],
    heads: Mapping[Any, Sequence[object]],
    feeds: Sequence[Sequence[object]],
) -> dict[str, Any]:
    """Every table's rows and digest, the audit chain heads' and the feed messages' (in
    the order they were queued)."""
    return {
        "tables": {
            t: {"rows": len(rows), "sha256": sha256_of(as_set(rows))} for t, rows in sorted(snapshot.items())
        },
        "audit_heads": {
            "chains": len(heads),
            "sha256": sha256_of(sorted([*k, *v] for k, v in heads.items())),
        },
        "feeds": {"messages": len(feeds), "sha256": sha256_of([list(r) for r in feeds])},
    }
