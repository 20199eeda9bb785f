"""`reitti up` as a supervisor (docs/adr/0017): a child killed with SIGKILL (a service,
the embedded NATS, the embedded PostgreSQL) is started again and the system recovers,
losing and doubling no acknowledged write; one that keeps crashing makes `reitti up`
give up with a clear message; SIGTERM and Ctrl-C leave no process behind."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from runtime.config import Settings, load_connection
from runtime.db import create_pool
from runtime.embedded import ensure_port_free
from runtime.streams import connect_nats
from tests.e2e.test_reitti_up import token
from tests.support.factories import referral_request
from tests.support.ledger import assert_nothing_lost_or_doubled, settled_ledger
from tests.support.load import ReferralLoad
from tests.support.up import RunningUp, alive

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SERVICES = ("intake", "guidance", "reporting")


def healthy(up: RunningUp, service: str) -> bool:
    try:
        return httpx.get(f"{up.url(service)}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def wait_until(condition: Callable[[], bool], what: str, within: float = 90) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within:.0f}s: {what}")
        time.sleep(0.2)


def referred_total(up: RunningUp, reader: str) -> int:
    """The referred count as the coordinator reads it (exact: the steering group sees small counts hidden)."""
    answer = httpx.get(
        f"{up.url('reporting')}/statistics/referrals-by-source",
        headers={"Authorization": f"Bearer {reader}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return int(answer.json()["total"])


def assert_nothing_left(up: RunningUp, pids: set[int]) -> None:
    left = {pid for pid in pids if alive(pid)}
    assert not left, f"processes outlived reitti up: {left}"
    for port in up.ports.values():
        ensure_port_free(port, "a server", "--port")


def test_a_killed_service_is_restarted_while_the_others_keep_serving(tmp_path: Path) -> None:
    up = RunningUp(tmp_path / "data").start()
    try:
        up.ready()
        advisor = token(up.data_dir, "employment_advisor")
        reader = token(up.data_dir, "service_coordinator")
        before = up.pid_of("intake")
        mark = len(up.lines)
        os.kill(before, signal.SIGKILL)
        up.wait_for("the intake service exited with signal SIGKILL; restarting it in", after=mark, within=30)

        # Meanwhile guidance and reporting keep answering, until intake is back.
        answered_while_intake_was_down = 0
        deadline = time.monotonic() + 120
        while not healthy(up, "intake"):
            assert time.monotonic() < deadline, f"intake did not come back:\n{up.output}"
            assert healthy(up, "guidance") and healthy(up, "reporting"), up.output
            referred_total(up, reader)
            answered_while_intake_was_down += 1
        assert answered_while_intake_was_down > 0, "intake was never seen down"
        up.wait_for("the intake service is healthy again", after=mark, within=30)
        after = up.pid_of("intake")
        assert after != before

        written = httpx.post(
            f"{up.url('intake')}/referrals",
            json=referral_request(),
            headers={"Authorization": f"Bearer {advisor}"},
            timeout=10,
        )
        assert written.status_code == 201, written.text
        wait_until(lambda: referred_total(up, reader) == 1, "reporting sees the new referral")
        log = (up.data_dir / "logs" / "up.log").read_text()
        assert "the intake service exited with signal SIGKILL" in log, "the reason is in the log too"

        children = up.children()
        assert len(children) >= 5, children  # three services, NATS, PostgreSQL (and its workers)
        assert up.stop(signal.SIGTERM) == 0, up.output
        assert "stopped" in up.output
        assert_nothing_left(up, children)
    finally:
        up.kill_all()


async def _check_ledger(up: RunningUp, load: ReferralLoad, reader: str) -> None:
    env: dict[str, str] = {}
    assert load_connection(up.data_dir, env)
    settings = Settings.from_env(env)
    pool = await create_pool(settings.database_url)
    nc = await connect_nats(settings.nats_url, name="test-ledger")
    try:
        ledger = await settled_ledger(pool, nc.jetstream(), settings)
        total = await asyncio.to_thread(referred_total, up, reader)
        deadline = time.monotonic() + 30
        while total != ledger.intake_referrals and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            total = await asyncio.to_thread(referred_total, up, reader)
        assert_nothing_lost_or_doubled(load, ledger, total)
    finally:
        await nc.close()
        await pool.close()


def test_killed_embedded_servers_are_restarted_and_no_acknowledged_write_is_lost(tmp_path: Path) -> None:
    up = RunningUp(tmp_path / "data").start()
    load: ReferralLoad | None = None
    try:
        up.ready()
        advisor = token(up.data_dir, "employment_advisor")
        reader = token(up.data_dir, "service_coordinator")
        load = ReferralLoad([up.url("intake")], advisor).start()
        load.wait_for_acknowledged(6)

        for server, label in (("nats", "the embedded NATS server"), ("postgres", "the embedded PostgreSQL")):
            mark = len(up.lines)
            os.kill(up.pid_of(server), signal.SIGKILL)
            up.wait_for(f"{label} exited with signal SIGKILL; restarting it", after=mark, within=30)
            up.wait_for(f"{label} restarted", after=mark, within=120)
            wait_until(lambda: all(healthy(up, s) for s in SERVICES), "every service healthy again", 120)
            load.wait_for_acknowledged(6, within=90)  # and writes are acknowledged again

        load.stop()
        asyncio.run(_check_ledger(up, load, reader))
        print(f"reitti up under load, answers: {load.statuses}")
        children = up.children()
        assert up.stop(signal.SIGINT) == 0, up.output
        assert_nothing_left(up, children)
    finally:
        if load is not None:
            load.stop()
        up.kill_all()


def test_a_service_that_keeps_crashing_makes_reitti_up_give_up_and_stop_everything(tmp_path: Path) -> None:
    up = RunningUp(tmp_path / "data", extra_args=("--max-restarts", "2", "--restart-window", "300")).start()
    try:
        up.ready()
        children = up.children()
        guidance = up.pid_of("guidance")
        # Something else takes guidance's port the moment it dies: every restart fails.
        with socket.socket() as squatter:
            squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT
            os.kill(guidance, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while True:
                try:
                    squatter.bind(("127.0.0.1", up.ports["guidance"]))
                    break
                except OSError:
                    assert time.monotonic() < deadline, "the killed service kept its port"
                    time.sleep(0.05)
            squatter.listen()
            code = up.proc.wait(timeout=240) if up.proc else None
        up.stop()
        assert code == 1, up.output
        assert up.output.count("the guidance service exited with") == 3, up.output
        assert "restart 2 of at most 2 within 300s" in up.output
        gave_up = [line for line in up.lines if "giving up and stopping everything" in line]
        assert len(gave_up) == 1, up.output
        assert "more than the 2 restarts allowed" in gave_up[0] and "guidance.log" in gave_up[0]
        assert_nothing_left(up, children | up.children())
    finally:
        up.kill_all()
