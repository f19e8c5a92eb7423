"""Shuffled options per attempt, and one row per content version.

`option_orders` keeps the order each attempt showed a question's options in, so grading maps the
mentor's choices back to the file. Content versions get a unique (module_id, version) key: they
are registered at start-up, where several processes may start at once. Duplicate rows from the
old insert-on-read are dropped first, keeping the earliest (its `first_seen_at` is the release).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import JSON
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-12-01T09:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "option order per attempt; unique content versions"


class RawTable(Table):
    pass


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="training", description=DESCRIPTION)
    manager.add_column(
        table_class_name="QuizAttempt",
        tablename="training_quiz_attempt",
        column_name="option_orders",
        db_column_name="option_orders",
        column_class_name="JSON",
        column_class=JSON,
        params={
            "default": "{}",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    async def unique_versions() -> None:
        await RawTable.raw(
            "DELETE FROM training_content_version WHERE id NOT IN ("
            "SELECT MIN(id) FROM training_content_version GROUP BY module_id, version)"
        )
        await RawTable.raw(
            "CREATE UNIQUE INDEX training_content_version_module_version "
            "ON training_content_version (module_id, version)"
        )

    async def drop_unique_versions() -> None:
        await RawTable.raw("DROP INDEX training_content_version_module_version")

    manager.add_raw(unique_versions)
    manager.add_raw_backwards(drop_unique_versions)
    return manager
