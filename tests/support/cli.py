"""Running the ``reitti`` command against the test's servers, as an operator would."""

from __future__ import annotations

import asyncio
import os
import sys

from runtime.config import Settings


def cli_env(settings: Settings) -> dict[str, str]:
    """The environment that points the operator commands at the test's servers."""
    return {
        **os.environ,
        "REITTI_NATS_URL": settings.nats_url,
        "REITTI_DATABASE_URL": settings.database_url,
        "REITTI_NAMESPACE": settings.namespace,
    }


async def reitti(settings: Settings, *args: str, within: float = 120.0) -> tuple[int, str, str]:
    """Run ``reitti <args>``; its exit code, standard output and standard error. A run
    that outlasts ``within`` seconds is killed and fails the test."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "reitti.cli",
        *args,
        env=cli_env(settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=within)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"reitti {' '.join(args)} did not finish within {within:.0f}s") from None
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()
