"""Indexes over two columns, which Piccolo's column-level `index=True` cannot declare.

The pages every person opens filter on two columns at once: a program's matches, requests,
proposals or concerns in one status, a person's unread notices. With an index on one column
only, the database reads every row of the program (or every notice) and drops the ones in
another status, so each of those reads grows with the program's history: on the demo, the
active matches were 12 of 424 rows read. An index on both columns reads only the rows shown.
Created by the owning slice's migration (its tables exist by then), on SQLite and PostgreSQL
alike, and dropped by its backwards step.
"""

from __future__ import annotations

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table


class _Raw(Table):
    """Only a handle on the migrating engine for the raw statements."""


def composite_indexes(
    migration_id: str, app_name: str, description: str, indexes: dict[str, tuple[str, str]]
) -> MigrationManager:
    """A migration creating `indexes` ({name: (table, "column, column")}) if missing."""
    manager = MigrationManager(
        migration_id=migration_id, app_name=app_name, description=description
    )

    async def create() -> None:
        for name, (table, columns) in indexes.items():
            await _Raw.raw(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({columns})')

    async def drop() -> None:
        for name in indexes:
            await _Raw.raw(f'DROP INDEX IF EXISTS "{name}"')

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
