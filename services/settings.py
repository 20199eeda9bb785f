"""The one model of Reitti's settings (asetukset): a pydantic-settings ``BaseSettings``
read once, in a composition root, from ``REITTI_*`` variables, with a section per service,
a shared one, the runtime's (connections, streams, limits: :mod:`runtime.config`) and the
operator's (the command line and ``reitti up``: :mod:`runtime.operator_config`)
(docs/adr/0040, 0042).

Each field keeps the flat variable name it has always had: the variable is ``REITTI_`` +
the field's name in upper case, whatever its section (:mod:`runtime.flat_settings`, the
reader both layers use). A wrong value raises :class:`ConfigError` naming the variable.
``reitti config-docs`` writes docs/configuration.md from this model."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationInfo, field_validator, model_validator

from runtime.clock import DEFAULT_TIME_ZONE
from runtime.config import SERVICE_PORTS, RuntimeSection, Settings
from runtime.flat_settings import ConfigError, FlatSettings, Section, blank_is_unset, sections_of
from runtime.flat_settings import variable as variable
from runtime.operator_config import OperatorSection
from services.guidance.domain.plan import DEFAULT_MEASURE_CATALOGUE, DEFAULT_MEASURE_USES
from services.guidance.domain.transfer import DEFAULT_ACKNOWLEDGEMENT_DAYS
from services.reporting.disclosure_control import DEFAULT_MIN_CELL
from services.rules.caseload import CASELOAD_LIMIT

#: hours between intake's retention sweeps (services/intake/retention.py)
DEFAULT_SWEEP_HOURS = 24.0
#: Labour-market subsidy (*työmarkkinatuki*), basic daily amount in euros. About 25.63 EUR
#: in 2010; an assumption for reporting's cost estimate only, so it is configurable.
SUBSIDY_DAILY_AMOUNT = Decimal("25.63")
#: the shortest dashboard session key accepted (a random string)
MIN_SESSION_KEY_LENGTH = 32


class SharedSection(Section):
    """Settings more than one service reads."""

    time_zone: str = Field(DEFAULT_TIME_ZONE, description="the zone of business dates")
    caseload_limit: int = Field(CASELOAD_LIMIT, description="active clients per guide")

    @field_validator("time_zone", mode="before")
    @classmethod
    def _zone(cls, raw: object) -> object:
        raw = blank_is_unset(raw)
        if raw is None:
            return DEFAULT_TIME_ZONE
        try:
            ZoneInfo(str(raw))
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"REITTI_TIME_ZONE {raw!r} is not a time zone (e.g. Europe/Helsinki)") from None
        return raw

    @field_validator("caseload_limit", mode="before")
    @classmethod
    def _caseload(cls, raw: object) -> object:
        raw = blank_is_unset(raw)
        if raw is None:
            return CASELOAD_LIMIT
        try:
            limit = int(str(raw).strip())
        except ValueError:
            raise ConfigError(f"REITTI_CASELOAD_LIMIT must be a whole number, not {raw!r}") from None
        if limit < 1:
            raise ConfigError("REITTI_CASELOAD_LIMIT must be at least 1")
        return limit


class IntakeSection(Section):
    """Intake's settings (vastaanotto)."""

    retention_sweep_hours: float = Field(
        DEFAULT_SWEEP_HOURS,
        description="hours between intake's sweeps for clients closed over four years ago "
        "(0: off, for example if a scheduler runs `reitti erase-expired`)",
    )

    @field_validator("retention_sweep_hours", mode="before")
    @classmethod
    def _hours(cls, raw: object) -> object:
        raw = blank_is_unset(raw)
        if raw is None:
            return DEFAULT_SWEEP_HOURS
        try:
            hours = float(str(raw))
        except ValueError:
            raise ConfigError(
                f"REITTI_RETENTION_SWEEP_HOURS must be a number of hours, not {raw!r}"
            ) from None
        if not hours >= 0:
            raise ConfigError("REITTI_RETENTION_SWEEP_HOURS must be 0 (off) or a number of hours")
        return hours


class GuidanceSection(Section):
    """Guidance's settings (ohjauksen asetukset)."""

    transfer_ack_days: int = Field(
        DEFAULT_ACKNOWLEDGEMENT_DAYS, description="days before an unacknowledged transfer is flagged"
    )
    measure_catalogue: Mapping[str, str] = Field(
        DEFAULT_MEASURE_CATALOGUE,
        description="a JSON file of measure code -> name",
        json_schema_extra={"shown_default": "the catalogue in the code"},
    )

    measure_uses: Mapping[str, str] = Field(
        DEFAULT_MEASURE_USES,
        description="a JSON file of measure code -> when the measure is meant to be used",
        json_schema_extra={"shown_default": "the texts in the code"},
    )

    @field_validator("transfer_ack_days", mode="before")
    @classmethod
    def _days(cls, raw: object) -> object:
        raw = blank_is_unset(raw)
        if raw is None:
            return DEFAULT_ACKNOWLEDGEMENT_DAYS
        try:
            return int(str(raw).strip())
        except ValueError:
            raise ConfigError("REITTI_TRANSFER_ACK_DAYS must be a whole number of days") from None

    @field_validator("measure_catalogue", mode="before")
    @classmethod
    def _catalogue(cls, raw: object) -> object:
        return code_texts(raw, DEFAULT_MEASURE_CATALOGUE, "REITTI_MEASURE_CATALOGUE", "name")

    @field_validator("measure_uses", mode="before")
    @classmethod
    def _uses(cls, raw: object) -> object:
        return code_texts(
            raw, DEFAULT_MEASURE_USES, "REITTI_MEASURE_USES", "when the measure is meant to be used"
        )


