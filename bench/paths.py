"""Every figure of issue 15 in one run: the paths users run, each beside its raw baseline
from the same run, with its ratio and target, in one table.

Run from the repository root::

    python -m bench.paths [--json PATH]     # the full run: 20 to 40 minutes on 2 cores
    python -m bench.paths --quick           # a smoke run of every part, a few minutes

On one set of servers (embedded by default, or both REITTI_* URLs, as in
``bench.foundation``), in this order, each part in a fresh database and namespace of its
own: the foundation figures (``bench.foundation``: append at C connections against raw
inserts, relay, thin-slice replay, end to end at 500/s), the HTTP command path
(``bench.http_commands``: open-loop ``POST /referrals`` at fixed rates against a minimal
same-stack endpoint, server CPU per command, end to end at 10/s and at the highest
qualifying rate), and full replay at three sizes (``bench.replay_scale``). This module
only runs them and puts their figures side by side; how each is measured is theirs (see
bench/README.md). Exits 1 if a replay's tables differ from live.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import foundation, http_commands, replay_scale
from bench.foundation import Servers, bench_settings, finite, fresh_database, servers

PARTS = ("foundation", "http", "replay")
QUICK_SIZES = (2_000, 5_000, 10_000)
FULL_SIZES = (20_000, 80_000, 200_000)
QUICK_RATES = (10.0, 50.0)
QUICK_SECONDS = 3.0
#: the issue's targets for the HTTP command path
COMMANDS_RATE_TARGET = 150.0
CPU_RATIO_TARGET = 2.0
E2E_LOW_P99_TARGET_MS = 50.0
REPLAY_RATIO_TARGET = 0.50
#: what each of bench.foundation's TARGETS compares, for the table
FOUNDATION_LABELS = {
    "append_vs_raw_insert": "append with outbox, {c} connections (events/s; raw insert)",
    "relay_vs_raw_publish": "relay drain (events/s; raw publish_async)",
    "replay_vs_raw_ordered_read": "thin-slice replay (events/s; raw ordered read)",
}


@dataclass(frozen=True)
class Options:
    quick: bool
    sizes: tuple[int, ...]
    rates: tuple[float, ...]
    seconds: float
    skip: frozenset[str]
    json_path: Path | None

    def foundation(self) -> foundation.Options:
        return foundation.parse_options(["--quick"] if self.quick else [])

    def http(self) -> http_commands.Options:
        return http_commands.Options(rates=self.rates, seconds=self.seconds, json_path=None)


def parts_of(text: str) -> frozenset[str]:
    parts = frozenset(p.strip() for p in text.split(",") if p.strip())
    if unknown := parts - set(PARTS):
        raise argparse.ArgumentTypeError(f"unknown parts {sorted(unknown)}; the parts: {', '.join(PARTS)}")
    return parts


def parse_options(argv: Sequence[str] | None = None) -> Options:
    p = argparse.ArgumentParser(prog="python -m bench.paths", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a smoke run: small sizes, two rates, short steps")
    p.add_argument("--sizes", type=replay_scale.sizes_of, default=None, help="replay's log sizes")
    p.add_argument("--rates", type=http_commands.parse_rates, default=None, help="HTTP rates, requests/s")
    p.add_argument("--seconds", type=float, default=None, help="length of each HTTP rate step")
    p.add_argument("--skip", type=parts_of, default=frozenset(), help=f"parts not to run ({','.join(PARTS)})")
    p.add_argument("--json", type=Path, default=None, help="also write every figure as JSON here")
    a = p.parse_args(argv)
    return Options(
        quick=a.quick,
        sizes=tuple(a.sizes or (QUICK_SIZES if a.quick else FULL_SIZES)),
        rates=tuple(a.rates or (QUICK_RATES if a.quick else http_commands.DEFAULT_RATES)),
        seconds=a.seconds or (QUICK_SECONDS if a.quick else 10.0),
        skip=a.skip,
        json_path=a.json,
    )


# --------------------------------------------------------------------------- the run


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def replay_part(sizes: Sequence[int], found: Servers) -> dict[str, Any]:
    async with fresh_database(found.admin_url) as database_url:
        return await replay_scale.measure(sizes, bench_settings(found.nats_url, database_url))


async def run(opts: Options, found: Servers) -> dict[str, Any]:
    report: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, "-m", "bench.paths", *sys.argv[1:]]),
        "servers": found.kind,
        "cpus": os.cpu_count(),
        "load_average_before": list(os.getloadavg()),
    }
    if "foundation" not in opts.skip:
        say("== foundation (bench.foundation)")
        report["foundation"] = await foundation.run(opts.foundation(), found)
    if "http" not in opts.skip:
        say("== HTTP command path (bench.http_commands)")
        report["http"] = await http_commands.run(opts.http(), found)
    if "replay" not in opts.skip:
        say("== replay at scale (bench.replay_scale)")
        report["replay"] = await replay_part(opts.sizes, found)
    report["load_average_after"] = list(os.getloadavg())
    report["figures"] = [row.as_json() for row in figures(report)]
    return report


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Row:
    figure: str
    reitti: float | None
    baseline: float | None
    ratio: float | None
    target: str
    #: None: informative, no target
    met: bool | None

    def as_json(self) -> dict[str, Any]:
        return {
            "figure": self.figure,
            "reitti": self.reitti,
            "baseline": self.baseline,
            "ratio": self.ratio,
            "target": self.target,
            "met": self.met,
        }


def over(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or not b or not math.isfinite(a) or not math.isfinite(b):
        return None
    return a / b


def replay_rows(replay: dict[str, Any]) -> list[Row]:
    rows = []
    for size in replay["sizes"]:
        rp, raw = size["replay"], size["raw_ordered_read_per_second"]["mean"]
        ratio = size["ratio_to_raw_ordered_read"]
        same = not size["differing_tables"]
        rows.append(
            Row(
                f"replay reporting, {size['events']:,} events (events/s; raw ordered read)"
                + ("" if same else " TABLES DIFFER"),
                rp["events_per_second"],
                raw,
                ratio,
                f">= {REPLAY_RATIO_TARGET:.2f}",
                same and ratio >= REPLAY_RATIO_TARGET,
            )
        )
        if rp.get("us_per_event_added") is not None:
            rows.append(
                Row(
                    f"replay µs per event added, up to {size['events']:,} (µs/event overall)",
                    rp["us_per_event_added"],
                    rp["us_per_event"],
                    over(rp["us_per_event_added"], rp["us_per_event"]),
                    "linear: ~1",
                    None,
                )
            )
    return rows


def http_rows(http: dict[str, Any]) -> list[Row]:
    rows = []
    for step in http["steps"]:
        r, b, ratio = step["reitti"], step["baseline"], step["ratios"]
        rate = step["rate"]
        rows.append(
            Row(
                f"POST /referrals at {rate:g}/s: p99 ms (achieved {r['achieved_rate']:.0f}/s, "
                f"{r['share_2xx']:.0%} 2xx)",
                r["latency_ms"]["p99"],
                b["latency_ms"]["p99"],
                ratio["p99"],
                f"< {http_commands.P99_LIMIT_MS:.0f} ms, all 2xx",
                bool(r["qualifies"]),
            )
        )
        rows.append(
            Row(
                f"server CPU per command at {rate:g}/s (ms)",
                r["server_cpu_ms_per_command"],
                b["server_cpu_ms_per_command"],
                ratio["server_cpu_per_command"],
                f"ratio <= {CPU_RATIO_TARGET:g}",
                None
                if ratio["server_cpu_per_command"] is None
                else ratio["server_cpu_per_command"] <= CPU_RATIO_TARGET,
            )
        )
    highest = http["highest_qualifying_rate"]
    baseline_ok = [s["rate"] for s in http["steps"] if s["baseline"]["qualifies"]]
    baseline_highest = max(baseline_ok) if baseline_ok else None
    rows.append(
        Row(
            "highest qualifying rate, of those tried (commands/s)",
            highest,
            baseline_highest,
            over(highest, baseline_highest),
            f">= {COMMANDS_RATE_TARGET:g}/s",
            highest is not None and highest >= COMMANDS_RATE_TARGET,
        )
    )
    for e2e in http["end_to_end"]:
        low = e2e["rate"] <= http_commands.E2E_LOW_RATE
        p99 = e2e["latency_ms"]["p99"]
        rows.append(
            Row(
                f"end to end at {e2e['rate']:g}/s, answer -> in reporting: p99 ms ({e2e['missing']} missing)",
                p99,
                None,
                None,
                f"< {E2E_LOW_P99_TARGET_MS:.0f} ms" if low else "(informative)",
                (e2e["missing"] == 0 and p99 < E2E_LOW_P99_TARGET_MS) if low else None,
            )
        )
    rows.append(
        Row("raw insert, 1 connection (rows/s)", None, http["raw_insert_rows_per_s"], None, "(machine)", None)
    )
    return rows


def foundation_rows(found: dict[str, Any]) -> list[Row]:
    figs, targets, rows = found["figures"], found["targets"], []
    for name, num, den, threshold in foundation.TARGETS:
        rows.append(
            Row(
                "foundation " + FOUNDATION_LABELS.get(name, name).format(c=found["concurrency"]),
                figs[num]["median"],
                figs[den]["median"],
                targets[name]["value"],
                f">= {threshold:.2f}",
                bool(targets[name]["met"]),
            )
        )
    rows.append(
        Row(
            "foundation append, 1 connection (events/s; raw insert)",
            figs["reitti.append_1"]["median"],
            figs["raw.insert_1"]["median"],
            over(figs["reitti.append_1"]["median"], figs["raw.insert_1"]["median"]),
            "(informative)",
            None,
        )
    )
    e2e = found["e2e"]
    rows.append(
        Row(
            f"foundation end to end at {e2e['target_rate']:g}/s: p99 ms "
            f"(achieved {e2e['achieved_rate']:.0f}/s, {e2e['missing']} missing)",
            targets["e2e_p99_ms"]["value"],
            None,
            None,
            targets["e2e_p99_ms"]["target"],
            bool(targets["e2e_p99_ms"]["met"]),
        )
    )
    return rows


def figures(report: dict[str, Any]) -> list[Row]:
    """Every figure of the run, in the issue's order: replay, commands, foundation."""
    rows: list[Row] = []
    if "replay" in report:
        rows += replay_rows(report["replay"])
    if "http" in report:
        rows += http_rows(report["http"])
    if "foundation" in report:
        rows += foundation_rows(report["foundation"])
    return rows


