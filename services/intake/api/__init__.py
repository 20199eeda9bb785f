"""Intake's HTTP API: every command is an endpoint with a typed request and response.

Errors: 422 names the field and the reason; 404 an unknown client or session; 409 a
business-rule refusal with a message a person can act on, or a concurrent change to the
same client with ``retryable: true``. Nothing is written on any error.

One module per area of routes; ``models`` holds the request and response models,
``views`` the mapping of the domain's state to them. The areas are included in the order
the OpenAPI document lists their paths.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from runtime.requests import no_nul_in_parameters
from services.intake.api import assessment, consents, erasure, queue, referrals, sessions, targets


def router() -> APIRouter:
    api = APIRouter(dependencies=[Depends(no_nul_in_parameters)])
    for area in (referrals, queue, targets, sessions, consents, assessment, erasure):
        api.include_router(area.router())
    return api
