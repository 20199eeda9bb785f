"""A guide's caseload (*asiakasmäärä*): who counts in it, and its limit. Defined once here;
guidance's limit check and its ``GET /guides`` listing, and reporting's
``/statistics/caseloads`` and the dashboard, all count with :func:`counts_in_caseload`
(docs/adr/0029).

The seed's target is 40-60 clients "in active guidance" per guide (it had grown to nearly
100). A client is in a guide's active guidance while the centre's relationship is open and
the guide is named: also while the client is in the municipality's rehabilitative work
activity with the relationship kept open, because the guide still coordinates the case and
takes the client back. A client stops counting when the relationship is closed, or ends at
a hand-over (``relationship_stays_open`` false) the receiving side has not declined and the
client has not returned from.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The centre's limit of clients in active guidance per guide: the top of the seed's 40-60.
CASELOAD_LIMIT = 60
#: The operator's override of :data:`CASELOAD_LIMIT` (read by guidance and reporting alike,
#: through the shared section of services/settings.py).
CASELOAD_LIMIT_VARIABLE = "REITTI_CASELOAD_LIMIT"


@dataclass(frozen=True)
class Handover:
    """The client's latest hand-over to social services, as far as the caseload cares."""

    relationship_stays_open: bool
    declined: bool
    returned: bool

    @property
    def ended_relationship(self) -> bool:
        """The relationship ended at this hand-over and has not come back to the centre."""
        return not (self.relationship_stays_open or self.declined or self.returned)


def relationship_open(*, closed: bool, latest_handover: Handover | None) -> bool:
    """The centre's relationship with the client is open: not closed, and not ended at the
    latest hand-over. Only the latest counts: an earlier transfer was returned from or
    declined before a later one could be made."""
    return not closed and not (latest_handover is not None and latest_handover.ended_relationship)


def counts_in_caseload(*, guide_named: bool, closed: bool, latest_handover: Handover | None) -> bool:
    """The client counts in their named guide's caseload (is in active guidance)."""
    return guide_named and relationship_open(closed=closed, latest_handover=latest_handover)


def over_limit(active_clients: int, limit: int) -> bool:
    """A guide with more clients than the limit (only a service coordinator's override with a
    reason gets them there)."""
    return active_clients > limit


def full(active_clients: int, limit: int) -> bool:
    """A guide who takes no new client without an override: at the limit or over it."""
    return active_clients >= limit


#: the band of a caseload above the limit
OVER_LIMIT_BAND = "over limit"


def caseload_bands(limit: int) -> tuple[str, ...]:
    """Anonymous caseload bands for a viewer who may not see staff: the limit cut in
    thirds, then over it. For the limit 60: ``0-19``, ``20-39``, ``40-60``, ``over limit``
    (the seed's 40-60 is the top band)."""
    first, second = limit // 3, 2 * limit // 3
    cuts = [(0, first - 1), (first, second - 1), (second, limit)]
    return (*(f"{low}-{high}" for low, high in cuts if low <= high), OVER_LIMIT_BAND)


def caseload_band(active_clients: int, limit: int) -> str:
    """The band of :func:`caseload_bands` a guide with ``active_clients`` falls in."""
    if over_limit(active_clients, limit):
        return OVER_LIMIT_BAND
    for band in caseload_bands(limit)[:-1]:
        low, high = (int(x) for x in band.split("-"))
        if low <= active_clients <= high:
            return band
    raise AssertionError("unreachable: the bands cover 0 to the limit")
