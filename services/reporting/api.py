"""Reporting's HTTP API: the steering group's statistics, the side views, the audit log
and the dashboard. Every input is validated: a bad year, day, range or an unknown
municipality answers 422 naming the field."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, StreamingResponse
from pydantic import BaseModel, Field

from contracts.base import Actor
from contracts.intake import ReferralSource
from runtime import clock
from runtime.access import Permission, has_client_access, require
from runtime.field_docs import CLIENT_ID, MUNICIPALITY, MUNICIPALITY_FILTER
from runtime.http import Purpose, access_log
from runtime.openapi_names import MUNICIPALITY as NAMES_ONE
from runtime.openapi_names import MUNICIPALITY_OR_ALL
from runtime.requests import no_nul_in_parameters
from runtime.strict_types import IsoDate, IsoInstant, NumberInQuery
from services.disclosure.policy import Client, Crossing, Kind, decide, ensure
from services.reporting import dashboard
from services.reporting.access_report import AccessEntry
from services.reporting.audit import AuditEntry, export_lines
from services.reporting.config import ReportingConfig
from services.reporting.dashboard_session import COOKIE, SIGN_OUT_PATH, dashboard_viewer
from services.reporting.projections import ReportingProjection
from services.reporting.statistics import (
    HIDDEN_NOTE,
    Caseloads,
    Deadlines,
    Durations,
    IntakeAgainstTarget,
    MunicipalCost,
    ServicesUsed,
    Shares,
    Statistics,
    SubsidyDays,
    Transfers,
    WaitingForGuide,
    WaitingTimes,
)
from services.reporting.views import HealthCheck, MunicipalRecord, SideViews, TeClient, TeClientRecord
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
JSON_LINES = "application/x-ndjson"

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


class ReferralsBySource(BaseModel):
    year: int | None = Field(description="The year asked for, or null for all years")
    municipality: str | None = Field(description=MUNICIPALITY_FILTER)
    total: int | None = Field(description=HIDDEN_NOTE)
    by_source: dict[ReferralSource, int | None] = Field(
        description=f"Referred clients per referral source; every source is listed; {HIDDEN_NOTE}"
    )


def hides_small(actor: Actor) -> bool:
    """Statistical disclosure control applies to a caller without client access."""
    return not has_client_access(actor.role)


def may_see_staff(actor: Actor) -> bool:
    """Guides are named in caseloads only for a caller with client access (who works with
    them); the steering group sees anonymous bands."""
    return has_client_access(actor.role)


def _invalid(field: str, message: str, where: str = "query") -> RequestValidationError:
    return RequestValidationError([{"loc": (where, field), "msg": message, "type": "value_error"}])


def _municipality(config: ReportingConfig, name: str | None, where: str = "query") -> str | None:
    if name is None:
        return None
    known = config.municipality(name)
    if known is None:
        raise _invalid(
            "municipality",
            f"unknown municipality; the centre's are: {', '.join(config.municipalities)}",
            where,
        )
    return known


def _as_of(year: int | None, as_of: date | None) -> date:
    """The day asked for, else the default of :func:`services.rules.dates.as_of_for_year`:
    31 December of a past year, else the business date (today in Finland)."""
    return as_of or as_of_for_year(year, clock.today())


def router() -> APIRouter:
    api = APIRouter(dependencies=[Depends(no_nul_in_parameters)])

    def parts(request: Request) -> tuple[Statistics, ReportingConfig]:
        return request.app.state.statistics_queries, request.app.state.reporting_config

    def pool(request: Request) -> Any:
        return request.app.state.host.pool

    def views(request: Request) -> SideViews:
        found: SideViews = request.app.state.views
        return found

    # --- steering group's statistics ---------------------------------------------------

    @api.get(
        "/statistics/referrals-by-source",
        response_model=ReferralsBySource,
        tags=["statistics"],
        summary="Referred clients by referral source (aggregates, no personal data)",
    )
    async def referrals_by_source(
        actor: Stats, request: Request, year: Year = None, municipality: Municipality = None
    ) -> ReferralsBySource:
        stats, config = parts(request)
        municipality = _municipality(config, municipality)
        async with pool(request).acquire() as conn:
            shares = await stats.referral_sources(
                conn, year=year, municipality=municipality, hide_small=hides_small(actor)
            )
        by_source = {source: shares.counts.get(source.value, 0) for source in ReferralSource}
        return ReferralsBySource(
            year=year, municipality=municipality, total=shares.total, by_source=by_source
        )

    @api.get(
        "/statistics/intake", tags=["statistics"], summary="New clients against the yearly intake target"
    )
    async def intake(
        actor: Stats,
        request: Request,
        year: RequiredYear,
        as_of: Annotated[
            IsoDate | None,
            Query(
                description="The day whose target is shown, YYYY-MM-DD (default: 31 December of a "
                "past year, else today, the business date in Finland)"
            ),
        ] = None,
    ) -> IntakeAgainstTarget:
        stats, _ = parts(request)
        async with pool(request).acquire() as conn:
            return await stats.intake(
                conn, year=year, as_of=_as_of(year, as_of), hide_small=hides_small(actor)
            )

    @api.get("/statistics/referral-sources", tags=["statistics"], summary="Shares of referral sources")
    async def referral_sources(
        actor: Stats, request: Request, year: Year = None, municipality: Municipality = None
    ) -> Shares:
        stats, config = parts(request)
        async with pool(request).acquire() as conn:
            return await stats.referral_sources(
                conn,
                year=year,
                municipality=_municipality(config, municipality),
                hide_small=hides_small(actor),
            )

    @api.get(
        "/statistics/outcomes",
        tags=["statistics"],
        summary="Outcome shares of closed relationships (year closed)",
    )
    async def outcomes(
        actor: Stats, request: Request, year: Year = None, municipality: Municipality = None
    ) -> Shares:
        stats, config = parts(request)
        async with pool(request).acquire() as conn:
            return await stats.outcomes(
                conn,
                year=year,
                municipality=_municipality(config, municipality),
                hide_small=hides_small(actor),
            )

    @api.get(
        "/statistics/subsidy-days",
        tags=["statistics"],
        summary="Share of new clients with over 500 days of labour-market subsidy",
    )
    async def subsidy_days(
        actor: Stats, request: Request, year: Year = None, municipality: Municipality = None
    ) -> SubsidyDays:
        stats, config = parts(request)
        async with pool(request).acquire() as conn:
            return await stats.subsidy_days(
                conn,
                year=year,
                municipality=_municipality(config, municipality),
                hide_small=hides_small(actor),
            )

    @api.get(
        "/statistics/caseloads",
        tags=["statistics"],
        summary="Clients in active guidance per guide vs the limit",
    )
    async def caseloads(actor: Stats, request: Request, municipality: Municipality = None) -> Caseloads:
        stats, config = parts(request)
        async with pool(request).acquire() as conn:
            return await stats.caseloads(
                conn, municipality=_municipality(config, municipality), show_staff=may_see_staff(actor)
            )

    @api.get(
        "/statistics/waiting-for-guide",
        tags=["statistics"],
        summary="Relationships open now and waiting for a named guide, by the year they opened",
    )
    async def waiting_for_guide(
        actor: Stats, request: Request, year: Year = None, municipality: Municipality = None
    ) -> WaitingForGuide:
        stats, config = parts(request)
        async with pool(request).acquire() as conn:
            return await stats.waiting_for_guide(
                conn,
                year=year,
                municipality=_municipality(config, municipality),
                hide_small=hides_small(actor),
            )

    @api.get(
        "/statistics/waiting-times",
        tags=["statistics"],
        summary="Referral to assessment and assessment to named guide: median and mean days",
    )
    async def waiting_times(
        actor: Stats, request: Request, year: Year = None, municipality: Municipality = None
    ) -> WaitingTimes:
        stats, config = parts(request)
        async with pool(request).acquire() as conn:
            return await stats.waiting_times(
                conn,
                year=year,
                municipality=_municipality(config, municipality),
                hide_small=hides_small(actor),
            )

    @api.get(
        "/statistics/durations",
        tags=["statistics"],
        summary="Closed relationships that lasted over three years",
    )
    async def durations(
        actor: Stats, request: Request, year: Year = None, municipality: Municipality = None
    ) -> Durations:
        stats, config = parts(request)
        async with pool(request).acquire() as conn:
            return await stats.durations(
                conn,
                year=year,
                municipality=_municipality(config, municipality),
                hide_small=hides_small(actor),
            )

    @api.get(
        "/statistics/transfers", tags=["statistics"], summary="Transfers to and returns from social services"
    )
    async def transfers(
        actor: Stats, request: Request, year: Year = None, municipality: Municipality = None
    ) -> Transfers:
        stats, config = parts(request)
        async with pool(request).acquire() as conn:
            return await stats.transfers(
                conn,
                year=year,
                municipality=_municipality(config, municipality),
                hide_small=hides_small(actor),
            )

    @api.get(
        "/statistics/deadlines",
        tags=["statistics"],
        summary="Assessment and plan deadlines (rules of the referral and opening dates): met, late, overdue",
    )
    async def deadlines(
        actor: Stats,
        request: Request,
        year: Year = None,
        municipality: Municipality = None,
        as_of: AsOf = None,
    ) -> Deadlines:
        stats, config = parts(request)
        async with pool(request).acquire() as conn:
            return await stats.deadlines(
                conn,
                year=year,
                municipality=_municipality(config, municipality),
                as_of=_as_of(year, as_of),
                hide_small=hides_small(actor),
            )

    @api.get(
        "/statistics/municipal-cost",
        tags=["statistics"],
        summary="Municipalities' estimated share of labour-market subsidy cost, by the rules of each day",
    )
    async def municipal_cost(
        actor: Stats,
        request: Request,
        year: RequiredYear,
        municipality: Municipality = None,
        as_of: AsOf = None,
        daily_amount: Annotated[
            NumberInQuery | None,
            Query(ge=0, le=1000, description="Euros per paid day (default: configured)"),
        ] = None,
    ) -> MunicipalCost:
        stats, config = parts(request)
        async with pool(request).acquire() as conn:
            return await stats.municipal_cost(
                conn,
                year=year,
                municipality=_municipality(config, municipality),
                as_of=_as_of(year, as_of),
                daily_amount=daily_amount,
                hide_small=hides_small(actor),
            )

    # --- side views ----------------------------------------------------------------------

    @api.get(
        "/views/te/clients",
        tags=["views"],
        summary="TE side: clients whose consent to data exchange within the centre is in force",
    )
    async def te_clients(
        actor: TeView, why: Purpose, request: Request, municipality: Municipality = None
    ) -> list[TeClient]:
        _, config = parts(request)
        may_read(actor, Kind.TE_VIEW)
        async with pool(request).acquire() as conn:
            found = await views(request).te_clients(conn, municipality=_municipality(config, municipality))
        await access_log(request).record(actor, [c.client_id for c in found], what="TE view", purpose=why)
        return found

    @api.get(
        "/views/te/clients/{client_id}",
        tags=["views"],
        summary="TE side: one client's record (centre data under consent; final assessments)",
    )
    async def te_client(actor: TeView, why: Purpose, request: Request, client_id: ClientId) -> TeClientRecord:
        may_read(actor, Kind.TE_VIEW, client_id)
        async with pool(request).acquire() as conn:
            record = await views(request).te_client(conn, client_id)
        if record.client is None and not record.final_assessments:
            raise HTTPException(404, "the TE side holds nothing of this client")
        await access_log(request).record(actor, [client_id], what="TE view of a client", purpose=why)
        return record

    @api.get(
        "/views/municipalities/{municipality}/clients",
        tags=["views"],
        summary="A municipality's social services: residents and transfers disclosed to it by consent",
    )
    async def municipal_clients(
        actor: MunicipalView,
        why: Purpose,
        request: Request,
        municipality: MunicipalityPath,
    ) -> MunicipalRecord:
        _, config = parts(request)
        name = _municipality(config, municipality, "path")
        assert name is not None
        own_municipality(actor, name)
        async with pool(request).acquire() as conn:
            record = await views(request).municipality(conn, name)
        await access_log(request).record(
            actor, municipal_client_ids(record), what=f"{name} social services view", purpose=why
        )
        return record

    @api.get(
        "/views/municipalities/{municipality}/services",
        tags=["views"],
        summary="Services a municipality's residents used (measures by kind): aggregates",
    )
    async def municipal_services(
        actor: MunicipalView,
        request: Request,
        municipality: MunicipalityPath,
        year: Year = None,
    ) -> ServicesUsed:
        stats, config = parts(request)
        name = _municipality(config, municipality, "path")
        assert name is not None
        own_municipality(actor, name)
        async with pool(request).acquire() as conn:
            return await stats.services_used(conn, year=year, municipality=name)

    @api.get(
        "/views/health/clients/{client_id}",
        tags=["views"],
        summary="Health partition: the health check details of one client",
    )
    async def health_checks(
        actor: HealthView, why: Purpose, request: Request, client_id: ClientId
    ) -> list[HealthCheck]:
        may_read(actor, Kind.HEALTH_DETAILS, client_id)
        async with pool(request).acquire() as conn:
            found = await views(request).health_checks(conn, client_id)
        await access_log(request).record(actor, [client_id], what="health partition", purpose=why)
        return found

    # --- audit log -----------------------------------------------------------------------

    @api.get(
        "/audit/clients/{client_id}/timeline",
        tags=["audit"],
        summary="Every event of a client stream: type, time, actor, correlation and causation, chain hashes",
    )
    async def timeline(
        actor: Auditor, why: Purpose, request: Request, client_id: ClientId
    ) -> list[AuditEntry]:
        may_read(actor, Kind.AUDIT, client_id)
        projection: ReportingProjection = request.app.state.projection
        async with pool(request).acquire() as conn:
            entries = await projection.audit.timeline(conn, client_id)
        if not entries:
            raise HTTPException(404, "no events for this stream")
        await access_log(request).record(actor, [client_id], what="audit timeline", purpose=why)
        return entries

    @api.get(
        "/audit/clients/{client_id}/access-report",
        tags=["audit"],
        summary="Who has seen or received the client's data: every read and disclosure (default: two years)",
    )
    async def access_report(
        actor: Auditor,
        why: Purpose,
        request: Request,
        client_id: ClientId,
        since: Annotated[
            IsoInstant | None, Query(description="From when, an ISO timestamp (default: two years ago)")
        ] = None,
    ) -> list[AccessEntry]:
        if since is not None and since.tzinfo is None:
            raise _invalid("since", "give a time zone (for example Z)")
        may_read(actor, Kind.AUDIT, client_id)
        start = since or datetime.now(UTC) - timedelta(days=2 * 365 + 1)
        projection: ReportingProjection = request.app.state.projection
        async with pool(request).acquire() as conn:
            entries = await projection.access.report(conn, client_id, start)
        await access_log(request).record(actor, [client_id], what="access report", purpose=why)
        return entries

    @api.get(
        "/audit/export",
        tags=["audit"],
        summary="Export a range as JSON Lines of CloudEvents envelopes with the audit chain attributes",
        response_class=StreamingResponse,
        responses={200: {"content": {JSON_LINES: {}}}},
    )
    async def export(
        actor: Auditor,
        why: Purpose,
        request: Request,
        from_seq: Annotated[int | None, Query(ge=1, description="First stream sequence")] = None,
        to_seq: Annotated[int | None, Query(ge=1, description="Last stream sequence")] = None,
        since: Annotated[
            IsoInstant | None, Query(description="Events that occurred at or after (ISO timestamp)")
        ] = None,
        until: Annotated[
            IsoInstant | None, Query(description="Events that occurred before (ISO timestamp)")
        ] = None,
    ) -> StreamingResponse:
        if from_seq is not None and to_seq is not None and to_seq < from_seq:
            raise _invalid("to_seq", "must not be before from_seq")
        for name, value in (("since", since), ("until", until)):
            if value is not None and value.tzinfo is None:
                raise _invalid(name, "give a time zone (for example Z)")
        if since is not None and until is not None and until <= since:
            raise _invalid("until", "must be after since")
        may_read(actor, Kind.AUDIT)
        projection: ReportingProjection = request.app.state.projection
        host = request.app.state.host
        js = host.require_broker()  # the export reads the log: a 503 now, not a broken stream later
        async with host.pool.acquire() as conn:
            entries = await projection.audit.entries(
                conn, from_seq=from_seq, to_seq=to_seq, since=since, until=until
            )

        streams = sorted({e.stream_id for e in entries if e.stream_id.startswith("client-")})
        await access_log(request).record(actor, streams, what="audit export", purpose=why)

        async def lines() -> AsyncIterator[bytes]:
            async for line in export_lines(js, host.settings, entries):
                yield line

        return StreamingResponse(lines(), media_type=JSON_LINES)

    # --- dashboard -----------------------------------------------------------------------

    @api.get(
        "/dashboard",
        response_class=HTMLResponse,
        tags=["dashboard"],
        summary="The dashboard page",
        description="A browser signs in at /dashboard/sign-in and is sent there (303) without a "
        "session; an API client sends Authorization: Bearer. A token in the URL is not accepted.",
        responses={303: {"description": "A browser without a session: on to the sign-in page"}},
    )
    async def show_dashboard(
        actor: DashboardViewer,
        request: Request,
        year: Year = None,
        municipality: Annotated[
            str | None,
            Query(
                min_length=1,
                max_length=100,
                description=f"{MUNICIPALITY_FILTER}; `all` (the picker's choice) means leaving it out",
                json_schema_extra=MUNICIPALITY_OR_ALL,
            ),
        ] = None,
        as_of: Annotated[
            IsoDate | None,
            Query(description="The day to count as of, YYYY-MM-DD (default: the end of the year, or today)"),
        ] = None,
    ) -> HTMLResponse:
        stats, config = parts(request)
        # the picker's "all municipalities" is a value of its own: a form sends every field
        name = None if municipality == dashboard.ALL else _municipality(config, municipality)
        async with pool(request).acquire() as conn:
            years = await stats.referral_years(conn)
            if year is None:
                year = years[-1] if years else clock.today().year
            data = await dashboard.collect(
                stats,
                conn,
                year=year,
                municipality=name,
                as_of=_as_of(year, as_of),
                hide_small=hides_small(actor),
                show_staff=may_see_staff(actor),
            )
        root = request.scope.get("root_path", "")
        signed_in = "authorization" not in request.headers and COOKIE in request.cookies
        sign_out = f"{root}{SIGN_OUT_PATH}" if signed_in else None
        picker = dashboard.Picker(
            action=f"{root}/dashboard",
            years=tuple(sorted({*years, year - 1, year, clock.today().year})),
            municipalities=tuple(config.municipalities),
        )
        return HTMLResponse(dashboard.render(data, picker=picker, sign_out=sign_out))

    return api
