"""Person and membership ids are never reused on SQLite (issue 10 item 1).

Without AUTOINCREMENT, SQLite gives a new row the largest id plus one, so deleting the newest
account handed its id to the next sign-up: anything still naming the old id (a session, a
notice, a link) then named the new person. PostgreSQL's sequences never reuse, so this is a
no-op there. SQLite cannot add AUTOINCREMENT to a table, so each table is rebuilt: created
anew, rows copied, the old one dropped and the new one renamed, its indexes recreated, all in
one transaction with foreign keys checked before the commit. Foreign-key enforcement must be
off while a referenced table is dropped, and SQLite ignores that setting inside a transaction
and per connection, so the rebuild runs on one connection of its own, outside Piccolo's.
"""

import re
import sqlite3

import anyio
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-01T09:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "person and membership ids are never reused (SQLite AUTOINCREMENT)"

TABLES = ("person", "membership")
_SERIAL = re.compile(r'"id" INTEGER PRIMARY KEY(?! AUTOINCREMENT)')


class RawTable(Table):
    pass


def rebuild_with_autoincrement(path: str) -> None:
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        connection.execute("PRAGMA foreign_keys = OFF")
        connection.execute("BEGIN IMMEDIATE")
        try:
            for table in TABLES:
                _rebuild(connection, table)
            broken = connection.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"foreign keys broken by the rebuild: {broken[:5]}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    finally:
        connection.close()


def _rebuild(connection: sqlite3.Connection, table: str) -> None:
    (create,) = connection.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()
    if not _SERIAL.search(create):
        return  # already rebuilt
    indexes = [
        sql
        for (sql,) in connection.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL",
            (table,),
        )
    ]
    rebuilt = f"{table}_rebuilt"
    create = _SERIAL.sub('"id" INTEGER PRIMARY KEY AUTOINCREMENT', create, count=1)
    create = re.sub(
        rf'^CREATE TABLE (IF NOT EXISTS )?"?{table}"?', f'CREATE TABLE "{rebuilt}"', create
    )
    connection.execute(create)
    connection.execute(f'INSERT INTO "{rebuilt}" SELECT * FROM "{table}"')
    connection.execute(f'DROP TABLE "{table}"')
    connection.execute(f'ALTER TABLE "{rebuilt}" RENAME TO "{table}"')
    for sql in indexes:
        connection.execute(sql)


async def forwards() -> MigrationManager:
    manager = MigrationManager(
        migration_id=ID, app_name="accounts", description=DESCRIPTION, wrap_in_transaction=False
    )

    async def rebuild() -> None:
        engine = RawTable._meta.db
        if engine.engine_type == "sqlite":
            await anyio.to_thread.run_sync(rebuild_with_autoincrement, engine.path)

    manager.add_raw(rebuild)
    return manager
