"""The NATS configuration of Reitti's accounts and its partner feeds (docs/adr/0009).

:func:`render_accounts` renders the ``accounts { ... }`` block: with literal passwords for
the embedded server (:class:`runtime.embedded.EmbeddedNats`), or with ``$VARIABLE``
references for ``deploy/nats/accounts.conf``, whose values live in
``deploy/nats/passwords.inc``. ``reitti nats-config --help`` (reitti/cli/broker.py) writes both.
"""

from __future__ import annotations

import re
import secrets
import textwrap
from collections.abc import Iterable, Mapping, Sequence

from runtime.broker_access import (
    INTERNAL_ACCOUNT,
    INTERNAL_PASSWORD_VARIABLE,
    INTERNAL_USER,
    BrokerAccessError,
    PartnerFeed,
    feeds_stream_name,
)

#: File of the NATS variables that hold the passwords in ``deploy/nats``.
PASSWORDS_INCLUDE = "passwords.inc"
#: Characters a password may have: it goes into a quoted NATS string and into a URL.
_PASSWORD = re.compile(r"^[A-Za-z0-9_.~-]{8,200}$")


def _quote(value: str) -> str:
    if any(ch in value for ch in '"\\\n\r'):
        raise BrokerAccessError(f"{value!r} cannot be put in a NATS configuration string")
    return f'"{value}"'


def _password(user: str, passwords: Mapping[str, str] | None, variable: str) -> str:
    if passwords is None:
        return f"${variable}"
    try:
        value = passwords[user]
    except KeyError:
        raise BrokerAccessError(f"no password for the NATS user {user!r}") from None
    if not _PASSWORD.match(value):
        raise BrokerAccessError(f"the password of {user!r} must be 8-200 of A-Z a-z 0-9 _ . ~ -")
    return _quote(value)


def render_accounts(
    namespace: str,
    feeds: Sequence[PartnerFeed],
    passwords: Mapping[str, str] | None = None,
    *,
    include: str | None = None,
) -> str:
    """The ``accounts { ... }`` block of the NATS configuration (see the module docstring).

    ``passwords`` maps user names to passwords; when None, each password is a reference
    to a NATS variable (:data:`INTERNAL_PASSWORD_VARIABLE`,
    :attr:`PartnerFeed.password_variable`), defined in the file ``include`` names.
    """
    stream = feeds_stream_name(namespace)
    out: list[str] = []
    if include is not None:
        out += [
            "# The passwords, as NATS variables (REITTI_NATS_*_PASSWORD).",
            f"include {_quote(include)}",
            "",
        ]
    out += [
        "accounts {",
        f"  # Reitti's own services. The only account with JetStream: {stream},",
        f"  # {namespace.upper()}_EVENTS and {namespace.upper()}_DLQ live here. Its user may do anything.",
        f"  {INTERNAL_ACCOUNT}: {{",
        "    jetstream: enabled",
        "    users: [",
        f"      {{user: {_quote(INTERNAL_USER)}, "
        f"password: {_password(INTERNAL_USER, passwords, INTERNAL_PASSWORD_VARIABLE)}}}",
        "    ]",
        "    # Each partner account may pull from, and acknowledge on, its own durable",
        f"    # consumer on {stream} (filtered to its feed by Reitti) and nothing else.",
        "    exports: [",
    ]
    for feed in feeds:
        out += [
            f"      {{service: {_quote(feed.next_subject(namespace))}, "
            f"response_type: stream, accounts: [{feed.account}]}}",
            f"      {{service: {_quote(feed.ack_subjects(namespace))}, accounts: [{feed.account}]}}",
        ]
    out += ["    ]", "  }"]
    for feed in feeds:
        pulls, acks = feed.next_subject(namespace), feed.ack_subjects(namespace)
        out += [
            "",
            f"  # {feed.organisation}: reads {feed.filter_subject(namespace)} only.",
            f"  {feed.account}: {{",
            "    users: [",
            f"      {{user: {_quote(feed.user)}, "
            f"password: {_password(feed.user, passwords, feed.password_variable)}, permissions: {{",
            f"        publish: {{allow: [{_quote(pulls)}, {_quote(acks)}]}}",
            f"        subscribe: {{allow: [{_quote('_INBOX.>')}]}}",
            "      }}",
            "    ]",
            "    imports: [",
            f"      {{service: {{account: {INTERNAL_ACCOUNT}, subject: {_quote(pulls)}}}}}",
            f"      {{service: {{account: {INTERNAL_ACCOUNT}, subject: {_quote(acks)}}}}}",
            "    ]",
            "  }",
        ]
    out.append("}")
    return "\n".join(out) + "\n"


