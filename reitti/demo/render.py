"""What a demo run did, and reporting's 2010 shares beside the seed's, on the console."""

from __future__ import annotations

from typing import TextIO

from reitti.demo.runner import DemoReport
from reitti.demo.seed import OUTCOME_SHARES, SOURCE_SHARES, YEAR


def render(report: DemoReport, out: TextIO | None = None) -> None:
    """Print what the run did and reporting's 2010 shares beside the seed's."""
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out, highlight=False, soft_wrap=True)
    console.print(
        f"demo year {YEAR}: {report.clients} clients ({report.new_cases} new, "
        f"{report.already_present} already present), {report.guidance_cases} guidance cases, "
        f"{report.closed_now} closed now ({report.already_closed} were closed before); "
        f"{report.calls} API calls in {report.seconds:.1f}s "
        f"({report.reporting_seconds:.1f}s of it waiting for reporting to catch up)"
    )
    console.print(
        f"legal hold set on {report.held} demo clients: the retention sweep will not erase them "
        '(clear one with POST /clients/<id>/legal-hold {"hold": false} as a service coordinator)'
    )
    if report.left_waiting:
        console.print(
            f"{report.left_waiting} clients end {YEAR} waiting for a named guide and the demo names "
            f"none later, so they wait still: GET /waiting?as_of={YEAR}-12-31 counts their waits to "
            "the year's end (without as_of, to today)"
        )
    stats = report.statistics
    if not stats:
        return
    if not stats.get("caught_up"):
        console.print("[yellow]reporting had not caught up yet: the figures below may still grow[/]")
    intake = stats["intake"]
    console.print(f"new clients in {YEAR}: {intake['new_clients']} (intake target {intake['target']})")
    for title, key, seed in (
        ("Referral sources", "referral_sources", SOURCE_SHARES),
        ("Outcomes of closed relationships", "outcomes", OUTCOME_SHARES),
    ):
        shares = stats[key]
        table = Table(title=f"{title}, {YEAR} (total {shares['total']})")
        table.add_column("")
        table.add_column("count", justify="right")
        table.add_column("share", justify="right")
        table.add_column("seed", justify="right")
        for name, count in shares["counts"].items():
            table.add_row(
                name,
                str(count),
                f"{100 * shares['shares'].get(name, 0):.1f} %",
                f"{100 * seed[name]:.0f} %" if name in seed else "",
            )
        console.print(table)
    rows = ", ".join(f"{r['municipality']} {r['new_clients']}" for r in intake["municipalities"])
    console.print(f"new clients by municipality: {rows}")
