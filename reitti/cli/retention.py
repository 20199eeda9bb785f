"""Retention (säilytysaika): ``reitti erase-expired`` and ``reitti rotate-keys``
(docs/adr/0011, docs/adr/0021)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import date

from reitti.cli.connections import database
from reitti.cli.parsing import Subparsers


def register(sub: Subparsers) -> None:
    expire = sub.add_parser(
        "erase-expired",
        help="erase the personal data of clients whose relationship closed over four years ago "
        "(unless under a legal hold)",
    )
    expire.add_argument(
        "--today", type=date.fromisoformat, default=None, help="the day to count from (default: today)"
    )

    expire.set_defaults(run=cmd_erase_expired, operator=True)

    sub.add_parser(
        "rotate-keys",
        help="wrap every client key under a new key-encryption key and destroy the old one "
        "(run after erasures; docs/adr/0021)",
    ).set_defaults(run=cmd_rotate_keys, operator=True)


def cmd_erase_expired(args: argparse.Namespace) -> int:
    """Key deletion when the retention period ends (docs/adr/0011). Writes through intake's
    event store; intake's relay publishes the ``ClientDataErased`` events."""
    from runtime import clock
    from runtime.db import apply_migrations
    from runtime.erasure import KEYS_SCHEMA, RETENTION_YEARS, key_vault_migrations
    from runtime.keyvault import ensure_vault
    from services.intake.application import erase_expired
    from services.intake.bootstrap import bootstrap
    from services.intake.retention import retention_context, rotate_if_due

    settings = args.config.settings()
    today = args.today or clock.today()

    async def run() -> list[str]:
        async with database(settings, max_size=2) as pool:
            intake = bootstrap(settings, pool)
            async with pool.acquire() as conn:
                await apply_migrations(conn, KEYS_SCHEMA, key_vault_migrations())
                await ensure_vault(conn)
                erased = await erase_expired(conn, intake.repository, today, ctx=retention_context())
                await rotate_if_due(conn)  # so no old copy of their keys opens (ADR 0021)
                return erased

    erased = asyncio.run(run())
    print(
        f"erased the personal data of {len(erased)} clients "
        f"({RETENTION_YEARS} years after closure, counted to {today})"
    )
    for client_id in erased:
        print(f"  {client_id}")
    return 0


def cmd_rotate_keys(args: argparse.Namespace) -> int:
    """Rotate the key-encryption key (docs/adr/0021): afterwards no copy of an erased
    client's key (dead tuples, WAL, backups) can be unwrapped."""
    from runtime.db import apply_migrations
    from runtime.erasure import KEYS_SCHEMA, key_vault_migrations
    from runtime.keyvault import rotate

    settings = args.config.settings()

    async def run() -> str:
        async with database(settings, max_size=1) as pool, pool.acquire() as conn:
            await apply_migrations(conn, KEYS_SCHEMA, key_vault_migrations())
            done = await rotate(conn)
        return (
            f"re-wrapped {done.rewrapped} client keys under the key-encryption key {done.new} "
            f"({args.config.operator.kek_directory}); destroyed {len(done.destroyed)} old one(s)"
        )

    print(asyncio.run(run()))
    return 0
