"""The wiring and the table of bench/paths.py: which options reach which part, and how the
parts' figures become rows with ratios and verdicts. Never its speed: the figures here are
made up."""

from __future__ import annotations

import argparse
import math
from typing import Any

import pytest

from bench import http_commands
from bench.paths import Row, figures, parse_options, parts_of, render


def test_quick_makes_every_part_small_and_the_default_reaches_200000_events() -> None:
    quick = parse_options(["--quick"])
    assert quick.sizes == (2_000, 5_000, 10_000)
    assert quick.foundation().events == 2000 and quick.foundation().e2e_seconds == 3.0
    assert quick.http().rates == (10.0, 50.0) and quick.http().seconds == 3.0
    full = parse_options([])
    assert max(full.sizes) >= 200_000 and len(full.sizes) == 3
    assert full.foundation().events == 20_000
    assert full.http().rates == http_commands.DEFAULT_RATES
    mine = parse_options(["--quick", "--sizes", "300,100,200", "--rates", "5,7", "--seconds", "1"])
    assert mine.sizes == (100, 200, 300) and mine.http().rates == (5.0, 7.0) and mine.http().seconds == 1.0


def test_skip_names_only_known_parts() -> None:
    assert parse_options(["--skip", "replay,http"]).skip == {"replay", "http"}
    with pytest.raises(argparse.ArgumentTypeError):
        parts_of("replay,nonsense")


def step(
    rate: float, p99: float, qualifies: bool, cpu: float, base_p99: float, base_cpu: float
) -> dict[str, Any]:
    def side(p: float, q: bool, c: float) -> dict[str, Any]:
        return {
            "achieved_rate": rate,
            "share_2xx": 1.0,
            "latency_ms": {"p50": p / 2, "p99": p},
            "qualifies": q,
            "server_cpu_ms_per_command": c,
        }

    r, b = side(p99, qualifies, cpu), side(base_p99, True, base_cpu)
    return {"rate": rate, "reitti": r, "baseline": b, "ratios": http_commands.ratios(r, b)}


def sample_report() -> dict[str, Any]:
    size = {
        "events": 20_000,
        "replay": {"events_per_second": 2_000.0, "us_per_event": 500.0, "us_per_event_added": None},
        "raw_ordered_read_per_second": {"mean": 10_000.0},
        "ratio_to_raw_ordered_read": 0.2,
        "differing_tables": [],
    }
    bigger = {
        **size,
        "events": 80_000,
        "replay": {"events_per_second": 6_000.0, "us_per_event": 400.0, "us_per_event_added": 440.0},
        "ratio_to_raw_ordered_read": 0.6,
    }
    figs = {
        "reitti.append_c": {"unit": "events/s", "median": 2_000.0},
        "reitti.append_1": {"unit": "events/s", "median": 500.0},
        "raw.insert_1": {"unit": "rows/s", "median": 1_000.0},
        "raw.insert_c": {"unit": "rows/s", "median": 5_000.0},
        "reitti.relay_drain": {"unit": "events/s", "median": 9_000.0},
        "raw.publish_async": {"unit": "msgs/s", "median": 10_000.0},
        "reitti.replay": {"unit": "events/s", "median": 3_000.0},
        "raw.ordered_read": {"unit": "msgs/s", "median": 10_000.0},
    }
    targets = {
        "append_vs_raw_insert": {"value": 0.4, "met": False},
        "relay_vs_raw_publish": {"value": 0.9, "met": True},
        "replay_vs_raw_ordered_read": {"value": 0.3, "met": True},
        "e2e_p99_ms": {"value": 342.0, "target": "< 100 ms", "met": False},
    }
    return {
        "date": "2026-12-03T17:00:00+00:00",
        "servers": "embedded",
        "cpus": 2,
        "load_average_before": [1.0, 2.0, 3.0],
        "load_average_after": [1.5, 2.0, 3.0],
        "replay": {"sizes": [size, bigger]},
        "http": {
            "steps": [step(10, 25.0, True, 30.0, 15.0, 3.0), step(150, 90.0, True, 5.0, 10.0, 3.0)],
            "highest_qualifying_rate": 150.0,
            "end_to_end": [
                {"rate": 10.0, "missing": 0, "latency_ms": {"p99": 30.0}},
                {"rate": 150.0, "missing": 1, "latency_ms": {"p99": math.inf}},
            ],
            "raw_insert_rows_per_s": 1_036.0,
        },
        "foundation": {
            "concurrency": 16,
            "figures": figs,
            "targets": targets,
            "e2e": {"target_rate": 500.0, "achieved_rate": 499.0, "missing": 0},
        },
    }


