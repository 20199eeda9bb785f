"""Development tokens: which organisation a token names for a role when none is given.

The one rule behind `reitti token` (reitti/cli/devtools.py) and the desk's development
sign-in (services/desk/sign_in.py): both sign with `reitti up`'s development key, and
neither may make a caller the code never meets (docs/adr/0033)."""

from __future__ import annotations

from contracts.names import SOCIAL_SERVICES, TE_OFFICE, canonical_organisation, social_services_of
from runtime.flat_settings import ConfigError
from runtime.roles import Role

#: The organisation a development token names when ``--organisation`` is not given (None:
#: it must be given). A social worker works for one municipality's social services and a
#: partner system for its partner, so neither has a default: signing ``centre`` for them
#: would make a caller the code never meets (docs/adr/0033).
TOKEN_DEFAULT_ORGANISATION: dict[Role, str | None] = {
    Role.EMPLOYMENT_ADVISOR: TE_OFFICE,
    Role.LEAD_EMPLOYMENT_ADVISOR: TE_OFFICE,
    Role.PSYCHOLOGIST: TE_OFFICE,
    Role.SERVICE_COORDINATOR: "centre",
    Role.SERVICE_GUIDE: "centre",
    Role.NURSE: "centre",
    Role.OFFICE_SECRETARY: "centre",
    Role.SOCIAL_WORKER: None,
    Role.STEERING_GROUP_MEMBER: "centre",
    Role.AUDITOR: "centre",
    Role.PARTNER_SYSTEM: None,
}


def token_organisation(role: str, given: str | None, municipalities: tuple[str, ...]) -> str:
    """The organisation a development token names, in its canonical spelling (ADR 0027):
    a social worker's is their municipality's social services and must be given
    (``social_services:mikkeli``, or just ``Mikkeli``); a partner system's is its partner
    and must be given too; others default to :data:`TOKEN_DEFAULT_ORGANISATION`."""
    if role == Role.SOCIAL_WORKER:
        choices = ", ".join(social_services_of(municipalities))
        if not given:
            raise ConfigError(
                "a social worker works for a municipality's social services, so a token needs it: "
                f"give --organisation with one of {choices} (or just the municipality, e.g. Mikkeli)"
            )
        name = given if given.strip().casefold().startswith(SOCIAL_SERVICES) else SOCIAL_SERVICES + given
        try:
            return canonical_organisation(name, municipalities)
        except ValueError:
            raise ConfigError(
                f"--organisation {given!r} is no social services of the centre's; use one of: {choices}"
            ) from None
    if not given:
        default = TOKEN_DEFAULT_ORGANISATION[Role(role)]
        if default is None:
            partners = ", ".join((TE_OFFICE, "kela", *social_services_of(municipalities)))
            raise ConfigError(
                f"a {role} acts for one partner organisation, so a token needs it: "
                f"give --organisation with one of {partners}"
            )
        return default
    try:
        return canonical_organisation(given, municipalities)
    except ValueError as exc:
        raise ConfigError(f"--organisation {given!r}: {exc}") from None
