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
from decimal import Decimal
from html import escape
from urllib.parse import quote

import asyncpg

from contracts.subjects import organisation_slug
from runtime.openapi_names import ALL as PICKER_ALL
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
    WaitingForGuide,
    WaitingTimes,
)
from services.rules.caseload import OVER_LIMIT_BAND

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


#: the municipality picker's choice of every municipality (also in the OpenAPI enum)
ALL = PICKER_ALL


@dataclass(frozen=True)
class Picker:
    """The year and municipality picker: a GET form, no script."""

    action: str
    years: tuple[int, ...]
    municipalities: tuple[str, ...]


@dataclass(frozen=True)
class DashboardData:
    year: int
    municipality: str | None
    as_of: date
    intake: IntakeAgainstTarget
    #: the previous year's intake, as of the same day a year before (or its end)
    last_year: IntakeAgainstTarget
    sources: Shares
    outcomes_by_year: dict[int, Shares]
    caseloads: Caseloads
    waiting: WaitingTimes
    waiting_for_guide: WaitingForGuide
    #: the same, whatever year the relationship opened
    waiting_for_guide_all: WaitingForGuide
    subsidy: SubsidyDays
    durations: Durations
    transfers: Transfers
    last_transfers: Transfers
    deadlines: Deadlines
    cost: MunicipalCost
    #: figures are protected by statistical disclosure control (a role without client access)
    hide_small: bool = False
    min_cell: int = 1

    @property
    def last_as_of(self) -> date:
        return last_year_as_of(self.year, self.as_of)


def last_year_as_of(year: int, as_of: date) -> date:
    """The day the previous year is counted as of, to compare like with like."""
    try:
        same_day = as_of.replace(year=as_of.year - 1)
    except ValueError:  # 29 February
        same_day = as_of.replace(year=as_of.year - 1, day=28)
    return min(date(year - 1, 12, 31), same_day)


async def collect(
    stats: Statistics,
    conn: asyncpg.Connection,
    *,
    year: int,
    as_of: date,
    municipality: str | None = None,
    hide_small: bool = False,
    show_staff: bool = True,
) -> DashboardData:
    """Everything the page shows, asked of the same functions the API uses, with the same
    arguments (year, municipality, as_of), hidden alike: never recomputed here."""
    outcome_years = sorted(set(await stats.years(conn, Metric.CLOSED)) | {year - 1, year})
    h, m = hide_small, municipality
    return DashboardData(
        year=year,
        municipality=m,
        as_of=as_of,
        intake=await stats.intake(conn, year=year, as_of=as_of, hide_small=h),
        last_year=await stats.intake(conn, year=year - 1, as_of=last_year_as_of(year, as_of), hide_small=h),
        sources=await stats.referral_sources(conn, year=year, municipality=m, hide_small=h),
        outcomes_by_year={
            y: await stats.outcomes(conn, year=y, municipality=m, hide_small=h) for y in outcome_years
        },
        caseloads=await stats.caseloads(conn, municipality=m, show_staff=show_staff),
        waiting=await stats.waiting_times(conn, year=year, municipality=m, hide_small=h),
        waiting_for_guide=await stats.waiting_for_guide(conn, year=year, municipality=m, hide_small=h),
        waiting_for_guide_all=await stats.waiting_for_guide(conn, year=None, municipality=m, hide_small=h),
        subsidy=await stats.subsidy_days(conn, year=year, municipality=m, hide_small=h),
        durations=await stats.durations(conn, year=year, municipality=m, hide_small=h),
        transfers=await stats.transfers(conn, year=year, municipality=m, hide_small=h),
        last_transfers=await stats.transfers(conn, year=year - 1, municipality=m, hide_small=h),
        deadlines=await stats.deadlines(conn, year=year, municipality=m, as_of=as_of, hide_small=h),
        cost=await stats.municipal_cost(conn, year=year, municipality=m, as_of=as_of, hide_small=h),
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


def _scale(values: Sequence[float]) -> float:
    """The value a full bar stands for: the largest shown, so the bars fill the width."""
    return max([*values, 1e-9])


def bar_chart(title: str, bars: Sequence[Bar], *, limit: float | None = None, limit_label: str = "") -> str:
    """Horizontal bars with their figures, scaled to the largest (or the reference or
    limit, when drawn); a dashed line marks ``limit`` where it is within 1.5x the largest
    bar, else the chart says it is off the scale. A table of the same figures follows
    for screen readers and for copying."""
    label_width, figure_width = 215, 170
    top = 8
    references = [b.reference for b in bars if b.reference is not None]
    largest = _scale([b.value for b in bars] + references)
    draw_limit = limit is not None and (not bars or limit <= 1.5 * largest)
    scale_max = max(largest, limit) if draw_limit and limit is not None else largest
    height = top + ROW * max(1, len(bars)) + (22 if limit is not None else 8)
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
    bottom = top + ROW * max(1, len(bars))
    if limit is not None and draw_limit:
        x = label_width + BAR_WIDTH * limit / scale_max
        parts.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="#c8553d" '
            'stroke-width="2" stroke-dasharray="5,4"/>'
        )
        parts.append(_svg_text(x, bottom + 16, limit_label, text_anchor="middle", fill="#c8553d"))
    elif limit is not None:
        parts.append(
            _svg_text(
                label_width,
                bottom + 16,
                f"{limit_label}: beyond the scale, every bar is below it",
                fill="#c8553d",
            )
        )
    parts.append("</svg>")
    return "".join(parts) + figure_table(title, [(b.label, b.text) for b in bars])


