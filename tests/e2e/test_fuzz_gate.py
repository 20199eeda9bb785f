"""The fuzzing gate: schemathesis, with every check it has (``--checks all``), over every
operation of the three services, served over real HTTP on real NATS and PostgreSQL.

Each operation is fuzzed as a role that may call it (its ``x-reitti-roles``), so the
generated requests reach the rules and not only the 403 of the permission check; roles
are taken in a fixed order, so several roles each fuzz their share, each operation with
its role's token (one schemathesis run per service). The purpose header is
generated from its documented schema, like every other parameter. The gate fails on any
5xx, on any answer its document does not list, and on any response that does not conform
to its documented schema.

Bounded: a few examples per operation, so the whole gate takes about a minute here.

Where a rule cannot be written in JSON Schema (a check character, one date after
another), a request valid by the schema may still be refused with 422: for those
operations alone, and for that check alone (``positive_data_acceptance``), 422 is an
expected answer to a schema-valid request. Every other check stays on for them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.guidance.app import create_app as guidance_app
from services.intake.app import create_app as intake_app
from services.reporting.app import create_app as reporting_app
from tests.support.auth import ISSUER
from tests.support.served import served

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: examples per operation and phase (schemathesis's own default is 100)
EXAMPLES = 8

#: the order in which a role is chosen to fuzz an operation, with its organisation
ROLES = {
    "employment_advisor": "te-office",
    "service_coordinator": "centre",
    "social_worker": "social_services:mikkeli",
    "nurse": "centre",
    "auditor": "centre",
    "lead_employment_advisor": "te-office",
    "service_guide": "centre",
    "steering_group_member": "centre",
    "office_secretary": "centre",
    "psychologist": "te-office",
}


#: operation -> the rule JSON Schema cannot state, for which a schema-valid request gets 422
BEYOND_SCHEMA = {
    "POST /referrals": "an identity code's check character and birth date (mod 31 over the digits)",
    "POST /referrals/import": "the columns of a CSV or JSON Lines file in a text body",
    "POST /cases/{client_id}/plan": "a measure does not end before it starts",
    "GET /audit/export": "a range ends after it starts (until after since, to_seq after from_seq)",
}


def share_by_role(document: dict[str, Any]) -> dict[str, str]:
    """Each operation ("METHOD /path") with the first role in :data:`ROLES` order that may
    call it. The whole document is fuzzed, each operation as its own role, so that what
    the document says of a path (its methods, for ``Allow``) stays whole."""
    shares: dict[str, str] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            roles = operation.get("x-reitti-roles")
            if roles:
                shares[f"{method.upper()} {path}"] = next(r for r in ROLES if r in roles)
    return shares


def toml_string(text: str) -> str:
    return json.dumps(text)  # a JSON string is a TOML basic string


def config(workdir: Path, shares: dict[str, str]) -> Path:
    """schemathesis.toml: each operation with its role's token, and 422 expected for a
    schema-valid request only where :data:`BEYOND_SCHEMA` says why. One run then fuzzes
    the whole service (one process, not one per role)."""
    lines = []
    for name, role in sorted(shares.items()):
        token = ISSUER.issue(person_id=f"{role}-fuzz", role=role, organisation=ROLES[role])
        lines += [
            "[[operations]]",
            f"include-name = {toml_string(name)}",
            f"headers = {{ Authorization = {toml_string('Bearer ' + token)} }}",
        ]
        if name in BEYOND_SCHEMA:
            lines.append(
                "checks.positive_data_acceptance.expected-statuses ="
                ' ["2XX", "3XX", 401, 403, 404, 409, 422, 429]'
            )
        lines.append("")
    path = workdir / "schemathesis.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


class AnswerLog:
    """An ASGI wrapper that records each answer's operation ("METHOD /path template") and
    status, so the gate can show that every operation was reached past the permission
    check (a token that does not apply would make every answer 401 or 403, which
    schemathesis accepts)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.statuses: dict[str, set[int]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def recording(message: Message) -> None:
            if message["type"] == "http.response.start":
                route = scope.get("route")
                name = f"{scope['method']} {route.path if route is not None else scope['path']}"
                self.statuses.setdefault(name, set()).add(message["status"])
            await send(message)

        await self.app(scope, receive, recording)


def fuzz(
    base_url: str, document: dict[str, Any], shares: dict[str, str], workdir: Path
) -> subprocess.CompletedProcess[str]:
    schema = workdir / "openapi.json"
    schema.write_text(json.dumps(document), encoding="utf-8")
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(config(workdir, shares)),
        "run",
        str(schema),
        "--url",
        base_url,
        "--checks",
        "all",
        "--max-examples",
        str(EXAMPLES),
        "--generation-deterministic",
        "--workers",
        "1",
        "--no-color",
    ]
    for name in shares:
        command += ["--include-name", name]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=workdir, check=False)


@pytest.mark.parametrize(
    "factory", [intake_app, guidance_app, reporting_app], ids=["intake", "guidance", "reporting"]
)
def test_every_operation_passes_schemathesis_with_all_checks(settings, factory, tmp_path) -> None:
    app = factory(settings)
    document = app.openapi()
    shares = share_by_role(document)
    assert len(set(shares.values())) >= 2, "several roles fuzz each service"
    answers = AnswerLog(app)
    with served(answers) as base_url:
        result = fuzz(base_url, document, shares, tmp_path)
    assert result.returncode == 0, f"{result.stdout[-12000:]}\n{result.stderr[-3000:]}"
    only_refused = {
        name: sorted(answers.statuses.get(name, set()))
        for name in shares
        if not answers.statuses.get(name, set()) - {401, 403}
    }
    assert only_refused == {}, "operations no request got past the permission check"