def password_variables(feeds: Sequence[PartnerFeed]) -> dict[str, str]:
    """User -> the NATS (and compose ``.env``) variable holding its password."""
    return {
        INTERNAL_USER: INTERNAL_PASSWORD_VARIABLE,
        **{feed.user: feed.password_variable for feed in feeds},
    }


def render_password_variables(passwords: Mapping[str, str], feeds: Sequence[PartnerFeed]) -> str:
    """The NATS variables :func:`render_accounts` refers to, for ``passwords.inc``."""
    return "".join(
        f"{variable}: {_password(user, passwords, variable)}\n"
        for user, variable in password_variables(feeds).items()
    )


def new_password() -> str:
    return secrets.token_urlsafe(24)


def new_passwords(feeds: Iterable[PartnerFeed]) -> dict[str, str]:
    return {INTERNAL_USER: new_password(), **{feed.user: new_password() for feed in feeds}}


def development_passwords(feeds: Iterable[PartnerFeed]) -> dict[str, str]:
    """The well-known passwords of ``deploy/nats/passwords.inc``: a development machine only."""
    return {INTERNAL_USER: "dev-only-internal", **{feed.user: f"dev-only-{feed.user}" for feed in feeds}}


# --- the files of deploy/nats (`reitti nats-config`) -------------------------------------


def deploy_accounts_text(namespace: str, feeds: Sequence[PartnerFeed]) -> str:
    """The text of ``deploy/nats/accounts.conf``."""
    partners = textwrap.wrap(
        f"Namespace {namespace!r}; partner feeds: {', '.join(feed.organisation for feed in feeds)}.",
        width=86,
    )
    header = [
        "# GENERATED by `reitti nats-config accounts`; do not edit by hand.",
        "# Who may connect to the NATS cluster and what each user may read (docs/adr/0009).",
        *(f"# {line}" for line in partners),
        "# Regenerate after changing REITTI_NAMESPACE or REITTI_MUNICIPALITIES, and restart",
        "# the NATS nodes (or send them SIGHUP).",
        "",
        "",
    ]
    return "\n".join(header) + render_accounts(namespace, feeds, include=PASSWORDS_INCLUDE)


def deploy_passwords_text(passwords: Mapping[str, str], feeds: Sequence[PartnerFeed], *, dev: bool) -> str:
    """The text of ``passwords.inc``: with ``dev``, the well-known development file."""
    if dev:
        header = [
            "# GENERATED by `reitti nats-config passwords --dev`.",
            "# DEVELOPMENT ONLY: well-known passwords of the NATS users in accounts.conf, so that",
            "# `docker compose up` works on a fresh checkout (compose.yaml gives the services the",
            "# same internal password by default). For anything else generate real ones:",
            "#   reitti nats-config passwords --output secrets/passwords.inc --env-file .env",
            "# and mount that file over /etc/nats/passwords.inc (REITTI_NATS_PASSWORDS_FILE).",
        ]
    else:
        header = [
            "# GENERATED by `reitti nats-config passwords`: the passwords of the NATS",
            "# users in accounts.conf. SECRET: keep it out of version control, mode 0600.",
        ]
    return "\n".join([*header, "", ""]) + render_password_variables(passwords, feeds)