def figure_table(
    title: str, rows: Sequence[tuple[str, str]], *, head: tuple[str, str] = ("", "figure")
) -> str:
    """A chart's figures as a table, folded away under the chart."""
    body = "".join(f'<tr><th scope="row">{escape(k)}</th><td>{escape(v)}</td></tr>' for k, v in rows)
    return (
        f'<details class="as-table"><summary>{escape(title)} as a table</summary>'
        f'<table><thead><tr><th scope="col">{escape(head[0])}</th><th scope="col">{escape(head[1])}</th>'
        f"</tr></thead><tbody>{body}</tbody></table></details>"
    )


def stacked_shares(title: str, rows: dict[int, Shares], *, testid_prefix: str) -> str:
    """One 100 % bar per year, a segment per category, each labelled with its share where
    it is wide enough (and in its tooltip and the table below, always)."""
    label_width = 60
    keys = list(next(iter(rows.values())).counts) if rows else []
    height = 8 + ROW * max(1, len(rows))
    parts = [
        f'<svg role="img" aria-label="{escape(title)}" width="{label_width + BAR_WIDTH + 120}" '
        f'height="{height}" viewBox="0 0 {label_width + BAR_WIDTH + 120} {height}">'
    ]
    table: list[tuple[str, str]] = []
    for i, (year, shares) in enumerate(sorted(rows.items())):
        y = 8 + i * ROW
        parts.append(_svg_text(label_width - 8, y + 15, str(year), text_anchor="end"))
        x = float(label_width)
        for k, key in enumerate(keys):
            width = BAR_WIDTH * (shares.shares.get(key) or 0.0)
            if width > 0:
                label = f"{year} {LABELS.get(key, key)}: {percent(shares.shares.get(key))}"
                parts.append(
                    f'<rect x="{x:.1f}" y="{y + 3}" width="{width:.1f}" height="{ROW - 8}" '
                    f'fill="{PALETTE[k % len(PALETTE)]}"><title>{escape(label)}</title></rect>'
                )
                if width >= 30:
                    parts.append(
                        _svg_text(
                            x + width / 2,
                            y + 16,
                            percent(shares.shares.get(key)),
                            text_anchor="middle",
                            fill="#fff",
                            class_="on-bar",
                        )
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
        table.append(
            (
                str(year),
                f"{count(shares.total)} closed: "
                + ", ".join(
                    LABELS.get(k, k)
                    + " "
                    + _share_text(shares.shares.get(k), shares.counts.get(k), shares.total)
                    for k in keys
                ),
            )
        )
    parts.append("</svg>")
    legend = "".join(
        f'<li><span class="swatch" style="background:{PALETTE[k % len(PALETTE)]}"></span>'
        f"{escape(LABELS.get(key, key))}</li>"
        for k, key in enumerate(keys)
    )
    return "".join(parts) + f'<ul class="legend">{legend}</ul>' + figure_table(title, table)


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


def _section(title: str, body: str, note: str = "", *, id: str = "") -> str:
    note_html = f'<p class="note">{escape(note)}</p>' if note else ""
    anchor = f' id="{escape(id)}" aria-labelledby="{escape(id)}-h"' if id else ""
    heading = f' id="{escape(id)}-h"' if id else ""
    return f"<section{anchor}><h2{heading}>{escape(title)}</h2>{body}{note_html}</section>"


def euros(amount: Decimal | None) -> str:
    return HIDDEN if amount is None else f"{amount:,.2f} €".replace(",", " ")


def _picker(picker: Picker | None, data: DashboardData) -> str:
    if picker is None:
        return ""
    year_options = "".join(
        f'<option value="{y}"{" selected" if y == data.year else ""}>{y}</option>' for y in picker.years
    )
    chosen = data.municipality
    municipality_options = (
        f'<option value="{ALL}"{"" if chosen else " selected"}>All municipalities</option>'
        + "".join(
            f'<option value="{escape(m)}"{" selected" if m == chosen else ""}>{escape(m)}</option>'
            for m in picker.municipalities
        )
    )
    where = "" if chosen is None else f"&municipality={quote(chosen)}"
    links = " ".join(
        f'<a href="{escape(picker.action)}?year={y}{escape(where)}"'
        + (' aria-current="page"' if y == data.year else "")
        + f">{y}</a>"
        for y in picker.years
    )
    return (
        f'<form method="get" action="{escape(picker.action)}" class="picker" role="search" '
        'aria-label="Choose the year and municipality">'
        f'<label for="pick-year">Year</label> <select id="pick-year" name="year">{year_options}</select> '
        f'<label for="pick-municipality">Municipality</label> '
        f'<select id="pick-municipality" name="municipality">{municipality_options}</select> '
        '<button type="submit" data-testid="pick">Show</button></form>'
        f'<nav aria-label="Years" class="years">Years: {links}</nav>'
    )


def _intake_section(data: DashboardData) -> str:
    intake = data.intake
    rows = [r for r in intake.municipalities if data.municipality in (None, r.municipality)]
    bars = []
    for row in rows:
        slug = organisation_slug(row.municipality)
        target = "no target" if row.target is None else f"target {row.target}"
        bars.append(
            Bar(
                row.municipality,
                float(row.new_clients or 0),
                f"{count(row.new_clients)} ({target})",
                f"intake-{slug}",
                exact(row.new_clients),
                reference=None if row.target is None else float(row.target),
            )
        )
    if intake.target is None:
        basis = f"No intake target for {data.year} was set by {data.as_of.isoformat()}."
    else:
        how = "apportioned by population" if intake.target_apportioned else "as the steering group split it"
        basis = (
            f"Light bars: the targets, {how}; the centre's target {intake.target} was set on "
            f"{intake.target_set_on.isoformat() if intake.target_set_on else NO_VALUE}. "
        )
    listed = ", ".join(
        _figure(f"target-{organisation_slug(r.municipality)}", r.target, f"{r.municipality} {r.target}")
        for r in rows
        if r.target is not None
    )
    return bar_chart("New clients per municipality against the target", bars) + (
        f'<p class="note">{escape(basis)}{listed}</p>'
    )


def _selected_intake(
    intake: IntakeAgainstTarget, municipality: str | None
) -> tuple[int | None, int | None, float | None]:
    """New clients, target and share of the centre, or of the chosen municipality."""
    if municipality is None:
        return intake.new_clients, intake.target, intake.share_of_target
    row = next((r for r in intake.municipalities if r.municipality == municipality), None)
    return (None, None, None) if row is None else (row.new_clients, row.target, row.share_of_target)


def _trend(data: DashboardData) -> str:
    """This year against last, from the same statistics asked for both years."""
    y, p = data.year, data.year - 1
    now_new, now_target, _ = _selected_intake(data.intake, data.municipality)
    was_new, was_target, _ = _selected_intake(data.last_year, data.municipality)
    closed_now = data.outcomes_by_year.get(y)
    closed_was = data.outcomes_by_year.get(p)

    def cell(testid: str, value: int | None, *, zero_is_count: bool = True) -> str:
        return f"<td>{_figure(testid, exact(value), count(value))}</td>"

    def change(now: int | None, was: int | None) -> str:
        if now is None or was is None:
            return f"<td>{NO_VALUE}</td>"
        return f"<td>{now - was:+d}</td>"

    def target_cell(testid: str, value: int | None) -> str:
        return f"<td>{_figure(testid, value, NO_VALUE if value is None else str(value))}</td>"

    rows = [
        (
            "New clients",
            cell(f"trend-new-{p}", was_new),
            cell(f"trend-new-{y}", now_new),
            change(now_new, was_new),
        ),
        (
            "Intake target",
            target_cell(f"trend-target-{p}", was_target),
            target_cell(f"trend-target-{y}", now_target),
            "<td></td>",
        ),
        (
            "Relationships closed",
            cell(f"trend-closed-{p}", closed_was.total if closed_was else None),
            cell(f"trend-closed-{y}", closed_now.total if closed_now else None),
            change(closed_now.total if closed_now else None, closed_was.total if closed_was else None),
        ),
        (
            "Transfers to social services",
            cell(f"trend-transfers-{p}", data.last_transfers.transferred_to_social_services),
            cell(f"trend-transfers-{y}", data.transfers.transferred_to_social_services),
            change(
                data.transfers.transferred_to_social_services,
                data.last_transfers.transferred_to_social_services,
            ),
        ),
    ]
    body = "".join(f'<tr><th scope="row">{escape(k)}</th>{a}{b}{c}</tr>' for k, a, b, c in rows)
    return (
        f'<table class="grid"><thead><tr><th scope="col"></th><th scope="col">{p}</th>'
        f'<th scope="col">{y}</th><th scope="col">change</th></tr></thead><tbody>{body}</tbody></table>'
        f'<p class="note">{p} is counted as of {data.last_as_of.isoformat()}, '
        f"{y} as of {data.as_of.isoformat()}.</p>"
    )


NO_COST_ROWS = '<tr><td colspan="4">no clients with known subsidy days</td></tr>'


def _cost(data: DashboardData) -> str:
    cost = data.cost
    rows = "".join(
        f'<tr><th scope="row">{escape(r.municipality)}</th>'
        + "".join(
            f"<td>{_figure(f'{prefix}-{organisation_slug(r.municipality)}', exact(value), text)}</td>"
            for prefix, value, text in (
                ("cost-clients", r.clients, count(r.clients)),
                ("cost-days", r.paid_days, count(r.paid_days)),
                ("cost", r.municipal_cost, euros(r.municipal_cost)),
            )
        )
        + "</tr>"
        for r in cost.municipalities
    )
    total = (
        '<tr class="total"><th scope="row">Total</th><td></td><td></td>'
        f"<td>{_figure('municipal-cost', exact(cost.total), euros(cost.total))}</td></tr>"
    )
    basis = (
        "".join(
            f"<li><strong>{escape(b.rule_set)}</strong> ({escape(b.statute)}), "
            f"{b.in_force_from.isoformat()} to "
            f"{b.in_force_until.isoformat()}: {escape(b.municipal_share)}</li>"
            for b in cost.basis
        )
        or f"<li>No rule set in force in {data.year}: nothing is costed.</li>"
    )
    return (
        '<table class="grid"><thead><tr><th scope="col">Municipality</th><th scope="col">Clients</th>'
        '<th scope="col">Paid days</th><th scope="col">Municipal share</th></tr></thead>'
        f"<tbody>{rows or NO_COST_ROWS}{total}</tbody></table>"
        f"<p>Daily amount of labour-market subsidy: "
        f"{_figure('daily-amount', cost.daily_amount, euros(cost.daily_amount))} per paid day. Basis:</p>"
        f'<ul>{basis}</ul><p class="note">{escape(cost.assumption)} '
        f"Counted up to {cost.as_of.isoformat()}.</p>"
    )


TRANSFER_LABELS = {
    "returned": "returned to the centre",
    "at_social_services": "still at social services",
    "closed_while_there": "closed while at social services",
    "declined": "declined by social services",
}


def _transfers(data: DashboardData) -> str:
    t = data.transfers
    made, returns = t.transferred_to_social_services, t.returned_from_social_services
    parts = [
        (TRANSFER_LABELS[state], _figure(f"transfers-{state.replace('_', '-')}", exact(n), count(n)))
        for state, n in t.by_state.items()
    ]
    known = [n for n in t.by_state.values()]
    adds_up = None not in known and made is not None and sum(n for n in known if n is not None) == made
    rows = "".join(f'<tr><th scope="row">of them {escape(k)}</th><td>{v}</td></tr>' for k, v in parts)
    return (
        '<table class="grid"><tbody>'
        f'<tr><th scope="row">Transfers made in {data.year}</th>'
        f"<td>{_figure('transfers', exact(made), count(made))}</td></tr>"
        f"{rows}"
        f'<tr><th scope="row">Returns made in {data.year} (of any year\'s transfers)</th><td>'
        f"{_figure('returns', exact(returns), count(returns))}</td></tr>"
        "</tbody></table>"
        + (
            f'<p class="note" data-testid="transfers-reconciled">The {count(made)} transfers = '
            + " + ".join(f"{count(n)} {TRANSFER_LABELS[s]}" for s, n in t.by_state.items())
            + ".</p>"
            if adds_up
            else '<p class="note">Some parts are hidden, so the sum is not shown.</p>'
        )
    )


def _caseloads(data: DashboardData) -> str:
    c = data.caseloads
    band_bars = [
        Bar(
            band.band,
            float(band.guides),
            f"{band.guides} guide{'s' if band.guides != 1 else ''}",
            f"caseload-band-{band.band.replace(' ', '-')}",
            band.guides,
            PALETTE[4] if band.band == OVER_LIMIT_BAND else PALETTE[0],
        )
        for band in c.bands
    ]
    body = bar_chart("Guides per caseload band", band_bars)
    if c.staff_shown:
        guide_bars = [
            Bar(
                g.guide_person_id,
                float(g.active_clients),
                f"{g.active_clients}" + (" over the limit" if g.over_limit else ""),
                f"caseload-{g.guide_person_id}",
                g.active_clients,
                PALETTE[4] if g.over_limit else PALETTE[0],
            )
            for g in c.guides
        ]
        body += "<h3>Per guide</h3>" + bar_chart(
            "Caseloads per guide", guide_bars, limit=float(c.limit), limit_label=f"limit {c.limit}"
        )
    return body


def _waiting(data: DashboardData) -> list[Bar]:
    """Medians and means of the two waits: one colour each wait, for they are one measure."""
    w = data.waiting
    rows = (
        ("Referral → assessment", w.referral_to_assessment, "wait-assessment", PALETTE[0]),
        ("Assessment → guide", w.assessment_to_named_guide, "wait-guide", PALETTE[0]),
    )
    bars = []
    for label, wait, testid, colour in rows:
        hidden = wait.clients is None
        for kind, value in (("median", wait.median_days), ("mean", wait.mean_days)):
            bars.append(
                Bar(
                    f"{label}, {kind}",
                    value or 0.0,
                    HIDDEN if hidden else NO_VALUE if value is None else f"{value:g} days",
                    f"{testid}-{kind}",
                    HIDDEN_VALUE if hidden else value,
                    colour,
                )
            )
    return bars


def render(data: DashboardData, *, picker: Picker | None = None, sign_out: str | None = None) -> str:
    """The whole page; ``picker``: the year and municipality form (None: not shown);
    ``sign_out``: where its sign-out form posts (a browser's session), or None (an API
    client with a bearer token has nothing to sign out of)."""
    new, target, share_of_target = _selected_intake(data.intake, data.municipality)
    where = data.municipality or "the centre"
    outcome_now = data.outcomes_by_year.get(data.year)
    outcome_body = stacked_shares("Outcome shares by year", data.outcomes_by_year, testid_prefix="outcomes")
    if outcome_now is not None:
        outcome_body += (
            "<h3>"
            + escape(f"Outcomes {data.year}")
            + "</h3>"
            + bar_chart(f"Outcomes {data.year}", _share_bars(outcome_now, "outcome-share"))
        )
    d = data.deadlines
    waiting_now, waiting_all = data.waiting_for_guide.clients, data.waiting_for_guide_all.clients
    key_figures = [
        ("New clients", _figure("new-clients", exact(new), count(new))),
        ("Intake target", _figure("intake-target", target, NO_VALUE if target is None else str(target))),
        ("Share of target", _figure("intake-share", share_of_target, percent(share_of_target))),
        (
            f"Waiting for a named guide now: opened in {data.year} / in any year",
            _figure("waiting-for-guide", exact(waiting_now), count(waiting_now))
            + " / "
            + _figure("waiting-for-guide-all", exact(waiting_all), count(waiting_all)),
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
            f"Overdue deadlines on {d.as_of.isoformat()} (assessment / plan)",
            _figure("overdue-assessment", exact(d.assessment.overdue), count(d.assessment.overdue))
            + " / "
            + _figure("overdue-plan", exact(d.plan.overdue), count(d.plan.overdue)),
        ),
        (
            "Municipalities' estimated share of subsidy cost",
            _figure("cost-total", exact(data.cost.total), euros(data.cost.total)),
        ),
    ]
    figures_html = "".join(f'<tr><th scope="row">{escape(k)}</th><td>{v}</td></tr>' for k, v in key_figures)
    sections = [
        _section(
            f"Key figures {data.year}: {where}", f'<table class="figures">{figures_html}</table>', id="key"
        ),
        _section(f"{data.year} against {data.year - 1}", _trend(data), id="trend"),
        _section(f"Intake against target {data.year}", _intake_section(data), id="intake"),
        _section(
            f"Cost to the municipalities {data.year}",
            _cost(data),
            id="cost",
        ),
        _section(f"Transfers to social services {data.year}", _transfers(data), id="transfers"),
        _section("Outcome shares of closed relationships", outcome_body, id="outcomes"),
        _section(
            f"Referral sources {data.year}",
            bar_chart("Referral sources", _share_bars(data.sources, "source-share")),
            f"{count(data.sources.total)} new clients",
            id="sources",
        ),
        _section(
            f"Caseloads against the limit of {data.caseloads.limit}",
            _caseloads(data),
            "Clients in active guidance per named guide, now. "
            + ("" if data.caseloads.staff_shown else "Guides are not named: bands only."),
            id="caseloads",
        ),
        _section(
            f"Waiting times {data.year}", bar_chart("Waiting times in days", _waiting(data)), id="waiting"
        ),
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
        year=data.year,
        where=escape(where),
        as_of=data.as_of.isoformat(),
        control=control,
        picker=_picker(picker, data),
        body="".join(sections),
        account=account,
    )


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Reitti dashboard {year}: {where}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; color: #1d2733; background: #f7f8fa; }}
h1 {{ font-size: 1.5rem; margin: 0 0 .2rem; }} h2 {{ font-size: 1.1rem; margin: 0 0 .6rem; }}
h3 {{ font-size: 1rem; margin: .8rem 0 .4rem; }}
main {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(720px, 1fr)); gap: 1rem; }}
section {{ background: #fff; border: 1px solid #dde2e8; border-radius: 6px; padding: 1rem; }}
svg text {{ font-size: 12px; fill: #1d2733; }} svg text.on-bar {{ fill: #fff; font-size: 11px; }}
table.figures th, table.grid th {{ text-align: left; font-weight: normal; padding: .2rem 1rem .2rem 0; }}
table.figures td {{ font-weight: bold; }} table.grid td {{ padding: .2rem .8rem; text-align: right; }}
table.grid thead th {{ font-weight: bold; }}
tr.total th, tr.total td {{ border-top: 1px solid #999; font-weight: bold; }}
.legend {{ list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .3rem 1rem; font-size: 12px; }}
.swatch {{ display: inline-block; width: 10px; height: 10px; margin-right: 4px; }}
.note {{ color: #555; font-size: 12px; }}
.account {{ float: right; }}
.picker {{ margin: .6rem 0 .2rem; }}
.picker select, .picker button {{ font-size: 1rem; margin-right: .6rem; }}
.years a {{ margin-right: .4rem; }} .years a[aria-current] {{ font-weight: bold; }}
details.as-table {{ font-size: 12px; margin-top: .3rem; }}
</style></head>
<body>{account}<header><h1>Reitti: {where} in figures, {year}</h1>
<p class="note">Aggregates only, no personal data. Counted as of {as_of}.</p>
{picker}</header>
{control}<main>{body}</main></body></html>
"""
