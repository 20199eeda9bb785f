"""Reporting's HTTP API: the steering group's statistics, the side views, the audit log
and the dashboard. Every input is validated: a bad year, day, range or an unknown
municipality answers 422 naming the field.

Models in :mod:`.models`, what the areas share in :mod:`.common`, one module per area of
routes; handlers get the service's parts through ``Depends`` (services/reporting/bootstrap.py)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from runtime.requests import no_nul_in_parameters
from services.reporting.api import audit, dashboard, statistics, views


def router() -> APIRouter:
    api = APIRouter(dependencies=[Depends(no_nul_in_parameters)])
    for area in (statistics, views, audit, dashboard):
        api.include_router(area.routes)
    return api
