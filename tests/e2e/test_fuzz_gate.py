"""The fuzzing gate: schemathesis, with every check it has (``--checks all``), over every
operation of the three services, served over real HTTP on real NATS and PostgreSQL.

Each operation is fuzzed as a role that may call it (its ``x-reitti-roles``), so the
generated requests reach the rules and not only the 403 of the permission check; roles
are taken in a fixed order, so several roles each fuzz their share. The purpose header is
generated from its documented schema, like every other parameter. The gate fails on any
5xx, on any answer its document does not list, and on any response that does not conform
to its documented schema.

Bounded: a few examples per operation, so the whole gate takes about a minute here."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from runtime.embedded import free_port
from services.guidance.app import create_app as guidance_app
from services.intake.app import create_app as intake_app
from services.reporting.app import create_app as reporting_app
from tests.support.auth import ISSUER

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


@contextlib.contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """``app`` under uvicorn on a port of its own, in a thread; its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the service did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def share_by_role(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The document split into one per role: each operation in the document of the first
    role (in :data:`ROLES` order) that may call it."""
    shares: dict[str, dict[str, Any]] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            roles = operation.get("x-reitti-roles")
            if not roles:
                continue
            role = next(r for r in ROLES if r in roles)
            share = shares.setdefault(role, {**document, "paths": {}})
            share["paths"].setdefault(path, {})[method] = operation
    return shares


def fuzz(
    base_url: str, role: str, document: dict[str, Any], workdir: Path
) -> subprocess.CompletedProcess[str]:
    schema = workdir / f"{role}.json"
    schema.write_text(json.dumps(document), encoding="utf-8")
    token = ISSUER.issue(person_id=f"{role}-fuzz", role=role, organisation=ROLES[role])
    command = [
        str(Path(sys.executable).with_name("st")),
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
        "-H",
        f"Authorization: Bearer {token}",
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=workdir, check=False)


@pytest.mark.parametrize(
    "factory", [intake_app, guidance_app, reporting_app], ids=["intake", "guidance", "reporting"]
)
def test_every_operation_passes_schemathesis_with_all_checks(settings, factory, tmp_path) -> None:
    app = factory(settings)
    shares = share_by_role(app.openapi())
    assert len(shares) >= 2, "several roles fuzz each service"
    with served(app) as base_url:
        for role, document in shares.items():
            result = fuzz(base_url, role, document, tmp_path)
            assert result.returncode == 0, f"as {role}:\n{result.stdout[-12000:]}\n{result.stderr[-3000:]}"
