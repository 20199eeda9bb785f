"""`reitti up` as a user runs it: embedded NATS and PostgreSQL from the wheels, three
healthy services, data that survives a restart, Ctrl-C that stops everything."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import httpx
import pytest

from runtime.embedded import ensure_port_free, free_port
from tests.support.factories import referral_request

pytestmark = pytest.mark.integration


def ports() -> dict[str, int]:
    return {name: free_port() for name in ("nats", "postgres", "intake", "guidance", "reporting", "desk")}


def embedded_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REITTI_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start(data_dir: Path, p: dict[str, int]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "reitti.cli", "up", "--data-dir", str(data_dir)]
        + [arg for name, port in p.items() for arg in (f"--{name}-port", str(port))],
        env=embedded_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_lines(proc: subprocess.Popen[str], within: float = 180) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + within
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"reitti up exited ({proc.poll()}):\n{''.join(lines)}")
        lines.append(line)
        if "press Ctrl-C to stop" in line:
            return lines
    raise AssertionError(f"reitti up did not get ready:\n{''.join(lines)}")


def token(data_dir: Path, role: str) -> str:
    """A token from `reitti token`, signed with the key `reitti up` made in the data dir."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "reitti.cli",
            "token",
            "--data-dir",
            str(data_dir),
            "--role",
            role,
            "--person",
            f"{role}-1",
        ],
        env=embedded_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def http(
    method: str, url: str, body: dict[str, Any] | None = None, *, bearer: str | None = None
) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("content-type", "application/json")
    if bearer:
        request.add_header("Authorization", f"Bearer {bearer}")
    with urllib.request.urlopen(request, timeout=10) as response:
        raw = response.read()
        return response.status, json.loads(raw) if raw.startswith(b"{") else {}


def referred_total(port: int, expected: int, bearer: str, within: float = 30) -> int:
    deadline = time.monotonic() + within
    while True:
        _, stats = http("GET", f"http://127.0.0.1:{port}/statistics/referrals-by-source", bearer=bearer)
        if stats["total"] == expected or time.monotonic() > deadline:
            return int(stats["total"])
        time.sleep(0.2)


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=90)
    return out


def test_reitti_up_runs_three_healthy_services_on_embedded_servers_and_keeps_data(tmp_path: Path) -> None:
    p = ports()
    proc = start(tmp_path / "data", p)
    try:
        lines = wait_for_lines(proc)
        for name in ("intake", "guidance", "reporting"):
            url = f"http://127.0.0.1:{p[name]}"
            assert any(line.startswith(name) and url in line for line in lines), lines
            status, health = http("GET", f"{url}/healthz")
            assert status == 200 and health["database"] == "ok" and health["broker"] == "ok"
            assert http("GET", f"{url}/openapi.json")[0] == 200
        advisor = token(tmp_path / "data", "employment_advisor")
        coordinator = token(
            tmp_path / "data", "service_coordinator"
        )  # exact figures: one client is hidden from the steering group
        status, _ = http(
            "POST", f"http://127.0.0.1:{p['intake']}/referrals", referral_request(), bearer=advisor
        )
        assert status == 201
        assert referred_total(p["reporting"], 1, coordinator) == 1
        # the desk: its URL printed, its development sign-in signed with the same key
        desk = f"http://127.0.0.1:{p['desk']}"
        assert any(line.startswith("desk") and desk in line for line in lines), lines
        with httpx.Client(base_url=desk, headers={"Accept-Language": "en"}) as browser:
            form = browser.get("/sign-in")
            assert form.status_code == 200 and 'name="role"' in form.text, "the development sign-in"
            field = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert field is not None
            signed = browser.post(
                "/sign-in", data={"csrf": field.group(1), "role": "employment_advisor", "person": "advisor-2"}
            )
            assert signed.status_code == 303
            queue = browser.get("/intake/queue")
            assert queue.status_code == 200 and queue.text.count('data-testid="queue-row"') == 1
        # The operator commands find the embedded servers through the data directory.
        listed = subprocess.run(
            [sys.executable, "-m", "reitti.cli", "dead-letters"],
            env={**embedded_env(), "REITTI_DATA_DIR": str(tmp_path / "data")},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert listed.returncode == 0, listed.stderr
        assert "no dead letters" in listed.stdout
        connection = (tmp_path / "data" / "connection.env").stat().st_mode & 0o777
        assert connection == 0o600, "it holds the broker's internal password"
        try:
            http("POST", f"http://127.0.0.1:{p['intake']}/referrals", referral_request())
        except urllib.error.HTTPError as refused:
            assert refused.code == 401
        else:
            raise AssertionError("a call without a token must be refused")
    finally:
        out = stop(proc)
    assert proc.returncode == 0, out
    assert "stopped" in out
    for port in p.values():
        ensure_port_free(port, "a server", "--port")  # nothing left listening

    proc = start(tmp_path / "data", p)
    try:
        wait_for_lines(proc)
        coordinator = token(tmp_path / "data", "service_coordinator")
        assert referred_total(p["reporting"], 1, coordinator) == 1, "data survives a restart"
    finally:
        stop(proc)
    assert proc.returncode == 0


def test_reitti_up_names_a_port_that_is_already_taken(tmp_path: Path) -> None:
    import socket

    p = ports()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", p["postgres"]))
        taken.listen()
        proc = start(tmp_path / "data", p)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert f"port {p['postgres']}" in out
    assert "--postgres-port" in out
    for name in ("nats", "intake"):
        ensure_port_free(p[name], name, "--port")  # it started nothing
