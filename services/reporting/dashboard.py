"""The dashboard: one HTML page with the charts drawn server-side as inline SVG, from the
same statistics the API answers with. No script, no stylesheet or font from elsewhere: it
works without any internet access.

Every figure shown carries ``data-testid`` (what it is) and ``data-value`` (the exact
number the API gives), so a browser test can compare the page with the API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

import asyncpg

from contracts.subjects import organisation_slug
from services.reporting.partitions import Metric
from services.reporting.statistics import (
    Caseloads,
    Deadlines,
    Durations,
    IntakeAgainstTarget,
    MunicipalCost,
    Shares,
    Statistics,
    SubsidyDays,
    Transfers,
    WaitingTimes,
)

PALETTE = ("#1f5f8b", "#3c9d5d", "#e0a030", "#8e5ba8", "#c8553d", "#6b7b8c", "#2a9d8f", "#b5838d")
LABELS = {
    "te_office": "TE-office",
    "social_services": "Social services",
    "self_referral": "Self-referral",
    "other": "Other",
    "open_labour_market": "Open labour market",
    "education": "Education",
    "wage_subsidised_work": "Wage-subsidised work",
    "outside_labour_force": "Outside the labour force",
    "unemployed": "Unemployed",
    "interrupted": "Interrupted",
}
BAR_WIDTH = 320
#: shown where there is no figure (nothing to divide by, no target)
NO_VALUE = "\u2013"
ROW = 26


@dataclass(frozen=True)
class DashboardData:
    year: int
    as_of: date
    intake: IntakeAgainstTarget
    sources: Shares
    outcomes_by_year: dict[int, Shares]
    caseloads: Caseloads
    waiting: WaitingTimes
    subsidy: SubsidyDays
    durations: Durations
    transfers: Transfers
    deadlines: Deadlines
    cost: MunicipalCost


async def collect(stats: Statistics, conn: asyncpg.Connection, *, year: int, as_of: date) -> DashboardData:
    """Everything the page shows, asked of the same functions the API uses."""
    outcome_years = sorted(set(await stats.years(conn, Metric.CLOSED)) | {year})
    return DashboardData(
        year=year,
        as_of=as_of,
        intake=await stats.intake(conn, year=year),
        sources=await stats.referral_sources(conn, year=year, municipality=None),
        outcomes_by_year={y: await stats.outcomes(conn, year=y, municipality=None) for y in outcome_years},
        caseloads=await stats.caseloads(conn, municipality=None),
        waiting=await stats.waiting_times(conn, year=year, municipality=None),
        subsidy=await stats.subsidy_days(conn, year=year, municipality=None),
        durations=await stats.durations(conn, year=year, municipality=None),
        transfers=await stats.transfers(conn, year=year, municipality=None),
        deadlines=await stats.deadlines(conn, year=year, municipality=None, as_of=as_of),
        cost=await stats.municipal_cost(conn, year=year, municipality=None, as_of=as_of),
    )


def percent(value: float | None) -> str:
    return NO_VALUE if value is None else f"{round(value * 100)} %"


def _figure(testid: str, value: object, text: str) -> str:
    return f'<span data-testid="{escape(testid)}" data-value="{escape(str(value))}">{escape(text)}</span>'


def _svg_text(
    x: float, y: float, text: str, *, testid: str | None = None, value: object = None, **attrs: str
) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{escape(v)}"' for k, v in attrs.items())
    if testid is not None:
        extra += f' data-testid="{escape(testid)}" data-value="{escape(str(value))}"'
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(text)}</text>'


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str
    testid: str
    exact: object
    colour: str = PALETTE[0]
    #: drawn behind the bar, lighter (a target)
    reference: float | None = None


def bar_chart(title: str, bars: Sequence[Bar], *, limit: float | None = None, limit_label: str = "") -> str:
    """Horizontal bars with their figures; an optional dashed line marks a limit."""
    label_width, figure_width = 215, 150
    top = 8
    height = top + ROW * max(1, len(bars)) + (22 if limit is not None else 8)
    references = [b.reference for b in bars if b.reference is not None]
    scale_max = max([b.value for b in bars] + references + ([limit] if limit is not None else []) + [1e-9])
    parts = [
        f'<svg role="img" aria-label="{escape(title)}" width="{label_width + BAR_WIDTH + figure_width}" '
        f'height="{height}" viewBox="0 0 {label_width + BAR_WIDTH + figure_width} {height}">'
    ]
    for i, bar in enumerate(bars):
        y = top + i * ROW
        length = BAR_WIDTH * bar.value / scale_max
        parts.append(_svg_text(label_width - 8, y + 15, bar.label, text_anchor="end"))
        if bar.reference is not None:
            parts.append(
                f'<rect x="{label_width}" y="{y + 1}" width="{BAR_WIDTH * bar.reference / scale_max:.1f}" '
                f'height="{ROW - 4}" fill="#dfe6ee" stroke="#9fb0c2"/>'
            )
        end = max(length, BAR_WIDTH * (bar.reference or 0) / scale_max)
        parts.append(
            f'<rect x="{label_width}" y="{y + 3}" width="{length:.1f}" height="{ROW - 8}" '
            f'fill="{bar.colour}">'
            f"<title>{escape(bar.label)}: {escape(bar.text)}</title></rect>"
        )
        parts.append(_svg_text(label_width + end + 6, y + 15, bar.text, testid=bar.testid, value=bar.exact))
    if not bars:
        parts.append(_svg_text(label_width, top + 15, "no data yet", fill="#666"))
    if limit is not None:
        x = label_width + BAR_WIDTH * limit / scale_max
        bottom = top + ROW * max(1, len(bars))
        parts.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="#c8553d" '
            'stroke-width="2" stroke-dasharray="5,4"/>'
        )
        parts.append(_svg_text(x, bottom + 16, limit_label, text_anchor="middle", fill="#c8553d"))
    parts.append("</svg>")
    return "".join(parts)


def stacked_shares(title: str, rows: dict[int, Shares], *, testid_prefix: str) -> str:
    """One 100 % bar per year, a segment per category."""
    label_width = 60
    keys = list(next(iter(rows.values())).counts) if rows else []
    height = 8 + ROW * max(1, len(rows))
    parts = [
        f'<svg role="img" aria-label="{escape(title)}" width="{label_width + BAR_WIDTH + 120}" '
        f'height="{height}" viewBox="0 0 {label_width + BAR_WIDTH + 120} {height}">'
    ]
    for i, (year, shares) in enumerate(sorted(rows.items())):
        y = 8 + i * ROW
        parts.append(_svg_text(label_width - 8, y + 15, str(year), text_anchor="end"))
        x = float(label_width)
        for k, key in enumerate(keys):
            width = BAR_WIDTH * shares.shares.get(key, 0.0)
            if width > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y + 3}" width="{width:.1f}" height="{ROW - 8}" '
                    f'fill="{PALETTE[k % len(PALETTE)]}"><title>{year} {escape(LABELS.get(key, key))}: '
                    f"{percent(shares.shares.get(key))}</title></rect>"
                )
            x += width
        parts.append(
            _svg_text(
                label_width + BAR_WIDTH + 8,
                y + 15,
                f"{shares.total} closed",
                testid=f"{testid_prefix}-total-{year}",
                value=shares.total,
            )
        )
    parts.append("</svg>")
    legend = "".join(
        f'<li><span class="swatch" style="background:{PALETTE[k % len(PALETTE)]}"></span>'
        f"{escape(LABELS.get(key, key))}</li>"
        for k, key in enumerate(keys)
    )
    return "".join(parts) + f'<ul class="legend">{legend}</ul>'


def _share_bars(shares: Shares, testid_prefix: str) -> list[Bar]:
    return [
        Bar(
            label=LABELS.get(key, key),
            value=shares.shares[key],
            text=f"{percent(shares.shares[key])} ({shares.counts[key]})",
            testid=f"{testid_prefix}-{key}",
            exact=f"{shares.shares[key]:.4f}",
            colour=PALETTE[k % len(PALETTE)],
        )
        for k, key in enumerate(shares.counts)
    ]


def _section(title: str, body: str, note: str = "") -> str:
    note_html = f'<p class="note">{escape(note)}</p>' if note else ""
    return f"<section><h2>{escape(title)}</h2>{body}{note_html}</section>"


def render(data: DashboardData) -> str:
    """The whole page."""
    intake = data.intake
    intake_bars = []
    for row in intake.municipalities:
        slug = organisation_slug(row.municipality)
        target = "no target" if row.target is None else f"target {row.target}"
        intake_bars.append(
            Bar(
                row.municipality,
                float(row.new_clients),
                f"{row.new_clients} ({target})",
                f"intake-{slug}",
                row.new_clients,
                reference=None if row.target is None else float(row.target),
            )
        )
    targets = [r.target or 0 for r in intake.municipalities]
    intake_chart = bar_chart("New clients per municipality", intake_bars) + (
        '<p class="note">Light bars: the targets, apportioned by population: '
        + ", ".join(
            _figure(f"target-{organisation_slug(r.municipality)}", r.target, f"{r.municipality} {r.target}")
            for r, t in zip(intake.municipalities, targets, strict=True)
            if r.target is not None
        )
        + "</p>"
    )
    outcome_now = data.outcomes_by_year.get(data.year)
    outcome_body = stacked_shares("Outcome shares by year", data.outcomes_by_year, testid_prefix="outcomes")
    if outcome_now is not None:
        outcome_body += bar_chart(f"Outcomes {data.year}", _share_bars(outcome_now, "outcome-share"))
    caseload_bars = [
        Bar(
            g.guide_person_id,
            float(g.active_clients),
            f"{g.active_clients}" + (" over the limit" if g.over_limit else ""),
            f"caseload-{g.guide_person_id}",
            g.active_clients,
            PALETTE[4] if g.over_limit else PALETTE[0],
        )
        for g in data.caseloads.guides
    ]
    w = data.waiting
    waiting_bars = [
        Bar(label, value or 0.0, NO_VALUE if value is None else f"{value:g} days", testid, value, colour)
        for label, value, testid, colour in (
            (
                "Referral → assessment, median",
                w.referral_to_assessment.median_days,
                "wait-assessment-median",
                PALETTE[0],
            ),
            (
                "Referral → assessment, mean",
                w.referral_to_assessment.mean_days,
                "wait-assessment-mean",
                PALETTE[6],
            ),
            (
                "Assessment → guide, median",
                w.assessment_to_named_guide.median_days,
                "wait-guide-median",
                PALETTE[1],
            ),
            (
                "Assessment → guide, mean",
                w.assessment_to_named_guide.mean_days,
                "wait-guide-mean",
                PALETTE[2],
            ),
        )
    ]
    d = data.deadlines
    key_figures = [
        ("New clients", _figure("new-clients", intake.new_clients, str(intake.new_clients))),
        (
            "Intake target",
            _figure(
                "intake-target", intake.target, NO_VALUE if intake.target is None else str(intake.target)
            ),
        ),
        (
            "Share of target",
            _figure("intake-share", intake.share_of_target, percent(intake.share_of_target)),
        ),
        (
            "Clients over 500 subsidy days",
            _figure(
                "over-500-share", data.subsidy.share_over_500_days, percent(data.subsidy.share_over_500_days)
            ),
        ),
        (
            "Closed after over three years",
            _figure(
                "over-three-years-share",
                data.durations.share_over_three_years,
                percent(data.durations.share_over_three_years),
            ),
        ),
        (
            "Transfers to / returns from social services",
            _figure(
                "transfers",
                data.transfers.transferred_to_social_services,
                str(data.transfers.transferred_to_social_services),
            )
            + " / "
            + _figure(
                "returns",
                data.transfers.returned_from_social_services,
                str(data.transfers.returned_from_social_services),
            ),
        ),
        (
            f"Overdue deadlines on {d.as_of.isoformat()} (assessment / plan)",
            _figure("overdue-assessment", d.assessment.overdue, str(d.assessment.overdue))
            + " / "
            + _figure("overdue-plan", d.plan.overdue, str(d.plan.overdue)),
        ),
        (
            "Municipalities' estimated share of subsidy cost",
            _figure("municipal-cost", data.cost.total, f"{data.cost.total:,.2f} €".replace(",", " ")),
        ),
    ]
    figures_html = "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in key_figures)
    sections = [
        _section(f"Key figures {data.year}", f'<table class="figures">{figures_html}</table>'),
        _section("Outcome shares of closed relationships", outcome_body),
        _section(
            f"Referral sources {data.year}",
            bar_chart("Referral sources", _share_bars(data.sources, "source-share")),
            f"{data.sources.total} new clients",
        ),
        _section(f"Intake against target {data.year}", intake_chart),
        _section(
            "Caseloads against the limit",
            bar_chart(
                "Caseloads",
                caseload_bars,
                limit=float(data.caseloads.limit),
                limit_label=f"limit {data.caseloads.limit}",
            ),
            "Clients in active guidance per named guide, now.",
        ),
        _section(f"Waiting times {data.year}", bar_chart("Waiting times", waiting_bars)),
    ]
    return PAGE.format(year=data.year, as_of=data.as_of.isoformat(), body="".join(sections))


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Reitti dashboard {year}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; color: #1d2733; background: #f7f8fa; }}
h1 {{ font-size: 1.5rem; margin: 0 0 .2rem; }} h2 {{ font-size: 1.1rem; margin: 0 0 .6rem; }}
main {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(700px, 1fr)); gap: 1rem; }}
section {{ background: #fff; border: 1px solid #dde2e8; border-radius: 6px; padding: 1rem; }}
svg text {{ font-size: 12px; fill: #1d2733; }}
table.figures th {{ text-align: left; font-weight: normal; padding: .2rem 1rem .2rem 0; }}
table.figures td {{ font-weight: bold; }}
.legend {{ list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .3rem 1rem; font-size: 12px; }}
.swatch {{ display: inline-block; width: 10px; height: 10px; margin-right: 4px; }}
.note {{ color: #555; font-size: 12px; }}
</style></head>
<body><h1>Reitti: the centre in figures, {year}</h1>
<p class="note">Aggregates only, no personal data. Deadlines and costs as of {as_of}.</p>
<main>{body}</main></body></html>
"""
