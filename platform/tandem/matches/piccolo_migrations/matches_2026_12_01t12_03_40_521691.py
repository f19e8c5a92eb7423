from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Timestamptz

ID = "2026-12-01T12:03:40:521691"
VERSION = "1.38.0"
DESCRIPTION = "index on the start of a match, for the trends"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="matches", description=DESCRIPTION)

    manager.alter_column(
        table_class_name="MentorMatch",
        tablename="mentor_match",
        column_name="started_at",
        db_column_name="started_at",
        params={"index": True},
        old_params={"index": False},
        column_class=Timestamptz,
        old_column_class=Timestamptz,
        schema=None,
    )

    return manager
