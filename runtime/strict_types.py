"""The strict types for what callers send, kept in :mod:`contracts.strict` (the event
contracts' request-body parts use them, and contracts import nothing from runtime);
re-exported here for the services' query parameters."""

from __future__ import annotations

from contracts.strict import (
    AwareIsoInstant,
    IsoDate,
    IsoInstant,
    NumberInQuery,
    StrictCount,
    StrictDecimal,
    StrictFlag,
)

__all__ = [
    "AwareIsoInstant",
    "IsoDate",
    "IsoInstant",
    "NumberInQuery",
    "StrictCount",
    "StrictDecimal",
    "StrictFlag",
]
