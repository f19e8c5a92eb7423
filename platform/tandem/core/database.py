"""The one way services open a transaction, on either database."""

from __future__ import annotations

from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from tandem.core.tables import AuditEvent


def engine() -> Engine:
    """The engine Piccolo chose from `DATABASE_URL` (see `tandem.piccolo_conf`)."""
    return AuditEvent._meta.db


def transaction() -> Any:
    """A transaction on the configured engine.

    On SQLite it starts IMMEDIATE: services read, then write, inside one transaction, and a
    deferred transaction that later tries to write fails with "database is locked" when another
    writer got there first. Taking the write lock up front makes concurrent writers queue (up to
    the engine's busy timeout) instead. PostgreSQL needs nothing special.
    """
    current = engine()
    if isinstance(current, SQLiteEngine):
        return current.transaction(transaction_type=TransactionType.immediate)
    return current.transaction()
