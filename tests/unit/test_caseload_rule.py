"""The one caseload definition (services/rules/caseload.py, docs/adr/0029)."""

from __future__ import annotations

import pytest

from runtime.config import ConfigError
from services.guidance.bootstrap import guidance_settings
from services.reporting.config import ReportingConfig
from services.rules.caseload import (
    CASELOAD_LIMIT,
    Handover,
    counts_in_caseload,
    full,
    over_limit,
)
from services.settings import ReittiConfig


def handover(*, stays_open: bool, declined: bool = False, returned: bool = False) -> Handover:
    return Handover(relationship_stays_open=stays_open, declined=declined, returned=returned)


@pytest.mark.parametrize(
    ("guide_named", "closed", "latest", "counts"),
    [
        (True, False, None, True),
        (False, False, None, False),
        (True, True, None, False),
        # at social services with the relationship kept open: the guide still holds the case
        (True, False, handover(stays_open=True), True),
        (True, True, handover(stays_open=True), False),
        # the relationship ended at the hand-over ...
        (True, False, handover(stays_open=False), False),
        # ... until the receiving side declines it or the client returns
        (True, False, handover(stays_open=False, declined=True), True),
        (True, False, handover(stays_open=False, returned=True), True),
    ],
)
def test_who_counts_in_a_guides_caseload(
    guide_named: bool, closed: bool, latest: Handover | None, counts: bool
) -> None:
    assert counts_in_caseload(guide_named=guide_named, closed=closed, latest_handover=latest) is counts


def test_the_limit_is_the_top_of_the_seeds_target_and_full_means_at_it() -> None:
    assert CASELOAD_LIMIT == 60
    assert not full(59, 60) and full(60, 60)
    assert not over_limit(60, 60) and over_limit(61, 60)


def test_guidance_and_reporting_read_the_same_limit() -> None:
    defaults = ReittiConfig.from_env({})
    assert defaults.shared.caseload_limit == CASELOAD_LIMIT == ReportingConfig().caseload_limit
    assert guidance_settings(defaults).caseload_limit == CASELOAD_LIMIT
    read = ReittiConfig.from_env({"REITTI_CASELOAD_LIMIT": "40"})
    assert guidance_settings(read).caseload_limit == 40 == ReportingConfig.from_config(read).caseload_limit
    for wrong in ("many", "0"):
        with pytest.raises(ConfigError, match="REITTI_CASELOAD_LIMIT"):
            ReittiConfig.from_env({"REITTI_CASELOAD_LIMIT": wrong})


def test_anonymous_bands_cut_the_limit_in_thirds_and_name_the_guides_over_it() -> None:
    from services.rules.caseload import caseload_band, caseload_bands

    assert caseload_bands(60) == ("0-19", "20-39", "40-60", "over limit")
    assert [caseload_band(n, 60) for n in (0, 19, 20, 39, 40, 60, 61, 100)] == [
        "0-19",
        "0-19",
        "20-39",
        "20-39",
        "40-60",
        "40-60",
        "over limit",
        "over limit",
    ]
    assert caseload_bands(12) == ("0-3", "4-7", "8-12", "over limit")
    assert caseload_bands(1) == ("0-1", "over limit")
    assert caseload_band(1, 1) == "0-1" and caseload_band(2, 1) == "over limit"
