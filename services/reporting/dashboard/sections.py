"""The dashboard's sections (osiot): the HTML of each figure family, from the collected
figures, drawn with the charts."""

from __future__ import annotations

from html import escape

from contracts.subjects import organisation_slug
from services.reporting.dashboard.charts import (
    HIDDEN,
    HIDDEN_VALUE,
    NO_VALUE,
    PALETTE,
    Bar,
    bar_chart,
    count,
    euros,
    exact,
    figure,
)
from services.reporting.dashboard.data import DashboardData
from services.reporting.statistics import IntakeAgainstTarget
from services.rules.caseload import OVER_LIMIT_BAND


def section(title: str, body: str, note: str = "", *, id: str = "") -> str:
    note_html = f'<p class="note">{escape(note)}</p>' if note else ""
    anchor = f' id="{escape(id)}" aria-labelledby="{escape(id)}-h"' if id else ""
    heading = f' id="{escape(id)}-h"' if id else ""
    return f"<section{anchor}><h2{heading}>{escape(title)}</h2>{body}{note_html}</section>"


def intake_section(data: DashboardData) -> str:
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
        figure(f"target-{organisation_slug(r.municipality)}", r.target, f"{r.municipality} {r.target}")
        for r in rows
        if r.target is not None
    )
    return bar_chart("New clients per municipality against the target", bars) + (
        f'<p class="note">{escape(basis)}{listed}</p>'
    )


def selected_intake(
    intake: IntakeAgainstTarget, municipality: str | None
) -> tuple[int | None, int | None, float | None]:
    """New clients, target and share of the centre, or of the chosen municipality."""
    if municipality is None:
        return intake.new_clients, intake.target, intake.share_of_target
    row = next((r for r in intake.municipalities if r.municipality == municipality), None)
    return (None, None, None) if row is None else (row.new_clients, row.target, row.share_of_target)


def trend_section(data: DashboardData) -> str:
    """This year against last, from the same statistics asked for both years."""
    y, p = data.year, data.year - 1
    now_new, now_target, _ = selected_intake(data.intake, data.municipality)
    was_new, was_target, _ = selected_intake(data.last_year, data.municipality)
    closed_now = data.outcomes_by_year.get(y)
    closed_was = data.outcomes_by_year.get(p)

    def cell(testid: str, value: int | None, *, zero_is_count: bool = True) -> str:
        return f"<td>{figure(testid, exact(value), count(value))}</td>"

    def change(now: int | None, was: int | None) -> str:
        if now is None or was is None:
            return f"<td>{NO_VALUE}</td>"
        return f"<td>{now - was:+d}</td>"

    def target_cell(testid: str, value: int | None) -> str:
        return f"<td>{figure(testid, value, NO_VALUE if value is None else str(value))}</td>"

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


def cost_section(data: DashboardData) -> str:
    cost = data.cost
    rows = "".join(
        f'<tr><th scope="row">{escape(r.municipality)}</th>'
        + "".join(
            f"<td>{figure(f'{prefix}-{organisation_slug(r.municipality)}', exact(value), text)}</td>"
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
        f"<td>{figure('municipal-cost', exact(cost.total), euros(cost.total))}</td></tr>"
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
        f"{figure('daily-amount', cost.daily_amount, euros(cost.daily_amount))} per paid day. Basis:</p>"
        f'<ul>{basis}</ul><p class="note">{escape(cost.assumption)} '
        f"Counted up to {cost.as_of.isoformat()}.</p>"
    )


TRANSFER_LABELS = {
    "returned": "returned to the centre",
    "at_social_services": "still at social services",
    "closed_while_there": "closed while at social services",
    "declined": "declined by social services",
}


def transfers_section(data: DashboardData) -> str:
    t = data.transfers
    made, returns = t.transferred_to_social_services, t.returned_from_social_services
    parts = [
        (TRANSFER_LABELS[state], figure(f"transfers-{state.replace('_', '-')}", exact(n), count(n)))
        for state, n in t.by_state.items()
    ]
    known = [n for n in t.by_state.values()]
    adds_up = None not in known and made is not None and sum(n for n in known if n is not None) == made
    rows = "".join(f'<tr><th scope="row">of them {escape(k)}</th><td>{v}</td></tr>' for k, v in parts)
    return (
        '<table class="grid"><tbody>'
        f'<tr><th scope="row">Transfers made in {data.year}</th>'
        f"<td>{figure('transfers', exact(made), count(made))}</td></tr>"
        f"{rows}"
        f'<tr><th scope="row">Returns made in {data.year} (of any year\'s transfers)</th><td>'
        f"{figure('returns', exact(returns), count(returns))}</td></tr>"
        "</tbody></table>"
        + (
            f'<p class="note" data-testid="transfers-reconciled">The {count(made)} transfers = '
            + " + ".join(f"{count(n)} {TRANSFER_LABELS[s]}" for s, n in t.by_state.items())
            + ".</p>"
            if adds_up
            else '<p class="note">Some parts are hidden, so the sum is not shown.</p>'
        )
    )


def caseloads_section(data: DashboardData) -> str:
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


def waiting_bars(data: DashboardData) -> list[Bar]:
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
