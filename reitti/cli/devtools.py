"""Development tools: the demo year, the dashboard's screenshot, development tokens, and
the committed documents (OpenAPI, the permission matrix, JSON Schemas, AsyncAPI)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from pathlib import Path

from reitti.cli.parsing import Subparsers
from runtime import dev_tokens
from runtime.access import Role
from runtime.config import SERVICE_PORTS, ConfigError, default_data_dir
from services.settings import ReittiConfig


def register(sub: Subparsers) -> None:
    demo = sub.add_parser(
        "demo",
        help="load the seed's year 2010 (139 new clients to closures) into a running system via its APIs",
    )
    for name, port in SERVICE_PORTS.items():
        demo.add_argument(
            f"--{name}-url",
            default=f"http://127.0.0.1:{port}",
            help=f"the {name} service (default: %(default)s)",
        )
    demo.add_argument("--data-dir", type=Path, default=None, help="where `reitti up` keeps its signing key")
    demo.add_argument("--concurrency", type=int, default=8, help="clients at once (default: %(default)s)")

    shot = sub.add_parser(
        "screenshot",
        help="save the dashboard of a running system as a PNG (docs/dashboard.png), in headless chromium",
    )
    shot.add_argument(
        "--reporting-url",
        default=f"http://127.0.0.1:{SERVICE_PORTS['reporting']}",
        help="the reporting service (default: %(default)s)",
    )
    shot.add_argument("--data-dir", type=Path, default=None, help="where `reitti up` keeps its signing key")
    shot.add_argument("--year", type=int, default=None, help="the year shown (default: the latest)")
    shot.add_argument("--municipality", default=None, help="one municipality (default: all)")
    shot.add_argument("--output", type=Path, default=Path("docs/dashboard.png"))
    shot.add_argument("--chromium", type=Path, default=Path("/usr/bin/chromium"), help="the browser")
    demo.set_defaults(run=cmd_demo)
    shot.set_defaults(run=cmd_screenshot)

    token = sub.add_parser("token", help="sign a development token with the embedded mode's key")
    token.add_argument("--role", required=True, choices=[r.value for r in Role])
    token.add_argument("--person", required=True, help="the person's (or machine client's) id")
    token.add_argument(
        "--organisation",
        default=None,
        help="default: te-office for the TE side's roles, centre for the centre's staff, the "
        "steering group and auditors; required for a social worker (social_services:<municipality>, "
        "or just the municipality) and a partner system (its partner: te-office, kela, "
        "social_services:<municipality>)",
    )
    token.add_argument("--hours", type=float, default=12.0, help="validity (default: %(default)s)")
    token.add_argument("--data-dir", type=Path, default=None, help="where `reitti up` keeps its data")
    token.set_defaults(run=cmd_token)

    schemas = sub.add_parser("schemas", help="write the events' JSON Schemas to contracts/schemas/")
    schemas.add_argument("--output", type=Path, default=None, help="directory (default: contracts/schemas)")

    asyncapi = sub.add_parser("asyncapi", help="write the AsyncAPI document of the event contracts")
    asyncapi.add_argument("--output", type=Path, default=Path("docs/asyncapi.json"))
    openapi = sub.add_parser("openapi", help="write each service's OpenAPI document to docs/openapi/")
    openapi.add_argument("--output", type=Path, default=Path("docs/openapi"))
    perms = sub.add_parser("permissions", help="write the endpoint x role permission matrix (Markdown)")
    perms.add_argument("--output", type=Path, default=Path("docs/permissions.md"))
    schemas.set_defaults(run=cmd_schemas)
    asyncapi.set_defaults(run=cmd_asyncapi)
    openapi.set_defaults(run=cmd_openapi)
    perms.set_defaults(run=cmd_permissions)
    config_docs = sub.add_parser("config-docs", help="write the table of settings from the settings model")
    config_docs.add_argument("--output", type=Path, default=Path("docs/configuration.md"))
    config_docs.set_defaults(run=cmd_config_docs)
    messages = sub.add_parser(
        "desk-messages",
        help="merge the desk's strings into its catalogues (services/desk/locale/*/messages.po): "
        "new ones empty, to translate",
    )
    messages.set_defaults(run=cmd_desk_messages)


def cmd_demo(args: argparse.Namespace) -> int:
    """Load the demo year through the running services' APIs, with a progress bar, and
    print reporting's 2010 statistics beside the seed's shares."""
    from reitti.demo import DemoError, Endpoints, main

    endpoints = Endpoints(intake=args.intake_url, guidance=args.guidance_url, reporting=args.reporting_url)
    try:
        return main(
            endpoints,
            (args.data_dir or default_data_dir()).expanduser(),
            ReittiConfig.from_env(),
            concurrency=max(1, args.concurrency),
        )
    except DemoError as exc:
        print(f"reitti demo: {exc}", file=sys.stderr)
        return 1


def cmd_screenshot(args: argparse.Namespace) -> int:
    """The dashboard as a signed-in steering group member sees it, saved as a PNG."""
    from reitti.demo import load_issuer
    from reitti.screenshot import ScreenshotError, main

    try:
        saved = main(
            args.reporting_url,
            load_issuer((args.data_dir or default_data_dir()).expanduser(), ReittiConfig.from_env()),
            args.output,
            year=args.year,
            municipality=args.municipality,
            chromium=args.chromium,
        )
    except ScreenshotError as exc:
        print(f"reitti screenshot: {exc}", file=sys.stderr)
        return 1
    print(f"saved {saved}")
    return 0


def cmd_token(args: argparse.Namespace) -> int:

    from runtime.auth import TokenIssuer

    config = ReittiConfig.from_env()
    organisation = token_organisation(args.role, args.organisation, config.runtime.municipalities)
    key = config.operator.signing_key((args.data_dir or default_data_dir()).expanduser())
    if not key.is_file():
        raise ConfigError(f"no signing key at {key}: run `reitti up` first, or set REITTI_JWT_PRIVATE_KEY")
    issuer = TokenIssuer.load(key, issuer=config.runtime.jwt_issuer)
    print(
        issuer.issue(
            person_id=args.person, role=args.role, organisation=organisation, ttl=timedelta(hours=args.hours)
        )
    )
    return 0


#: the organisation a development token names (one rule, shared with the desk's development
#: sign-in: runtime/dev_tokens.py)
token_organisation = dev_tokens.token_organisation
TOKEN_DEFAULT_ORGANISATION = dev_tokens.TOKEN_DEFAULT_ORGANISATION


def cmd_desk_messages(args: argparse.Namespace) -> int:
    from services.desk.catalogues import write_catalogues
    from services.desk.i18n import read_catalogue

    for path in write_catalogues():
        catalogue = read_catalogue(path.parent.parent.name)
        empty = sum(1 for m in catalogue if m.id and not m.string)
        print(f"{path}: {len(catalogue)} strings, {empty} to translate")
    return 0


def cmd_schemas(args: argparse.Namespace) -> int:
    from contracts.schema_export import SCHEMA_DIR, write_schemas

    for path in write_schemas(args.output or SCHEMA_DIR):
        print(path)
    return 0


def cmd_asyncapi(args: argparse.Namespace) -> int:
    from reitti.asyncapi import asyncapi_document

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(asyncapi_document(), indent=2, sort_keys=True) + "\n")
    print(args.output)
    return 0


def cmd_openapi(args: argparse.Namespace) -> int:
    from reitti.permission_docs import service_apps
    from runtime.openapi import openapi_json

    args.output.mkdir(parents=True, exist_ok=True)
    for name, app in service_apps().items():
        target = args.output / f"{name}.json"
        target.write_text(openapi_json(app.openapi()), encoding="utf-8")
        print(target)
    return 0


def cmd_permissions(args: argparse.Namespace) -> int:
    from reitti.permission_docs import render_permission_matrix

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render_permission_matrix(), encoding="utf-8")
    print(args.output)
    return 0


def cmd_config_docs(args: argparse.Namespace) -> int:
    from reitti.config_docs import render_configuration

    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(render_configuration(), encoding="utf-8")
    print(args.output)
    return 0
