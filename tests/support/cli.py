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


async def reitti(settings: Settings, *args: str) -> tuple[int, str, str]:
    """Run ``reitti <args>``; its exit code, standard output and standard error."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "runtime.cli",
        *args,
        env=cli_env(settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()
