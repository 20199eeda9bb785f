"""The ``reitti`` command, by area: running the system (:mod:`reitti.cli.serve`), operating
it (:mod:`reitti.cli.operate`, :mod:`reitti.cli.retention`), the audit log
(:mod:`reitti.cli.audit`), the NATS accounts (:mod:`reitti.cli.broker`) and development
tools (:mod:`reitti.cli.devtools`)."""

from __future__ import annotations

import argparse
import sys

from reitti.cli import audit, broker, devtools, operate, retention, serve
from reitti.cli.devtools import TOKEN_DEFAULT_ORGANISATION, token_organisation
from runtime import clock
from runtime.config import ConfigError, load_connection
from runtime.flat_settings import read_section
from runtime.operator_config import OperatorSection
from services.settings import ReittiConfig

__all__ = ["TOKEN_DEFAULT_ORGANISATION", "build_parser", "main", "token_organisation"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reitti",
        description="Reitti: event-sourced case management for joint employment service centres.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for area in (serve, devtools, operate, retention, audit, broker):
        area.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if getattr(args, "operator", False):
            # a command on a running system: without external URLs it uses the connection
            # `reitti up` recorded in its data directory (REITTI_DATA_DIR, or the default)
            load_connection(read_section(OperatorSection).data_dir)
            # the operator commands' composition root: the settings model, read once here
            args.config = ReittiConfig.from_env()
            clock.use_zone(args.config.shared.time_zone)
        return int(args.run(args) or 0)
    except ConfigError as exc:
        print(f"reitti: {exc}", file=sys.stderr)
        return 2
