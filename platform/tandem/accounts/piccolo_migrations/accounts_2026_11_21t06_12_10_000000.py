"""One role per person per program: a composite unique index Piccolo cannot declare itself."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-21T06:12:10:000000"
VERSION = "1.38.0"
DESCRIPTION = "one role per person per program"


class RawTable(Table):
    pass


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)

    async def create_index() -> None:
        await RawTable.raw(
            "CREATE UNIQUE INDEX membership_person_program ON membership (person, program)"
        )

    async def drop_index() -> None:
        await RawTable.raw("DROP INDEX membership_person_program")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
