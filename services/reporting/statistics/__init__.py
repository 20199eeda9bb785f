"""The steering group's statistics (ohjausryhmän tilastot), by year and municipality:
aggregates only.

Each function reads the steering partition (or, for the subsidy cost, which grows every
day a relationship is open, the centre partition's facts) and returns a model the API
answers with and the dashboard draws. The arithmetic is in :mod:`services.reporting.figures`.

Split by job: ``models`` (response models), ``sql`` (statements), ``tables`` (the
disclosure-control tables), ``queries`` (:class:`Statistics`, the queries per figure
family), ``cost`` (the cost basis). Every name stays importable from here.
"""

from services.reporting.statistics.cost import COST_ASSUMPTION, cost_basis, share_in_words
from services.reporting.statistics.models import (
    HIDDEN_NOTE,
    MUNICIPALITY_OR_ALL,
    PART,
    REST,
    SHARE_OF_TARGET,
    YEAR,
    CaseloadBand,
    Caseloads,
    CostBasis,
    Count,
    Deadlines,
    DeadlineStatus,
    Durations,
    GuideCaseload,
    IntakeAgainstTarget,
    IntakeRow,
    MunicipalCost,
    MunicipalCostRow,
    ServicesUsed,
    Shares,
    SubsidyDays,
    Transfers,
    Waiting,
    WaitingForGuide,
    WaitingTimes,
)
from services.reporting.statistics.queries import Statistics
from services.reporting.statistics.sql import StatisticsSql
from services.reporting.statistics.tables import Cells, StatisticsTables

__all__ = [
    "COST_ASSUMPTION",
    "HIDDEN_NOTE",
    "MUNICIPALITY_OR_ALL",
    "PART",
    "REST",
    "SHARE_OF_TARGET",
    "YEAR",
    "CaseloadBand",
    "Caseloads",
    "Cells",
    "CostBasis",
    "Count",
    "DeadlineStatus",
    "Deadlines",
    "Durations",
    "GuideCaseload",
    "IntakeAgainstTarget",
    "IntakeRow",
    "MunicipalCost",
    "MunicipalCostRow",
    "ServicesUsed",
    "Shares",
    "Statistics",
    "StatisticsSql",
    "StatisticsTables",
    "SubsidyDays",
    "Transfers",
    "Waiting",
    "WaitingForGuide",
    "WaitingTimes",
    "cost_basis",
    "share_in_words",
]
