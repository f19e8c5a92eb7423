"""Recovery stages take the engine's names (`matching.vocabulary.RECOVERY_STAGES`).

The intake used to store "exploring" and "under_30_days", which the engine does not know (it
raised KeyError). Both mean "just starting": they become "under_1_month", whose label now reads
"Just starting, or less than a month". Backwards restores "under_30_days" (the two old values
cannot be told apart again).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-01T09:12:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "recovery stages take the engine's names"


class RawTable(Table):
    pass


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="profiles", description=DESCRIPTION)

    async def rename_stages() -> None:
        await RawTable.raw(
            "UPDATE newcomer_profile SET recovery_stage = 'under_1_month' "
            "WHERE recovery_stage IN ('exploring', 'under_30_days')"
        )

    async def restore_stages() -> None:
        await RawTable.raw(
            "UPDATE newcomer_profile SET recovery_stage = 'under_30_days' "
            "WHERE recovery_stage = 'under_1_month'"
        )

    manager.add_raw(rename_stages)
    manager.add_raw_backwards(restore_stages)
    return manager
