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
#: shown for a figure hidden by statistical disclosure control (docs/adr/0023)
HIDDEN = "hidden"
#: the data-value of a hidden figure
HIDDEN_VALUE = "hidden"
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
    #: figures are protected by statistical disclosure control (a role without client access)
    hide_small: bool = False
    min_cell: int = 1


async def collect(
    stats: Statistics, conn: asyncpg.Connection, *, year: int, as_of: date, hide_small: bool = False
) -> DashboardData:
    """Everything the page shows, asked of the same functions the API uses, hidden alike."""
    outcome_years = sorted(set(await stats.years(conn, Metric.CLOSED)) | {year})
    h = hide_small
    return DashboardData(
        year=year,
        as_of=as_of,
        intake=await stats.intake(conn, year=year, hide_small=h),
        sources=await stats.referral_sources(conn, year=year, municipality=None, hide_small=h),
        outcomes_by_year={
            y: await stats.outcomes(conn, year=y, municipality=None, hide_small=h) for y in outcome_years
        },
        caseloads=await stats.caseloads(conn, municipality=None),
        waiting=await stats.waiting_times(conn, year=year, municipality=None, hide_small=h),
        subsidy=await stats.subsidy_days(conn, year=year, municipality=None, hide_small=h),
        durations=await stats.durations(conn, year=year, municipality=None, hide_small=h),
        transfers=await stats.transfers(conn, year=year, municipality=None, hide_small=h),
        deadlines=await stats.deadlines(conn, year=year, municipality=None, as_of=as_of, hide_small=h),
        cost=await stats.municipal_cost(conn, year=year, municipality=None, as_of=as_of, hide_small=h),
        hide_small=h,
        min_cell=stats.config.min_cell,
    )


def percent(value: float | None) -> str:
    return NO_VALUE if value is None else f"{round(value * 100)} %"


def count(value: int | None) -> str:
    """A count as shown: :data:`HIDDEN` where disclosure control hides it."""
    return HIDDEN if value is None else str(value)


