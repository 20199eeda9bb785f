"""``reitti demo`` and ``reitti up --demo``: the signing key, the progress bar, the report."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from reitti.demo.http import DemoError, Endpoints
from reitti.demo.render import render
from reitti.demo.runner import run_demo
from reitti.demo.seed import NEW_CLIENTS, YEAR
from runtime.auth import TokenIssuer
from services.settings import ReittiConfig


def load_issuer(data_dir: Path, config: ReittiConfig) -> TokenIssuer:
    """The signing key ``reitti up`` keeps (or ``REITTI_JWT_PRIVATE_KEY``), as ``reitti token``."""
    key = config.operator.signing_key(data_dir)
    if not key.is_file():
        raise DemoError(f"no signing key at {key}: run `reitti up` first, or set REITTI_JWT_PRIVATE_KEY")
    return TokenIssuer.load(key, issuer=config.runtime.jwt_issuer)


def main(
    endpoints: Endpoints,
    data_dir: Path,
    config: ReittiConfig,
    *,
    concurrency: int = 8,
    out: TextIO | None = None,
) -> int:
    """``reitti demo``: load the year with a progress bar and print the statistics."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    issuer = load_issuer(data_dir, config)
    console = Console(file=out, soft_wrap=True)
    with Progress(
        TextColumn(f"demo year {YEAR}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("clients"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("demo", total=NEW_CLIENTS)
        report = asyncio.run(
            run_demo(
                endpoints,
                issuer,
                concurrency=concurrency,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        )
    render(report, out)
    console.print(
        f"dashboard: open {endpoints.reporting}/dashboard and sign in with the token of "
        f"`reitti token --data-dir {data_dir} --role steering_group_member --person you`"
    )
    return 0


def after_launch(data_dir: Path, host: str, ports: Mapping[str, int], config: ReittiConfig, out: Any) -> None:
    """``reitti up --demo``: load the demo year once the services answer; a failure is
    reported and the services keep running."""
    client_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    urls = {name: f"http://{client_host}:{port}" for name, port in ports.items()}
    endpoints = Endpoints(intake=urls["intake"], guidance=urls["guidance"], reporting=urls["reporting"])
    if config.runtime.jwt_public_key is not None and config.operator.jwt_private_key is None:
        print(
            "reitti up --demo: tokens come from an external identity provider; set "
            "REITTI_JWT_PRIVATE_KEY to a key it trusts to load the demo year",
            file=out,
            flush=True,
        )
        return
    try:
        main(endpoints, data_dir, config, out=out)
    except DemoError as exc:
        print(f"reitti up --demo: the demo year was not loaded: {exc}", file=out, flush=True)
