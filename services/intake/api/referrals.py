"""Referrals (*lähetteet*) and the TE-office info list import."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Header, Query, Request, Response

from runtime import purposes
from runtime.http import context
from runtime.known_names import municipality_at
from runtime.purposes import PurposeCode
from services.disclosure.policy import Client, may_learn_client_exists
from services.intake.api.dependencies import CONFLICT, Imports, Registers, Service
from services.intake.api.models import ReferralAccepted, ReferralReceipt, ReferralRequest
from services.intake.api.views import referral_answer
from services.intake.application import REGISTERING
from services.intake.bootstrap import Parts
from services.intake.imports import ImportResult, import_info_list
from services.intake.info_list import detect_format


def router() -> APIRouter:
    api = APIRouter()

    @api.post(
        "/referrals",
        response_model=ReferralAccepted | ReferralReceipt,
        status_code=201,
        tags=["referrals"],
        summary="Register a referral (ClientReferred); a known client keeps their one case",
        description="A caller who may read intake cases is told what happened (201 a new case, "
        "200 a known client, 202 a possible duplicate held for the intake advisor). Any other "
        "caller gets 202 and a receipt, whatever happened. Every identity-code lookup is "
        "recorded in the access log.",
        responses={
            **CONFLICT,
            200: {
                "description": "A client already known: the referral is recorded on their one case, "
                "or was recorded before",
                "model": ReferralAccepted,
            },
            202: {"description": "Received: a receipt, or a possible duplicate held for the intake advisor"},
        },
    )
    async def register_referral(
        body: ReferralRequest,
        actor: Registers,
        svc: Service,
        response: Response,
        x_reitti_purpose: Annotated[
            PurposeCode | None,
            Header(description="Optional here (default `intake`). " + purposes.PURPOSE_DESCRIPTION),
        ] = None,
        x_reitti_purpose_detail: Annotated[
            str | None,
            Header(
                description=purposes.DETAIL_DESCRIPTION,
                max_length=purposes.DETAIL_MAX_LENGTH,
                pattern=purposes.DETAIL_PATTERN,
            ),
        ] = None,
    ) -> ReferralAccepted | ReferralReceipt:
        municipality = municipality_at(body.municipality, svc.municipalities, "body", "municipality")
        registered = await svc.register_referral(
            replace(body.command(), municipality=municipality),
            context(actor),
            purpose=REGISTERING
            if x_reitti_purpose is None and x_reitti_purpose_detail is None
            else purposes.parse(x_reitti_purpose or PurposeCode.INTAKE, x_reitti_purpose_detail),
        )
        # Decided on the caller alone, as for a person not known yet: whether the answer
        # tells more than a receipt must not depend on whether the person is a client.
        unknown = Client(client_id=registered.referral_id, municipality=municipality)
        code, answer = referral_answer(
            registered, may_read_client=may_learn_client_exists(actor, unknown).allowed
        )
        response.status_code = code
        return answer

    @api.post(
        "/referrals/import",
        response_model=ImportResult,
        tags=["referrals"],
        summary="Import the TE-office info list (URA) as CSV or JSON Lines",
        description="Send the file as the request body with Content-Type text/csv or "
        "application/x-ndjson. Idempotent: importing the same list again adds nothing. "
        "Invalid rows are reported with their line numbers (the first 100, and errors_total); "
        "valid rows are imported, and the answer lists their client ids. A list of more rows "
        "than REITTI_MAX_IMPORT_ROWS (100,000 by default), or one that cannot be read as a "
        "whole (encoding, header), is refused before any row is written.",
        responses={
            413: {
                "description": "The body is over REITTI_MAX_IMPORT_BYTES, or the list has more "
                "rows than REITTI_MAX_IMPORT_ROWS: nothing was imported; send it in parts"
            },
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "application/x-ndjson": {"schema": {"type": "string"}},
                },
            }
        },
    )
    async def import_list(
        request: Request,
        actor: Imports,
        parts: Parts,
        svc: Service,
        first_line: Annotated[
            int, Query(ge=1, description="Line number of the body's first line in the whole file")
        ] = 1,
    ) -> Response:
        fmt = detect_format(request.headers.get("content-type"))
        result = await import_info_list(
            svc,
            request.stream(),
            fmt,
            context(actor),
            line_offset=first_line - 1,
            max_rows=parts.settings.max_import_rows,
        )
        # Up to 100,000 client ids: serialised off the loop, as the rows were parsed.
        body = await to_thread.run_sync(result.model_dump_json)
        return Response(body, media_type="application/json")

    return api
