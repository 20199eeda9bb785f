"""What every area of reporting's routes shares: the query and path parameters, the
permission each kind of read requires, the disclosure policy's checks on a read, and the
validation of a municipality or day that the parameter types cannot express."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Path, Query
from fastapi.exceptions import RequestValidationError

from contracts.base import Actor
from runtime import clock
from runtime.access import Permission, has_client_access, require
from runtime.field_docs import CLIENT_ID, MUNICIPALITY, MUNICIPALITY_FILTER
from runtime.openapi_names import MUNICIPALITY as NAMES_ONE
from runtime.strict_types import IsoDate
from services.disclosure.policy import Client, Crossing, Kind, decide, ensure
from services.reporting.config import ReportingConfig
from services.reporting.dashboard_session import dashboard_viewer
from services.reporting.views import MunicipalRecord
from services.rules.dates import as_of_for_year

Year = Annotated[int | None, Query(ge=2000, le=2100, description="Calendar year; all years when left out")]
RequiredYear = Annotated[int, Query(ge=2000, le=2100, description="Calendar year")]
Municipality = Annotated[
    str | None,
    Query(min_length=1, max_length=100, description=MUNICIPALITY_FILTER, json_schema_extra=NAMES_ONE),
]
AsOf = Annotated[
    IsoDate | None,
    Query(
        description="The day to count as of, YYYY-MM-DD (default: 31 December of a past year, "
        "else today, the business date in Finland)"
    ),
]
ClientId = Annotated[
    str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:-]+$", description=CLIENT_ID)
]
MunicipalityPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=100,
        description=f"The municipality whose view it is. {MUNICIPALITY}",
        json_schema_extra=NAMES_ONE,
    ),
]

Stats = Annotated[Actor, Depends(require(Permission.STATISTICS_READ))]
#: a browser's session cookie, or an API client's bearer token (docs/adr/0028)
DashboardViewer = Annotated[Actor, Depends(dashboard_viewer(Permission.STATISTICS_READ))]
TeView = Annotated[Actor, Depends(require(Permission.TE_VIEW_READ))]
MunicipalView = Annotated[Actor, Depends(require(Permission.MUNICIPAL_VIEW_READ))]
HealthView = Annotated[Actor, Depends(require(Permission.HEALTH_VIEW_READ))]
Auditor = Annotated[Actor, Depends(require(Permission.AUDIT_READ))]


def own_municipality(actor: Actor, municipality: str) -> None:
    """A municipality's view is its own social services' (and the centre's coordinator's):
    the disclosure policy decides."""
    crossing = Crossing(Kind.MUNICIPAL_VIEW, municipality=municipality)
    ensure(decide(actor, crossing, Client(client_id="", municipality=municipality)))


def may_read(actor: Actor, kind: Kind, client_id: str = "") -> None:
    """The disclosure policy on a read of a side's view or the audit log (403 saying why).
    What a view holds of a client is decided when it is projected (partitions.py)."""
    ensure(decide(actor, Crossing(kind), Client(client_id=client_id, municipality="")))


def municipal_client_ids(record: MunicipalRecord) -> list[str]:
    return [c.client_id for c in record.clients] + [t.client_id for t in record.transfers]


def hides_small(actor: Actor) -> bool:
    """Statistical disclosure control applies to a caller without client access."""
    return not has_client_access(actor.role)


def may_see_staff(actor: Actor) -> bool:
    """Guides are named in caseloads only for a caller with client access (who works with
    them); the steering group sees anonymous bands."""
    return has_client_access(actor.role)


def invalid(field: str, message: str, where: str = "query") -> RequestValidationError:
    return RequestValidationError([{"loc": (where, field), "msg": message, "type": "value_error"}])


def known_municipality(config: ReportingConfig, name: str | None, where: str = "query") -> str | None:
    if name is None:
        return None
    known = config.municipality(name)
    if known is None:
        raise invalid(
            "municipality",
            f"unknown municipality; the centre's are: {', '.join(config.municipalities)}",
            where,
        )
    return known


def as_of_day(year: int | None, as_of: date | None) -> date:
    """The day asked for, else the default of :func:`services.rules.dates.as_of_for_year`:
    31 December of a past year, else the business date (today in Finland)."""
    return as_of or as_of_for_year(year, clock.today())
