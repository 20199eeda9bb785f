"""``reitti nats-config``: the NATS accounts of Reitti and its partner feeds (docs/adr/0009),
for a NATS cluster of one's own (``deploy/nats``); the embedded server writes its own."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reitti.cli.parsing import Subparsers
from runtime.broker_access import BrokerAccessError, partner_feeds
from runtime.broker_credentials import write_private
from runtime.config import DEFAULT_NAMESPACE, ConfigError, checked_municipalities
from runtime.nats_accounts import (
    PASSWORDS_INCLUDE,
    deploy_accounts_text,
    deploy_passwords_text,
    development_passwords,
    new_passwords,
    password_variables,
)
from services.settings import ReittiConfig

PROG = "reitti nats-config"


def register(sub: Subparsers) -> None:
    parser = sub.add_parser(
        "nats-config",
        help="write the NATS accounts of Reitti and its partner feeds, or their passwords (deploy/nats)",
        description="Write the NATS accounts of Reitti and its partner feeds (docs/adr/0009).",
    )
    parser.add_argument(
        "--namespace", default=None, help=f"default: REITTI_NAMESPACE, else {DEFAULT_NAMESPACE}"
    )
    parser.add_argument(
        "--municipalities",
        default=None,
        help="comma-separated (default: REITTI_MUNICIPALITIES, else the seven of the seed)",
    )
    what = parser.add_subparsers(dest="what", required=True)
    accounts = what.add_parser("accounts", help="write accounts.conf (no secrets; passwords are variables)")
    accounts.add_argument("--output", type=Path, default=None, help="default: standard output")
    passwords = what.add_parser("passwords", help="write new random passwords (mode 0600)")
    passwords.add_argument("--dev", action="store_true", help="the well-known development passwords instead")
    passwords.add_argument(
        "--output", type=Path, required=True, help=f"the NATS variables file ({PASSWORDS_INCLUDE})"
    )
    passwords.add_argument(
        "--env-file",
        type=Path,
        default=None,
        help="also write them as KEY=value lines, for docker compose's .env",
    )
    parser.set_defaults(run=cmd_nats_config)


def cmd_nats_config(args: argparse.Namespace) -> int:
    try:
        runtime = ReittiConfig.from_env().runtime
        municipalities = runtime.municipalities
        if args.municipalities:
            municipalities = checked_municipalities(args.municipalities.split(","))
        feeds = partner_feeds(municipalities)
        if args.what == "accounts":
            text = deploy_accounts_text(args.namespace or runtime.namespace, feeds)
            if args.output is None:
                sys.stdout.write(text)
            else:
                args.output.write_text(text, encoding="utf-8")
            return 0
        generated = development_passwords(feeds) if args.dev else new_passwords(feeds)
        write_private(args.output, deploy_passwords_text(generated, feeds, dev=args.dev))
        if args.env_file is not None:
            variables = password_variables(feeds)
            write_private(args.env_file, "".join(f"{variables[u]}={pw}\n" for u, pw in generated.items()))
        print(f"wrote {args.output}" + (f" and {args.env_file}" if args.env_file else ""), file=sys.stderr)
        return 0
    except (BrokerAccessError, ConfigError) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
