"""The dashboard page: layout of the sections, the year and municipality picker, the
disclosure-control note and the sign-out form, in one self-contained HTML document."""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from services.reporting.dashboard.charts import (
    HIDDEN,
    NO_VALUE,
    bar_chart,
    count,
    euros,
    exact,
    figure,
    percent,
    share_bars,
    share_text,
    share_value,
    stacked_shares,
)
from services.reporting.dashboard.data import ALL, DashboardData, Picker
from services.reporting.dashboard.sections import (
    caseloads_section,
    cost_section,
    intake_section,
    section,
    selected_intake,
    transfers_section,
    trend_section,
    waiting_bars,
)


def picker_form(picker: Picker | None, data: DashboardData) -> str:
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


def render(data: DashboardData, *, picker: Picker | None = None, sign_out: str | None = None) -> str:
    """The whole page; ``picker``: the year and municipality form (None: not shown);
    ``sign_out``: where its sign-out form posts (a browser's session), or None (an API
    client with a bearer token has nothing to sign out of)."""
    new, target, share_of_target = selected_intake(data.intake, data.municipality)
    where = data.municipality or "the centre"
    outcome_now = data.outcomes_by_year.get(data.year)
    outcome_body = stacked_shares("Outcome shares by year", data.outcomes_by_year, testid_prefix="outcomes")
    if outcome_now is not None:
        outcome_body += (
            "<h3>"
            + escape(f"Outcomes {data.year}")
            + "</h3>"
            + bar_chart(f"Outcomes {data.year}", share_bars(outcome_now, "outcome-share"))
        )
    d = data.deadlines
    waiting_now, waiting_all = data.waiting_for_guide.clients, data.waiting_for_guide_all.clients
    key_figures = [
        ("New clients", figure("new-clients", exact(new), count(new))),
        ("Intake target", figure("intake-target", target, NO_VALUE if target is None else str(target))),
        ("Share of target", figure("intake-share", share_of_target, percent(share_of_target))),
        (
            f"Waiting for a named guide now: opened in {data.year} / in any year",
            figure("waiting-for-guide", exact(waiting_now), count(waiting_now))
            + " / "
            + figure("waiting-for-guide-all", exact(waiting_all), count(waiting_all)),
        ),
        (
            "Clients over 500 subsidy days",
            figure(
                "over-500-share",
                share_value(
                    data.subsidy.share_over_500_days,
                    data.subsidy.over_500_days,
                    data.subsidy.clients_with_known_days,
                ),
                share_text(
                    data.subsidy.share_over_500_days,
                    data.subsidy.over_500_days,
                    data.subsidy.clients_with_known_days,
                ),
            ),
        ),
        (
            "Closed after over three years",
            figure(
                "over-three-years-share",
                share_value(
                    data.durations.share_over_three_years,
                    data.durations.over_three_years,
                    data.durations.closed,
                ),
                share_text(
                    data.durations.share_over_three_years,
                    data.durations.over_three_years,
                    data.durations.closed,
                ),
            ),
        ),
        (
            f"Overdue deadlines on {d.as_of.isoformat()} (assessment / plan)",
            figure("overdue-assessment", exact(d.assessment.overdue), count(d.assessment.overdue))
            + " / "
            + figure("overdue-plan", exact(d.plan.overdue), count(d.plan.overdue)),
        ),
        (
            "Municipalities' estimated share of subsidy cost",
            figure("cost-total", exact(data.cost.total), euros(data.cost.total)),
        ),
    ]
    figures_html = "".join(f'<tr><th scope="row">{escape(k)}</th><td>{v}</td></tr>' for k, v in key_figures)
    sections = [
        section(
            f"Key figures {data.year}: {where}", f'<table class="figures">{figures_html}</table>', id="key"
        ),
        section(f"{data.year} against {data.year - 1}", trend_section(data), id="trend"),
        section(f"Intake against target {data.year}", intake_section(data), id="intake"),
        section(
            f"Cost to the municipalities {data.year}",
            cost_section(data),
            id="cost",
        ),
        section(f"Transfers to social services {data.year}", transfers_section(data), id="transfers"),
        section("Outcome shares of closed relationships", outcome_body, id="outcomes"),
        section(
            f"Referral sources {data.year}",
            bar_chart("Referral sources", share_bars(data.sources, "source-share")),
            f"{count(data.sources.total)} new clients",
            id="sources",
        ),
        section(
            f"Caseloads against the limit of {data.caseloads.limit}",
            caseloads_section(data),
            "Clients in active guidance per named guide, now. "
            + ("" if data.caseloads.staff_shown else "Guides are not named: bands only."),
            id="caseloads",
        ),
        section(
            f"Waiting times {data.year}", bar_chart("Waiting times in days", waiting_bars(data)), id="waiting"
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
        picker=picker_form(picker, data),
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
