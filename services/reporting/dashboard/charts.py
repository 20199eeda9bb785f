"""Chart drawing for the dashboard: inline SVG bars and 100 % stacks, each followed by a
table of the same figures, and the text of a figure (a count, a share, euros, hidden)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from services.reporting.statistics import Shares

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


def percent(value: float | None) -> str:
    return NO_VALUE if value is None else f"{round(value * 100)} %"


def count(value: int | None) -> str:
    """A count as shown: :data:`HIDDEN` where disclosure control hides it."""
    return HIDDEN if value is None else str(value)


def exact(value: object) -> object:
    """A figure's ``data-value``: :data:`HIDDEN_VALUE` where it is hidden."""
    return HIDDEN_VALUE if value is None else value


def figure(testid: str, value: object, text: str) -> str:
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
                    + share_text(shares.shares.get(k), shares.counts.get(k), shares.total)
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


def share_bars(shares: Shares, testid_prefix: str) -> list[Bar]:
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


def share_value(fraction: float | None, part: int | None, whole: int | None) -> object:
    return HIDDEN_VALUE if part is None or whole is None else fraction


def share_text(fraction: float | None, part: int | None, whole: int | None) -> str:
    return HIDDEN if part is None or whole is None else percent(fraction)


def euros(amount: Decimal | None) -> str:
    return HIDDEN if amount is None else f"{amount:,.2f} €".replace(",", " ")