def exact(value: object) -> object:
    """A figure's ``data-value``: :data:`HIDDEN_VALUE` where it is hidden."""
    return HIDDEN_VALUE if value is None else value


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
            width = BAR_WIDTH * (shares.shares.get(key) or 0.0)
            if width > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y + 3}" width="{width:.1f}" height="{ROW - 8}" '
                    f'fill="{PALETTE[k % len(PALETTE)]}"><title>{year} {escape(LABELS.get(key, key))}: '
                    f"{percent(shares.shares.get(key))}</title></rect>"
                )
            x += width
        if x < label_width + BAR_WIDTH - 0.05 and shares.total:
            # hidden categories: one grey segment for what they add up to
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 3}" width="{label_width + BAR_WIDTH - x:.1f}" '
                f'height="{ROW - 8}" fill="#c9ced6"><title>{year} {HIDDEN}</title></rect>'
            )
        parts.append(
            _svg_text(
                label_width + BAR_WIDTH + 8,
                y + 15,
                f"{count(shares.total)} closed",
                testid=f"{testid_prefix}-total-{year}",
                value=exact(shares.total),
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
    bars = []
    for k, key in enumerate(shares.counts):
        fraction, n = shares.shares[key], shares.counts[key]
        bars.append(
            Bar(
                label=LABELS.get(key, key),
                value=fraction or 0.0,
                text=HIDDEN if fraction is None else f"{percent(fraction)} ({count(n)})",
                testid=f"{testid_prefix}-{key}",
                exact=HIDDEN_VALUE if fraction is None else f"{fraction:.4f}",
                colour=PALETTE[k % len(PALETTE)],
            )
        )
    return bars


def _share_value(fraction: float | None, part: int | None, whole: int | None) -> object:
    return HIDDEN_VALUE if part is None or whole is None else fraction


def _share_text(fraction: float | None, part: int | None, whole: int | None) -> str:
    return HIDDEN if part is None or whole is None else percent(fraction)


def _section(title: str, body: str, note: str = "") -> str:
    note_html = f'<p class="note">{escape(note)}</p>' if note else ""
    return f"<section><h2>{escape(title)}</h2>{body}{note_html}</section>"


def render(data: DashboardData, *, sign_out: str | None = None) -> str:
    """The whole page; ``sign_out``: where its sign-out form posts (a browser's session),
    or None (an API client with a bearer token has nothing to sign out of)."""
    intake = data.intake
    intake_bars = []
    for row in intake.municipalities:
        slug = organisation_slug(row.municipality)
        target = "no target" if row.target is None else f"target {row.target}"
        intake_bars.append(
            Bar(
                row.municipality,
                float(row.new_clients or 0),
                f"{count(row.new_clients)} ({target})",
                f"intake-{slug}",
                exact(row.new_clients),
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
        Bar(
            label,
            value or 0.0,
            HIDDEN if hidden else NO_VALUE if value is None else f"{value:g} days",
            testid,
            HIDDEN_VALUE if hidden else value,
            colour,
        )
        for label, value, testid, colour, hidden in (
            (
                "Referral → assessment, median",
                w.referral_to_assessment.median_days,
                "wait-assessment-median",
                PALETTE[0],
                w.referral_to_assessment.clients is None,
            ),
            (
                "Referral → assessment, mean",
                w.referral_to_assessment.mean_days,
                "wait-assessment-mean",
                PALETTE[6],
                w.referral_to_assessment.clients is None,
            ),
            (
                "Assessment → guide, median",
                w.assessment_to_named_guide.median_days,
                "wait-guide-median",
                PALETTE[1],
                w.assessment_to_named_guide.clients is None,
            ),
            (
                "Assessment → guide, mean",
                w.assessment_to_named_guide.mean_days,
                "wait-guide-mean",
                PALETTE[2],
                w.assessment_to_named_guide.clients is None,
            ),
        )
    ]
    d = data.deadlines
    key_figures = [
        ("New clients", _figure("new-clients", exact(intake.new_clients), count(intake.new_clients))),
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
                "over-500-share",
                _share_value(
                    data.subsidy.share_over_500_days,
                    data.subsidy.over_500_days,
                    data.subsidy.clients_with_known_days,
                ),
                _share_text(
                    data.subsidy.share_over_500_days,
                    data.subsidy.over_500_days,
                    data.subsidy.clients_with_known_days,
                ),
            ),
        ),
        (
            "Closed after over three years",
            _figure(
                "over-three-years-share",
                _share_value(
                    data.durations.share_over_three_years,
                    data.durations.over_three_years,
                    data.durations.closed,
                ),
                _share_text(
                    data.durations.share_over_three_years,
                    data.durations.over_three_years,
                    data.durations.closed,
                ),
            ),
        ),
        (
            "Transfers to / returns from social services",
            _figure(
                "transfers",
                exact(data.transfers.transferred_to_social_services),
                count(data.transfers.transferred_to_social_services),
            )
            + " / "
            + _figure(
                "returns",
                exact(data.transfers.returned_from_social_services),
                count(data.transfers.returned_from_social_services),
            ),
        ),
        (
            f"Overdue deadlines on {d.as_of.isoformat()} (assessment / plan)",
            _figure("overdue-assessment", exact(d.assessment.overdue), count(d.assessment.overdue))
            + " / "
            + _figure("overdue-plan", exact(d.plan.overdue), count(d.plan.overdue)),
        ),
        (
            "Municipalities' estimated share of subsidy cost",
            _figure(
                "municipal-cost",
                exact(data.cost.total),
                HIDDEN if data.cost.total is None else f"{data.cost.total:,.2f} €".replace(",", " "),
            ),
        ),
    ]
    figures_html = "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in key_figures)
    sections = [
        _section(f"Key figures {data.year}", f'<table class="figures">{figures_html}</table>'),
        _section("Outcome shares of closed relationships", outcome_body),
        _section(
            f"Referral sources {data.year}",
            bar_chart("Referral sources", _share_bars(data.sources, "source-share")),
            f"{count(data.sources.total)} new clients",
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
    control = (
        f'<p class="note" data-testid="disclosure-control">Figures marked “{HIDDEN}” are hidden: '
        f"they count fewer than {data.min_cell} clients, or would give such a figure back by "
        "subtraction from the others shown. Roles with access to client data see them.</p>"
        if data.hide_small
        else ""
    )
    account = (
        f'<form method="post" action="{escape(sign_out)}" class="account">'
        '<button type="submit" data-testid="sign-out">Sign out</button></form>'
        if sign_out is not None
        else ""
    )
    return PAGE.format(
        year=data.year, as_of=data.as_of.isoformat(), control=control, body="".join(sections), account=account
    )


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
.account {{ float: right; }}
</style></head>
<body>{account}<h1>Reitti: the centre in figures, {year}</h1>
<p class="note">Aggregates only, no personal data. Deadlines and costs as of {as_of}.</p>
{control}<main>{body}</main></body></html>
"""
