"""Everything that must exist before services start: schemas, tables, streams."""

from __future__ import annotations

import importlib

from runtime.config import Settings
from runtime.db import Migration, apply_migrations, create_pool, wait_for_database
from runtime.keyvault import ensure_vault
from runtime.streams import connect_nats, ensure_streams

SERVICE_MODULES = {
    "intake": "services.intake.app",
    "guidance": "services.guidance.app",
    "reporting": "services.reporting.app",
}


def service_migrations(name: str) -> tuple[str, list[Migration]]:
    """A service's main schema and its migrations."""
    module = importlib.import_module(SERVICE_MODULES[name])
    return module.SCHEMA, list(module.MIGRATIONS)


def all_service_schemas(name: str) -> list[tuple[str, list[Migration]]]:
    """Every schema a service owns: its main one and any others (``OTHER_SCHEMAS``)."""
    module = importlib.import_module(SERVICE_MODULES[name])
    others = getattr(module, "OTHER_SCHEMAS", {})
    from runtime.erasure import KEYS_SCHEMA, key_vault_migrations

    return [
        service_migrations(name),
        *((schema, list(m)) for schema, m in others.items()),
        # the key vault, shared by every service (docs/adr/0011)
        (KEYS_SCHEMA, key_vault_migrations()),
    ]


async def prepare_everything(settings: Settings) -> None:
    """Run every service's migrations and create the streams; idempotent."""
    await wait_for_database(settings.database_url)
    pool = await create_pool(settings.database_url, max_size=2)
    try:
        async with pool.acquire() as conn:
            for name in SERVICE_MODULES:
                for schema, migrations in all_service_schemas(name):
                    await apply_migrations(conn, schema, migrations)
            await ensure_vault(conn)  # a KEK, and every key wrapped under one (ADR 0021)
    finally:
        await pool.close()
    nc = await connect_nats(settings.nats_url, name="reitti-migrate")
    try:
        await ensure_streams(nc.jetstream(), settings)
    finally:
        await nc.close()
