"""Guidance's HTTP API. Errors as in intake: 422 field and reason; 404 unknown case or
guide; 403 a role or organisation that may not do this; 409 a rule's refusal, or a
concurrent change with ``retryable: true``. Nothing is written on any error.

Models in :mod:`.models`, the view mapping in :mod:`.views`, one module per area of
routes; handlers get the service's parts through ``Depends`` (:mod:`.common`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from runtime.requests import no_nul_in_parameters
from services.guidance.api import cases, closure, guides, health, lists, transfers


def router() -> APIRouter:
    api = APIRouter(dependencies=[Depends(no_nul_in_parameters)])
    for area in (lists, guides, cases, health, transfers, closure):
        api.include_router(area.routes)
    return api
