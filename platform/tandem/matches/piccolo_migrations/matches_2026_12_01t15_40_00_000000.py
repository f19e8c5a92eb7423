from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-01T15:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "places change markers"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="matches", description=DESCRIPTION
    )

    manager.add_table(
        class_name="PlacesMarker",
        tablename="match_places_marker",
        schema=None,
        columns=None,
    )

    manager.add_column(
        table_class_name="PlacesMarker",
        tablename="match_places_marker",
        column_name="program_id",
        db_column_name="program_id",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": True,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="PlacesMarker",
        tablename="match_places_marker",
        column_name="token",
        db_column_name="token",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 32,
            "default": "",
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

    return manager
