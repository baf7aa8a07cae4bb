"""Alembic environment: async engine from Postdesk settings, metadata from every domain's models."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from postdesk.db import Base, create_engine
from postdesk.models import import_all_models
from postdesk.settings import get_settings

import_all_models()
target_metadata = Base.metadata


def _settings():
    return context.config.attributes.get("settings") or get_settings()


def run_migrations_offline() -> None:
    context.configure(url=_settings().resolved_database_url, target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


MIGRATION_LOCK_ID = 0x706F7374  # "post": one migrating process at a time on PostgreSQL


def _run(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Several API containers starting together: the others wait, then find nothing to do.
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
    # Batch mode lets ALTER TABLE migrations work on SQLite too.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    engine = create_engine(_settings())
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
