"""Migrate the test database once per run and empty it before each test."""

from __future__ import annotations

from piccolo.conf.apps import Finder
from piccolo.table import Table


def _tables() -> list[type[Table]]:
    """Every table of every slice, children before parents (safe delete order)."""
    tables = Finder().get_table_classes()
    ordered: list[type[Table]] = []
    remaining = list(tables)
    while remaining:
        for table in remaining:
            referenced_by_remaining = any(
                fk._foreign_key_meta.resolved_references is table
                for other in remaining
                if other is not table
                for fk in other._meta.foreign_key_columns
            )
            if not referenced_by_remaining:
                ordered.append(table)
                remaining.remove(table)
                break
        else:  # a cycle: fall back to declaration order
            ordered.extend(remaining)
            break
    return ordered


async def migrate_once() -> None:
    from tandem.cli import migrate
    from tandem.piccolo_conf import DB

    if DB.engine_type == "postgres":
        # A clean schema each run, so a changed migration is really tested.
        await DB.run_ddl("DROP SCHEMA public CASCADE")
        await DB.run_ddl("CREATE SCHEMA public")
    await migrate()


async def wipe() -> None:
    from tandem.matches.services import forget_places
    from tandem.piccolo_conf import DB
    from tandem.training.services import forget_eligibility

    # Emptied tables take the eligibility and places markers with them, and ids restart: an
    # answer cached by the last test would match the next test's unmarked program of that id.
    forget_eligibility()
    forget_places()
    tables = _tables()
    if DB.engine_type == "postgres":
        names = ", ".join(f'"{t._meta.tablename}"' for t in tables)
        await DB.run_ddl(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        return
    for table in tables:
        await table.delete(force=True)
    # Ids restart with every test, as PostgreSQL's RESTART IDENTITY does (AUTOINCREMENT tables
    # keep their counters here otherwise).
    await DB.run_ddl("DELETE FROM sqlite_sequence")