def cell(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}" if value else "0"


def verdict(met: bool | None) -> str:
    return "" if met is None else "met" if met else "MISSED"


def render(report: dict[str, Any]) -> str:
    rows = [Row(**row) for row in report["figures"]]
    width = max([len("figure"), *(len(r.figure) for r in rows)])
    load = " / ".join(
        ", ".join(f"{x:.2f}" for x in report[k]) for k in ("load_average_before", "load_average_after")
    )
    lines = [
        f"Reitti's paths, one run: {report['date']}; servers {report['servers']}; {report['cpus']} cpus",
        f"load average before / after: {load}",
        "ratio = Reitti / raw baseline in the same run (latency and CPU: lower is better)",
        "",
        f"{'figure':<{width}} {'Reitti':>10} {'raw':>10} {'ratio':>7}  {'target':<18} result",
    ]
    for r in rows:
        lines.append(
            f"{r.figure:<{width}} {cell(r.reitti):>10} {cell(r.baseline):>10} {cell(r.ratio):>7}  "
            f"{r.target:<18} {verdict(r.met)}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_options(argv)
    logging.basicConfig(level=logging.WARNING)
    with servers() as found:
        report = asyncio.run(run(opts, found))
    print(render(finite(report)))
    if opts.json_path is not None:
        opts.json_path.write_text(json.dumps(finite(report), indent=2) + "\n", encoding="utf-8")
    differ = any(s["differing_tables"] for s in report.get("replay", {}).get("sizes", []))
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
