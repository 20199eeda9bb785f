"""Reitti's clock: now in the centre's time zone, so that ``now().date()`` is the
Finnish business date (a referral, consent or assessment "today" is today in Finland,
not in UTC). ``REITTI_TIME_ZONE`` names the zone; the default is Europe/Helsinki. The
settings model reads it (services/settings.py) and each composition root hands it to
:func:`use_zone` once, at start."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo

TIME_ZONE_VARIABLE = "REITTI_TIME_ZONE"
DEFAULT_TIME_ZONE = "Europe/Helsinki"


_configured = DEFAULT_TIME_ZONE


def use_zone(name: str) -> None:
    """Make ``name`` the centre's zone for this process (its composition root calls this
    with ``REITTI_TIME_ZONE``); an unknown name raises ``ZoneInfoNotFoundError``."""
    global _configured
    _zone(name)
    _configured = name


def zone() -> ZoneInfo:
    """The configured zone (:func:`use_zone`), Europe/Helsinki until one is configured."""
    return _zone(_configured)


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def now() -> datetime:
    """The current instant, aware, in the centre's zone."""
    return _utc_now().astimezone(zone())


def today() -> date:
    """The business date: today in the centre's zone."""
    return now().date()


def business_date(instant: datetime) -> date:
    """The business date of an aware instant: its day in the centre's zone (an event
    recorded at 23:30 UTC on 1 March happened on 2 March in Finland)."""
    return instant.astimezone(zone()).date()