def code_texts(raw: object, default: Mapping[str, str], variable: str, what: str) -> object:
    """A setting of measure code -> text: unset is ``default``, a mapping given in code is
    itself, and a string is the path of a JSON object of code -> ``what``."""
    raw = blank_is_unset(raw)
    if raw is None:
        return default
    if not isinstance(raw, str):
        return raw
    try:
        data = json.loads(Path(raw).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{variable} {raw}: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ConfigError(f"{variable} must be a JSON object of code -> {what}")
    return data


def checked_session_key(raw: str | None) -> str | None:
    """``REITTI_DASHBOARD_SESSION_KEY`` as given (None if unset); too short is an error."""
    raw = raw or None
    if raw is not None and len(raw) < MIN_SESSION_KEY_LENGTH:
        raise ConfigError(
            f"REITTI_DASHBOARD_SESSION_KEY must be at least {MIN_SESSION_KEY_LENGTH} characters "
            "(a random string)"
        )
    return raw


class ReportingSection(Section):
    """Reporting's settings (raportointi)."""

    subsidy_daily_amount: Decimal = Field(
        SUBSIDY_DAILY_AMOUNT, description="labour-market subsidy per day, for the municipal cost estimate"
    )
    min_cell: int = Field(
        DEFAULT_MIN_CELL,
        description="the smallest count of clients shown to roles without client access (1: show all)",
    )
    dashboard_session_key: str | None = Field(
        None,
        repr=False,
        description="the key of the dashboard's session cookies; set it when several reporting "
        "replicas serve the dashboard (at least 32 characters)",
        json_schema_extra={"shown_default": "a random key per process"},
    )

    @field_validator("subsidy_daily_amount", mode="before")
    @classmethod
    def _amount(cls, raw: object) -> object:
        raw = blank_is_unset(raw)
        if raw is None:
            return SUBSIDY_DAILY_AMOUNT
        try:
            amount = Decimal(str(raw))
        except ArithmeticError:
            raise ConfigError("REITTI_SUBSIDY_DAILY_AMOUNT must be a number of euros") from None
        if not amount.is_finite() or amount < 0:
            raise ConfigError("the daily amount of labour-market subsidy cannot be negative")
        return amount

    @field_validator("min_cell", mode="before")
    @classmethod
    def _min_cell(cls, raw: object) -> object:
        raw = blank_is_unset(raw)
        if raw is None:
            return DEFAULT_MIN_CELL
        try:
            cell = int(str(raw))
        except ValueError:
            raise ConfigError("REITTI_MIN_CELL must be a whole number") from None
        if cell < 1:
            raise ConfigError("REITTI_MIN_CELL must be at least 1 (1 shows every cell)")
        return cell

    @field_validator("dashboard_session_key", mode="before")
    @classmethod
    def _key(cls, raw: object) -> object:
        return checked_session_key(None if raw is None else str(raw))


class DeskSection(Section):
    """The staff desk's settings (työpöytä, services/desk/, docs/adr/0045)."""

    desk_intake_url: str = Field(
        f"http://127.0.0.1:{SERVICE_PORTS['intake']}", description="the intake API the desk calls"
    )
    desk_guidance_url: str = Field(
        f"http://127.0.0.1:{SERVICE_PORTS['guidance']}", description="the guidance API the desk calls"
    )
    desk_reporting_url: str = Field(
        f"http://127.0.0.1:{SERVICE_PORTS['reporting']}", description="the reporting API the desk calls"
    )
    desk_session_key: str | None = Field(
        None,
        repr=False,
        description="the key that seals the desk's session cookies; set it when several desk "
        "replicas serve the same users (at least 32 characters)",
        json_schema_extra={"shown_default": "a random key per process"},
    )
    desk_development_sign_in: bool = Field(
        False,
        description="offer the development sign-in (choose a role, a person and an organisation; "
        "signed with `REITTI_JWT_PRIVATE_KEY`): `reitti up` turns it on with its own key, never "
        "turn it on in production",
    )

    desk_oidc_issuer: str | None = Field(
        None,
        description="the identity provider's issuer URL: set it to sign in to the desk through OpenID "
        "Connect (authorization code with PKCE; the provider's `/.well-known/openid-configuration` is "
        "read). The services must trust the tokens it issues (`REITTI_JWT_PUBLIC_KEY`, "
        "`REITTI_JWT_ISSUER`, `REITTI_JWT_AUDIENCE`), with the claims `role` and `org`",
        json_schema_extra={"shown_default": "unset: no OpenID Connect sign-in"},
    )
    desk_oidc_client_id: str | None = Field(
        None, description="the desk's client id at the identity provider (with `REITTI_DESK_OIDC_ISSUER`)"
    )
    desk_oidc_client_secret: str | None = Field(
        None,
        repr=False,
        description="the desk's client secret at the identity provider, if it is a confidential client",
        json_schema_extra={"shown_default": "unset: a public client (PKCE only)"},
    )
    desk_oidc_scope: str = Field("openid", description="the scopes the desk asks the identity provider for")
    desk_oidc_forward: str = Field(
        "access_token",
        description="which of the provider's tokens the desk sends to the services: `access_token` "
        "(a JWT for the services' audience) or `id_token` (where the provider's access tokens are "
        "opaque and the services' audience is the desk's client id)",
    )

    @field_validator("desk_oidc_issuer", "desk_oidc_client_id", "desk_oidc_client_secret", mode="before")
    @classmethod
    def _optional(cls, raw: object) -> object:
        raw = blank_is_unset(raw)
        return None if raw is None else str(raw).strip()

    @field_validator("desk_oidc_scope", mode="before")
    @classmethod
    def _scope(cls, raw: object) -> object:
        raw = blank_is_unset(raw)
        scope = "openid" if raw is None else str(raw).strip()
        if "openid" not in scope.split():
            raise ConfigError("REITTI_DESK_OIDC_SCOPE must include openid")
        return scope

    @field_validator("desk_oidc_forward", mode="before")
    @classmethod
    def _forward(cls, raw: object) -> object:
        raw = blank_is_unset(raw)
        forward = "access_token" if raw is None else str(raw).strip()
        if forward not in ("access_token", "id_token"):
            raise ConfigError("REITTI_DESK_OIDC_FORWARD must be access_token or id_token")
        return forward

    @model_validator(mode="after")
    def _oidc(self) -> DeskSection:
        if (self.desk_oidc_issuer is None) != (self.desk_oidc_client_id is None):
            raise ConfigError("set REITTI_DESK_OIDC_ISSUER and REITTI_DESK_OIDC_CLIENT_ID together")
        if self.desk_oidc_issuer is not None and not self.desk_oidc_issuer.startswith(
            ("https://", "http://")
        ):
            raise ConfigError(
                "REITTI_DESK_OIDC_ISSUER must be an https:// URL (http:// on a development machine)"
            )
        return self

    @field_validator("desk_intake_url", "desk_guidance_url", "desk_reporting_url", mode="before")
    @classmethod
    def _url(cls, raw: object, info: ValidationInfo) -> object:
        raw = blank_is_unset(raw)
        if raw is None:
            return cls.model_fields[str(info.field_name)].get_default()
        url = str(raw).strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"{variable(str(info.field_name))} must be an http:// or https:// URL")
        return url

    @field_validator("desk_session_key", mode="before")
    @classmethod
    def _key(cls, raw: object) -> object:
        raw = blank_is_unset(raw)
        if raw is not None and len(str(raw)) < MIN_SESSION_KEY_LENGTH:
            raise ConfigError(
                f"REITTI_DESK_SESSION_KEY must be at least {MIN_SESSION_KEY_LENGTH} characters "
                "(a random string)"
            )
        return raw

    @field_validator("desk_development_sign_in", mode="before")
    @classmethod
    def _flag(cls, raw: object) -> object:
        raw = blank_is_unset(raw)
        if raw is None:
            return False
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ConfigError("REITTI_DESK_DEVELOPMENT_SIGN_IN must be true or false")


class ReittiConfig(FlatSettings):
    """Every setting, by section. Build it with :meth:`from_env`; ``settings()`` is the
    runtime section with both URLs, for what connects."""

    runtime: RuntimeSection = Field(default_factory=RuntimeSection)
    operator: OperatorSection = Field(default_factory=OperatorSection)
    shared: SharedSection = Field(default_factory=SharedSection)
    intake: IntakeSection = Field(default_factory=IntakeSection)
    guidance: GuidanceSection = Field(default_factory=GuidanceSection)
    reporting: ReportingSection = Field(default_factory=ReportingSection)
    desk: DeskSection = Field(default_factory=DeskSection)

    def settings(self) -> Settings:
        """The runtime section with both URLs; an error saying how to give them if not."""
        return self.runtime.settings()


#: the sections, by name, in the model's (and the generated table's) order
SECTIONS: dict[str, type[Section]] = sections_of(ReittiConfig)
