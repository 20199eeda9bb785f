"""README.md's "One client from referral to closure", run as written: every ``sh`` block
of the section, in order, in one bash shell, against intake, guidance and reporting served
over real HTTP on real NATS and PostgreSQL. Only the addresses are changed (free ports
instead of 8001-8003); the test's virtual environment is first on the path, as an active
one is, and ``reitti token`` signs with a key the services trust. A refused call stops
the script (``curl --fail-with-body`` in bash's strict mode), so the test fails showing
the problem document."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization

from services.guidance.app import create_app as guidance_app
from services.intake.app import create_app as intake_app
from services.reporting.app import create_app as reporting_app
from tests.support import walkthrough
from tests.support.auth import ISSUER, headers
from tests.support.served import served

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def signing_key(directory: Path) -> Path:
    """The tests' token key as a file, for ``reitti token`` (REITTI_JWT_PRIVATE_KEY)."""
    path = directory / "token-signing.key"
    path.write_bytes(
        ISSUER.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    path.chmod(0o600)
    return path


def test_the_readme_walkthrough_carries_one_client_from_referral_to_closure(settings, tmp_path) -> None:
    steps = walkthrough.read()
    env = {k: v for k, v in os.environ.items() if not k.startswith("REITTI_JWT")}
    env["REITTI_JWT_PRIVATE_KEY"] = str(signing_key(tmp_path))
    env["REITTI_JWT_ISSUER"] = ISSUER.issuer
    with (
        served(intake_app(settings)) as intake,
        served(guidance_app(settings)) as guidance,
        served(reporting_app(settings)) as reporting,
    ):
        urls = {"intake": intake, "guidance": guidance, "reporting": reporting}
        script = walkthrough.runnable(steps.script(), urls, Path(sys.executable).parent)
        done = subprocess.run(
            ["bash", "-c", script],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, f"the walkthrough stopped:\n{done.stdout[-6000:]}\n{done.stderr[-6000:]}"

        # What the walkthrough did, asked of the services directly.
        found = re.search(r"^client: (client-\S+)$", done.stdout, re.MULTILINE)
        assert found, done.stdout
        client_id = found.group(1)
        guide = headers("service_guide", "guide-1", "centre")
        case = httpx.get(f"{guidance}/cases/{client_id}", headers=guide).json()
        assert case["status"] == "closed", case
        assert [t["returned_on"] is not None for t in case["transfers"]] == [True]
        coordinator = headers("service_coordinator", "coordinator-1", "centre")
        outcomes = httpx.get(f"{reporting}/statistics/outcomes", headers=coordinator).json()
        assert outcomes["counts"]["education"] == 1 and outcomes["total"] == 1
