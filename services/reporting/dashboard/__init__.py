"""The dashboard (kojelauta): one HTML page with the charts drawn server-side as inline SVG,
from the same statistics the API answers with. No script, no stylesheet or font from
elsewhere: it works without any internet access.

Every figure shown carries ``data-testid`` (what it is) and ``data-value`` (the exact
number the API gives), so a browser test can compare the page with the API.

Split by job: ``data`` collects the figures, ``charts`` draws SVG charts and figure texts,
``sections`` builds each section's HTML, ``page`` lays out the page with the picker.
"""

from services.reporting.dashboard.charts import (
    HIDDEN,
    HIDDEN_VALUE,
    LABELS,
    NO_VALUE,
    PALETTE,
    Bar,
    bar_chart,
    count,
    euros,
    exact,
    figure_table,
    percent,
    stacked_shares,
)
from services.reporting.dashboard.data import ALL, DashboardData, Picker, collect, last_year_as_of
from services.reporting.dashboard.page import PAGE, render

__all__ = [
    "ALL",
    "HIDDEN",
    "HIDDEN_VALUE",
    "LABELS",
    "NO_VALUE",
    "PAGE",
    "PALETTE",
    "Bar",
    "DashboardData",
    "Picker",
    "bar_chart",
    "collect",
    "count",
    "euros",
    "exact",
    "figure_table",
    "last_year_as_of",
    "percent",
    "render",
    "stacked_shares",
]
