"""The audit log (lokitiedot): ``reitti audit-verify`` and ``reitti audit-export``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from reitti.cli.connections import broker, database
from reitti.cli.parsing import Subparsers

if TYPE_CHECKING:
    import asyncpg

    from services.reporting.audit import AuditTrail


def register(sub: Subparsers) -> None:
    verify = sub.add_parser(
        "audit-verify",
        help="verify every audit hash chain against the events in JetStream, or against an export",
    )
    verify.add_argument("file", type=Path, nargs="?", default=None, help="an audit-export file (JSON Lines)")

    export = sub.add_parser("audit-export", help="export a range of the audit log as CloudEvents JSON Lines")
    export.add_argument("--from-seq", type=int, default=None, help="first stream sequence")
    export.add_argument("--to-seq", type=int, default=None, help="last stream sequence")
    export.add_argument(
        "--since", type=_aware_time, default=None, help="events that occurred at or after (ISO)"
    )
    export.add_argument("--until", type=_aware_time, default=None, help="events before (ISO time)")
    export.add_argument("--output", type=Path, default=None, help="file to write (default: standard output)")
    verify.set_defaults(run=cmd_audit_verify, operator=True)
    export.set_defaults(run=cmd_audit_export, operator=True)


def _aware_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO time: {text!r}") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError("give a time zone, for example 2010-01-01T00:00:00+02:00")
    return value


def audit_trail(args: argparse.Namespace, pool: asyncpg.Pool) -> AuditTrail:
    """Reporting's audit trail as its composition root builds it (services/reporting/bootstrap.py)."""
    from services.reporting.bootstrap import bootstrap
    from services.reporting.config import ReportingConfig

    settings = args.config.settings()
    config = ReportingConfig.from_config(args.config, municipalities=settings.municipalities)
    return bootstrap(settings, pool, config=config).projection.audit


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Recompute every audit hash chain; exit 1 naming the first broken link."""
    from services.reporting.audit_verify import VerifyReport, verify_against_file, verify_against_log

    settings = args.config.settings()
    if args.file is not None and not args.file.is_file():
        print(f"reitti audit-verify: no such file: {args.file}", file=sys.stderr)
        return 2

    async def run() -> VerifyReport:
        async with database(settings) as pool, pool.acquire() as conn:
            trail = audit_trail(args, pool)
            if args.file is not None:
                return await verify_against_file(conn, trail, args.file)
            async with broker(settings, name="reitti-audit-verify") as nc:
                return await verify_against_log(conn, trail, nc.jetstream(), settings)

    from runtime.log_reader import IncompleteRead

    try:
        report = asyncio.run(run())
    except IncompleteRead as exc:
        print(f"reitti audit-verify: the log could not be read completely: {exc}", file=sys.stderr)
        return 1
    against = args.file or "the events in JetStream"
    if report.ok:
        print(
            f"audit log verified: {report.chains} chains, {report.entries} entries; "
            f"{report.events_checked} events checked against {against}"
        )
        return 0
    print(f"broken link: {report.first_broken}", file=sys.stderr)
    for more in report.broken[1:20]:
        print(f"  also: {more}", file=sys.stderr)
    if len(report.broken) > 20:
        print(f"  and {len(report.broken) - 20} more", file=sys.stderr)
    return 1


def cmd_audit_export(args: argparse.Namespace) -> int:
    """Write a range of the audit log as JSON Lines: each event's CloudEvents envelope,
    read back from JetStream, with the audit chain's extension attributes."""
    from services.reporting.audit import export_lines

    settings = args.config.settings()

    async def run() -> int:
        async with database(settings) as pool, pool.acquire() as conn:
            entries = await audit_trail(args, pool).entries(
                conn, from_seq=args.from_seq, to_seq=args.to_seq, since=args.since, until=args.until
            )
        written = 0
        async with broker(settings, name="reitti-audit-export") as nc:
            out = args.output.open("wb") if args.output is not None else sys.stdout.buffer
            try:
                async for line in export_lines(nc.jetstream(), settings, entries):
                    out.write(line)
                    written += 1
            finally:
                if args.output is not None:
                    out.close()
                else:
                    out.flush()
        return written

    from runtime.log_reader import IncompleteRead

    try:
        written = asyncio.run(run())
    except IncompleteRead as exc:
        print(f"reitti audit-export: the log could not be read completely: {exc}", file=sys.stderr)
        return 1
    print(f"exported {written} events", file=sys.stderr)
    return 0