def by_start(rows: list[Row], start: str) -> list[Row]:
    return [r for r in rows if r.figure.startswith(start)]


def test_every_figure_of_the_issue_becomes_a_row_with_its_ratio_and_verdict() -> None:
    rows = figures(sample_report())
    replay = by_start(rows, "replay reporting")
    assert [(r.reitti, r.baseline, r.ratio, r.met) for r in replay] == [
        (2_000.0, 10_000.0, 0.2, False),
        (6_000.0, 10_000.0, 0.6, True),
    ]
    (growth,) = by_start(rows, "replay µs per event added")
    assert (growth.reitti, growth.baseline, growth.ratio, growth.met) == (440.0, 400.0, 1.1, None)
    p99 = by_start(rows, "POST /referrals")
    assert [(r.reitti, r.baseline, r.met) for r in p99] == [(25.0, 15.0, True), (90.0, 10.0, True)]
    cpu = by_start(rows, "server CPU")
    assert [(r.ratio, r.met) for r in cpu] == [(10.0, False), (pytest.approx(5 / 3), True)]
    (highest,) = by_start(rows, "highest qualifying rate")
    assert (highest.reitti, highest.baseline, highest.ratio, highest.met) == (150.0, 150.0, 1.0, True)
    low, high = by_start(rows, "end to end at")
    assert (low.reitti, low.met) == (30.0, True)
    assert high.met is None and "1 missing" in high.figure
    append, relay, thin_replay, one, e2e = by_start(rows, "foundation")
    assert (one.reitti, one.baseline, one.ratio, one.met) == (500.0, 1_000.0, 0.5, None)
    assert (append.reitti, append.baseline, append.ratio, append.met) == (2_000.0, 5_000.0, 0.4, False)
    assert relay.met is True and thin_replay.met is True
    assert (e2e.reitti, e2e.target, e2e.met) == (342.0, "< 100 ms", False)


def test_a_replay_that_differs_from_live_misses_whatever_its_speed() -> None:
    report = sample_report()
    report["replay"]["sizes"][1]["differing_tables"] = ["reporting.cases"]
    row = by_start(figures(report), "replay reporting")[1]
    assert row.met is False and "TABLES DIFFER" in row.figure


def test_a_part_not_run_has_no_rows() -> None:
    report = sample_report()
    del report["http"], report["replay"]
    assert {r.figure.split()[0] for r in figures(report)} == {"foundation"}


def test_the_table_prints_each_figure_with_reitti_raw_ratio_target_and_result() -> None:
    report = sample_report()
    report["figures"] = [r.as_json() for r in figures(report)]
    text = render(report)
    append_line = next(
        line for line in text.splitlines() if line.startswith("foundation append with outbox, 16 connections")
    )
    assert append_line.split()[-5:] == ["5,000", "0.4", ">=", "0.50", "MISSED"]
    assert "2,000" in append_line
    high = next(line for line in text.splitlines() if line.startswith("end to end at 150/s"))
    assert " - " in high and "(informative)" in high
    assert "load average before / after: 1.00, 2.00, 3.00 / 1.50, 2.00, 3.00" in text
