"""Reporting's configuration: the figures statistics need. Plain data with defaults from
the seed; :meth:`ReportingConfig.from_config` takes the few an operator may change from the
settings model (services/settings.py).
The steering group's intake targets are events (IntakeTargetSet), not configuration
(docs/adr/0032)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType

from contracts.names import UnknownName, canonical_municipality
from runtime.config import DEFAULT_MUNICIPALITIES, ConfigError
from services.reporting.disclosure_control import DEFAULT_MIN_CELL
from services.rules.caseload import CASELOAD_LIMIT
from services.settings import SUBSIDY_DAILY_AMOUNT, ReittiConfig

#: Population of the centre's seven municipalities. Approximate 2010 values, rounded: they
#: only apportion the yearly intake target (client numbers are proportioned to
#: population, the seed says), so a few hundred either way moves a target by one client.
POPULATIONS: Mapping[str, int] = MappingProxyType(
    {
        "Mikkeli": 48_000,
        "Hirvensalmi": 2_400,
        "Kangasniemi": 6_000,
        "Mäntyharju": 6_500,
        "Pertunmaa": 1_900,
        "Puumala": 2_500,
        "Ristiina": 4_800,
    }
)

#: Over this many days of labour-market subsidy a client counts towards the seed's
#: national criterion (and the municipality starts paying half under the seed's rules).
OVER_DAYS = 500


@dataclass(frozen=True)
class ReportingConfig:
    populations: Mapping[str, int] = field(default_factory=lambda: dict(POPULATIONS))
    #: the centre's municipalities: ``Settings.municipalities`` (its one parser, ADR 0027)
    municipalities: tuple[str, ...] = DEFAULT_MUNICIPALITIES
    caseload_limit: int = CASELOAD_LIMIT
    subsidy_daily_amount: Decimal = SUBSIDY_DAILY_AMOUNT
    #: the smallest count of clients shown to roles without client access (docs/adr/0023)
    min_cell: int = DEFAULT_MIN_CELL

    def __post_init__(self) -> None:
        if self.caseload_limit < 1:
            raise ConfigError("the caseload limit must be at least 1")
        if not self.subsidy_daily_amount.is_finite() or self.subsidy_daily_amount < 0:
            raise ConfigError("the daily amount of labour-market subsidy cannot be negative")
        if self.min_cell < 1:
            raise ConfigError("REITTI_MIN_CELL must be at least 1 (1 shows every cell)")
        if not self.municipalities:
            raise ConfigError("reporting needs at least one municipality")

    def municipality(self, name: str) -> str | None:
        """The configured municipality ``name`` means (:mod:`contracts.names`), or None."""
        try:
            return canonical_municipality(name, self.municipalities)
        except UnknownName:
            return None

    @classmethod
    def from_config(
        cls, config: ReittiConfig, *, municipalities: tuple[str, ...] = DEFAULT_MUNICIPALITIES
    ) -> ReportingConfig:
        """Reporting's figures from the settings model: its reporting section
        (``REITTI_SUBSIDY_DAILY_AMOUNT``, ``REITTI_MIN_CELL``) and the shared caseload limit;
        ``municipalities`` are the settings' (``REITTI_MUNICIPALITIES``, the model's runtime
        section, which the caller's ``Settings`` carry)."""
        return cls(
            municipalities=municipalities,
            caseload_limit=config.shared.caseload_limit,
            subsidy_daily_amount=config.reporting.subsidy_daily_amount,
            min_cell=config.reporting.min_cell,
        )
