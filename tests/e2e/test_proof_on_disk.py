"""The proof on disk (architecture decision 14, docs/adr/0021, 0022): `reitti up` on its
own embedded servers; a client with distinctive markers taken through every step that
copies data (consent, assessment, health check, guidance, transfer, final assessment,
partner feeds); erased; the KEK rotated; CHECKPOINT and VACUUM as a DBA would; the
system stopped. Then every byte of the data directory is searched: PostgreSQL's files
(WAL included), JetStream's store, the logs. Nothing readable is found, and no key that
exists opens what ciphertext remains."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from runtime import clock
from runtime.auth import TokenIssuer
from runtime.embedded import free_port
from tests.support.closures import proposal
from tests.support.factories import AREAS, identity_code, referral_request
from tests.support.private_files import assert_nobody_reads_no_secret

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TODAY = clock.today()


def marker(what: str) -> str:
    """A distinctive ASCII text (so no encoding can hide it from a byte search)."""
    return f"Zq{what}{uuid.uuid4().hex[:10]}"


@dataclass
class Markers:
    first_name: str = field(default_factory=lambda: marker("Etunimi"))
    last_name: str = field(default_factory=lambda: marker("Sukunimi"))
    code: str = field(default_factory=identity_code)
    summary: str = field(default_factory=lambda: marker("Yhteenveto"))
    notes: str = field(default_factory=lambda: marker("Muistiinpano"))
    details: str = field(default_factory=lambda: marker("Terveystieto"))
    next_step: str = field(default_factory=lambda: marker("Jatkotoimi"))
    final_text: str = field(default_factory=lambda: marker("Loppuarvio"))
    proposal_reason: str = field(default_factory=lambda: marker("Paattamisesitys"))
    #: free texts in fields that only the sealing branch marks personal
    source_description: str = field(default_factory=lambda: marker("Lahettaja"))
    acknowledgement_reason: str = field(default_factory=lambda: marker("Kuittaus"))

    def personal_now(self) -> list[str]:
        """In fields marked personal on main."""
        return [
            self.first_name,
            self.last_name,
            self.code,
            self.summary,
            self.notes,
            self.details,
            self.next_step,
            self.final_text,
            self.proposal_reason,
        ]

    def sealing_branch(self) -> list[str]:
        """In the free-text fields marked personal by docs/adr/0020."""
        return [self.source_description, self.acknowledgement_reason]


@dataclass
class Erased:
    data_dir: Path
    markers: Markers
    client_id: str
    #: the erased client's vault row as a backup taken before erasure holds it
    wrapped_copy: bytes
    kek_of_copy: uuid.UUID
    sealed_left: int
    live_key_after: object
    rotate_output: str


def env_for_up() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REITTI_")}
    return {**env, "PYTHONUNBUFFERED": "1"}


class System:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.ports = {n: free_port() for n in ("nats", "postgres", "intake", "guidance", "reporting", "desk")}
        self.proc: subprocess.Popen[str] | None = None
        self._issuer: TokenIssuer | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "reitti.cli", "up", "--data-dir", str(self.data_dir)]
            + [a for n, p in self.ports.items() for a in (f"--{n}-port", str(p))],
            env=env_for_up(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError(f"reitti up exited:\n{''.join(lines)}")
            lines.append(line)
            if "press Ctrl-C to stop" in line:
                return
        raise AssertionError(f"reitti up did not get ready:\n{''.join(lines)}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            self.proc.communicate(timeout=120)

    def token(self, role: str, person: str, organisation: str) -> str:
        if self._issuer is None:
            self._issuer = TokenIssuer.load(
                self.data_dir / "keys" / "token-signing.key", issuer="reitti-embedded"
            )
        return self._issuer.issue(
            person_id=person, role=role, organisation=organisation, ttl=timedelta(hours=1)
        )

    def call(
        self, method: str, service: str, path: str, body: object, who: tuple[str, str, str]
    ) -> tuple[int, Any]:  # the JSON answer, or the error's text
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.ports[service]}{path}",
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
        )
        request.add_header("content-type", "application/json")
        request.add_header("Authorization", f"Bearer {self.token(*who)}")
        request.add_header("X-Reitti-Purpose", "service_guidance")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def ok(self, method: str, service: str, path: str, body: object, who: tuple[str, str, str]) -> Any:
        status, answer = self.call(method, service, path, body, who)
        assert status in (200, 201), (method, path, status, answer)
        return answer

    def database_url(self) -> str:
        for line in (self.data_dir / "connection.env").read_text().splitlines():
            if line.startswith("REITTI_DATABASE_URL="):
                return line.partition("=")[2]
        raise AssertionError("no database URL in connection.env")

    def reitti(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "reitti.cli", *args],
            env={**env_for_up(), "REITTI_DATA_DIR": str(self.data_dir)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout


ADVISOR = ("employment_advisor", "advisor-1", "te-office")
LEAD = ("lead_employment_advisor", "lead-1", "te-office")
NURSE = ("nurse", "nurse-1", "mikkeli")
COORDINATOR = ("service_coordinator", "coord-1", "mikkeli")
SOCIAL_WORKER = ("social_worker", "sw-1", "social_services:mikkeli")
#: the named guide, who proposes the closure (docs/adr/0031)
GUIDE = ("service_guide", "guide-1", "centre")


def until(probe, check, within: float = 60.0):
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if check(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s; last value: {value!r}")
        time.sleep(0.2)


def query(url: str, sql: str, *args: object) -> Any:  # what the SQL selects
    async def run() -> Any:
        conn = await asyncpg.connect(url)
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()

    return asyncio.run(run())


def take_through_everything(system: System, m: Markers) -> str:
    body = referral_request(source="other", code=m.code)
    body["referral_date"] = str(TODAY - timedelta(days=20))
    body["source_description"] = m.source_description
    body["client"] = {"first_name": m.first_name, "last_name": m.last_name, "personal_identity_code": m.code}
    client_id = str(system.ok("POST", "intake", "/referrals", body, ADVISOR)["client_id"])
    consent = {
        "scopes": ["move_to_centre", "data_exchange_within_centre", "disclosure_to_organisations"],
        "organisations": ["social_services:mikkeli"],
        "given_on": str(TODAY),
    }
    system.ok("POST", "intake", f"/clients/{client_id}/consents", consent, ADVISOR)
    assessment = {
        "assessed_on": str(TODAY),
        "capacity_allows_rehabilitative_work": True,
        "profile": "centre",
        "ministry_segment": 3,
        "route": "individual_service_guidance",
        "assessors": [{"person_id": "advisor-1", "role": "employment_advisor", "organisation": "te-office"}],
        "findings": [
            {"area": a, "support_need": "some", **({"notes": m.notes} if a == "competence" else {})}
            for a in AREAS
        ],
        "summary": m.summary,
    }
    system.ok("POST", "intake", f"/clients/{client_id}/assessment", assessment, ADVISOR)
    until(lambda: system.call("GET", "guidance", f"/cases/{client_id}", None, ADVISOR)[0], lambda s: s == 200)
    check = {
        "checked_on": str(TODAY),
        "work_restrictions_found": True,
        "recommended_next_step": m.next_step,
        "details": m.details,
    }
    system.ok("POST", "guidance", f"/cases/{client_id}/health-check", check, NURSE)
    guide = {"person_id": "guide-1", "name": "Sari Ohjaaja", "role": "service_guide", "areas": ["Mikkeli"]}
    system.ok("POST", "guidance", "/guides", guide, COORDINATOR)
    system.ok(
        "POST",
        "guidance",
        f"/cases/{client_id}/guide",
        {"guide_person_id": "guide-1", "assigned_on": str(TODAY)},
        ADVISOR,
    )
    plan = {"start": str(TODAY), "months": 6, "days_per_week": 4, "hours_per_day": 8, "place": "Vartti"}
    moved = system.ok(
        "POST",
        "guidance",
        f"/cases/{client_id}/transfers",
        {"transferred_on": str(TODAY), "activation_plan": plan, "relationship_stays_open": True},
        ADVISOR,
    )
    transfer = f"/cases/{client_id}/transfers/{moved['transfer_id']}"
    ack = {"accepted": True, "acknowledged_on": str(TODAY), "reason": m.acknowledgement_reason}
    system.ok("POST", "guidance", f"{transfer}/acknowledgement", ack, SOCIAL_WORKER)
    system.ok("POST", "guidance", f"{transfer}/return", {"returned_on": str(TODAY)}, SOCIAL_WORKER)
    closure = {
        "closed_on": str(TODAY),
        "outcome": "outside_labour_force",
        "outside_labour_force_reason": "pension",
        "services_continue": "te_office",
        "final_assessment": {
            "text": m.final_text,
            "work_ability_clarified": True,
            "competence_improved": False,
        },
        "joint_decision": {
            "decided_on": str(TODAY),
            "te_office_person_id": "advisor-1",
            "municipality_person_id": "sw-1",
            "kela_person_id": "kela-1",
        },
    }
    system.ok(
        "POST",
        "guidance",
        f"/cases/{client_id}/closure-proposal",
        {**proposal(), "reason": m.proposal_reason},
        GUIDE,
    )
    system.ok("POST", "guidance", f"/cases/{client_id}/closure", closure, ADVISOR)
    return client_id


def everything_under(directory: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file() and not p.is_symlink()}


def found(markers: list[str], files: dict[Path, bytes]) -> list[tuple[str, str]]:
    return [(m, str(p)) for p, data in files.items() for m in markers if m.encode() in data]


@pytest.fixture(scope="module")
def erased(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Erased]:
    system = System(tmp_path_factory.mktemp("proof") / "data")
    markers = Markers()
    system.start()
    try:
        client_id = take_through_everything(system, markers)
        url = system.database_url()
        # The copies exist before erasure (so the searches below could find them).
        until(
            lambda: query(
                url, "SELECT count(*) FROM reporting.te_final_assessments WHERE client_id = $1", client_id
            ),
            lambda n: n == 1,
        )
        until(
            lambda: query(url, "SELECT count(*) FROM reporting_feeds.outbox"), lambda n: n == 0
        )  # every feed copy published
        wrapped = query(url, "SELECT key FROM keys.client_keys WHERE client_id = $1", client_id)
        kek = query(url, "SELECT kek_id FROM keys.client_keys WHERE client_id = $1", client_id)
        assert isinstance(wrapped, bytes) and isinstance(kek, uuid.UUID)
        system.ok("POST", "intake", f"/clients/{client_id}/erasure", {"reference": "DPO-2026-99"}, LEAD)
        until(
            lambda: query(
                url,
                "SELECT assessment_text FROM reporting.te_final_assessments WHERE client_id = $1",
                client_id,
            ),
            lambda text: text == "[erased]",
        )
        until(lambda: query(url, "SELECT count(*) FROM reporting_feeds.erasures"), lambda n: n == 0)
        rotated = system.reitti("rotate-keys")
        sealed_left = query(
            url,
            "SELECT count(*) FROM intake.events WHERE stream_id = $1 AND envelope::text LIKE '%enc:v1:%'",
            client_id,
        )
        live_key = query(url, "SELECT key FROM keys.client_keys WHERE client_id = $1", client_id)
        for statement in ("CHECKPOINT", "VACUUM", "CHECKPOINT"):
            query(url, statement)
    finally:
        system.stop()
    yield Erased(
        data_dir=system.data_dir,
        markers=markers,
        client_id=client_id,
        wrapped_copy=wrapped,
        kek_of_copy=kek,
        sealed_left=int(sealed_left),
        live_key_after=live_key,
        rotate_output=rotated,
    )


def test_no_key_that_exists_opens_the_erased_clients_ciphertext(erased: Erased) -> None:
    assert erased.sealed_left > 0, "ciphertext of the client remains in the event store"
    assert erased.live_key_after is None, "the vault holds no key of the client"
    assert "destroyed 1 old" in erased.rotate_output
    kek_dir = erased.data_dir / "keys" / "kek"
    files = list(kek_dir.glob("kek-*.key"))
    assert len(files) == 1 and str(erased.kek_of_copy) not in files[0].name
    # A backup's copy of the client's wrapped key opens under no KEK file left anywhere.
    aad = f"reitti-kek:{erased.kek_of_copy}:{erased.client_id}".encode()
    for path in erased.data_dir.rglob("kek-*.key"):
        kek = AESGCM(base64.b64decode(path.read_text().strip().removeprefix("reitti-kek-v1:")))
        with pytest.raises(InvalidTag):
            kek.decrypt(erased.wrapped_copy[:12], erased.wrapped_copy[12:], aad)


def test_the_broker_store_holds_no_personal_field_of_the_erased_client(erased: Erased) -> None:
    store = everything_under(erased.data_dir / "nats" / "jetstream")
    assert store, "JetStream's files are there"
    assert found(erased.markers.personal_now(), store) == []


def test_the_broker_store_holds_none_of_the_fields_the_sealing_branch_marks_personal(erased: Erased) -> None:
    assert (
        found(erased.markers.sealing_branch(), everything_under(erased.data_dir / "nats" / "jetstream")) == []
    )


def test_postgresql_files_and_wal_hold_nothing_readable_of_the_erased_client(erased: Erased) -> None:
    files = everything_under(erased.data_dir / "postgres" / "pgdata")
    assert any("pg_wal" in str(p) for p in files)
    every = [*erased.markers.personal_now(), *erased.markers.sealing_branch()]
    assert found(every, files) == []


def test_the_logs_hold_no_personal_data(erased: Erased) -> None:
    logs = {
        p: data
        for p, data in everything_under(erased.data_dir).items()
        if p.suffix == ".log" or "logs" in p.parts
    }
    assert any(p.name == "intake.log" for p in logs) and any(p.name == "postgres.log" for p in logs)
    every = [*erased.markers.personal_now(), *erased.markers.sealing_branch()]
    assert found(every, logs) == []


def test_nothing_else_in_the_data_directory_holds_personal_data(erased: Erased) -> None:
    """Everything outside PostgreSQL's own files (searched above)."""
    pgdata = erased.data_dir / "postgres" / "pgdata"
    rest = {p: d for p, d in everything_under(erased.data_dir).items() if pgdata not in p.parents}
    assert found(erased.markers.personal_now(), rest) == []


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("runuser") is None, reason="needs root and runuser to act as nobody"
)
def test_another_os_user_reads_no_credential_or_key_of_the_running_system(erased: Erased) -> None:
    assert_nobody_reads_no_secret(erased.data_dir)
