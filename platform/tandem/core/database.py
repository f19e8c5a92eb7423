"""How Tandem talks to its database: the engine, one connection per unit of work, transactions,
row locks.

Piccolo's `SQLiteEngine` opens a new connection (a thread, a file open, a pragma) for every
query outside a transaction, so a page of ten queries paid for ten connections. `PooledSQLiteEngine`
keeps a few open connections, set up once (foreign keys, `synchronous`, busy timeout), and
`unit_of_work()` lends one of them to everything a request (or a worker batch) runs: plain
queries, `transaction()` and nested services all use that one connection, so nothing waits on
a second connection the same request holds. PostgreSQL keeps Piccolo's asyncpg pool (sized in
settings); there `unit_of_work()` does nothing.
"""

from __future__ import annotations

import contextvars
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import aiosqlite
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send
from piccolo.engine.base import Engine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType, dict_factory
from piccolo.query.methods.select import Select
from piccolo.table import Table

# WAL lets readers go on while one writer writes (the rollback journal blocked every reader);
# NORMAL is durable across application crashes in WAL mode and only a power loss can drop the
# last commits, never corrupt the file. Set per connection, once, when it opens.
CONNECTION_PRAGMAS = "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;"

_T = TypeVar("_T", bound=Select[Any])


class _Lease:
    """The connection lent to one unit of work. Emptied when the unit ends, so a task that
    outlives its request falls back to its own connections instead of sharing a returned one.
    `in_transaction` is taken before BEGIN is sent, so two sibling tasks cannot both begin."""

    __slots__ = ("connection", "in_transaction")

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self.connection: aiosqlite.Connection | None = connection
        self.in_transaction = False


class _Borrowed:
    """The leased connection handed to a Piccolo transaction, which closes its connection when
    it ends: closing this one only frees the lease for the unit's next transaction."""

    __slots__ = ("_connection", "_lease")

    def __init__(self, lease: _Lease, connection: aiosqlite.Connection) -> None:
        object.__setattr__(self, "_lease", lease)
        object.__setattr__(self, "_connection", connection)
        lease.in_transaction = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._connection, name, value)

    async def close(self) -> None:
        self._lease.in_transaction = False


class PooledSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine with a small pool of connections opened with their pragmas once.

    The pool never makes anyone wait: when every kept connection is lent out, a new one opens,
    and at most `pool_size` idle ones are kept afterwards. Outside `unit_of_work()` (the CLI,
    migrations, scripts) each query opens and closes its own connection, as Piccolo does.
    """

    def __init__(self, path: str, *, pool_size: int, busy_timeout_seconds: float) -> None:
        if sqlite3.sqlite_version_info < (3, 35):
            raise RuntimeError("Tandem needs SQLite 3.35 or newer (for RETURNING).")
        super().__init__(path=path, timeout=busy_timeout_seconds)
        self.pool_size = pool_size
        self._idle: list[aiosqlite.Connection] = []
        self._pool_users = 0
        self._lease: contextvars.ContextVar[_Lease | None] = contextvars.ContextVar(
            f"sqlite_lease_{path}", default=None
        )

    # Connections -------------------------------------------------------------------------------

    async def _open(self) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(**self.connection_kwargs)
        connection.row_factory = dict_factory  # type: ignore[assignment]
        await connection.executescript(CONNECTION_PRAGMAS)
        return connection

    async def checkout(self) -> aiosqlite.Connection:
        """A set-up connection: an idle one from the pool, or a new one."""
        return self._idle.pop() if self._idle else await self._open()

    async def checkin(self, connection: aiosqlite.Connection) -> None:
        """Give a connection back; an unfinished transaction on it is rolled back first."""
        if connection.in_transaction:
            await connection.rollback()
        if self._pool_users and len(self._idle) < self.pool_size:
            self._idle.append(connection)
        else:
            await connection.close()

    async def start_connection_pool(self, **_: Any) -> None:
        """Keep connections between units of work until the last user closes the pool."""
        self._pool_users += 1

    async def close_connection_pool(self) -> None:
        self._pool_users = max(0, self._pool_users - 1)
        if not self._pool_users:
            idle, self._idle = self._idle, []
            for connection in idle:
                await connection.close()

    def leased(self) -> aiosqlite.Connection | None:
        """The connection of the current unit of work, if any."""
        lease = self._lease.get()
        return lease.connection if lease is not None else None

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[None]:
        if self.leased() is not None:  # already inside one: share it
            yield
            return
        lease = _Lease(await self.checkout())
        token = self._lease.set(lease)
        try:
            yield
        finally:
            self._lease.reset(token)
            connection, lease.connection = lease.connection, None
            if connection is not None:
                await self.checkin(connection)

    # What Piccolo calls ------------------------------------------------------------------------

    async def get_connection(self) -> Any:
        """The connection a transaction (or a batch) runs on: the unit of work's, unless a
        sibling task of the same unit already holds a transaction open on it."""
        lease = self._lease.get()
        if lease is not None and lease.connection is not None and not lease.in_transaction:
            return _Borrowed(lease, lease.connection)
        return await self._open()

    async def _run_in_existing_connection(
        self,
        connection: Any,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        # The pragmas were set when the connection opened (Piccolo repeats one per query), and
        # RETURNING is always there (checked in __init__), so a query is one statement.
        async with connection.execute(query, args or []) as cursor:
            return await cursor.fetchall()

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        connection = self.leased()
        if connection is not None:
            # Autocommit (isolation_level None): the statement commits by itself, and never
            # commits a transaction that a sibling task of this unit has open on the connection.
            return await self._run_in_existing_connection(connection, query, args)
        connection = await self._open()
        try:
            return await self._run_in_existing_connection(connection, query, args)
        finally:
            await connection.close()

    async def enable_wal(self) -> None:
        """Switch the file to write-ahead logging. The mode is stored in the file, so this runs
        when the database is created or migrated; it is a no-op when already on."""
        await self._run_in_new_connection("PRAGMA journal_mode = WAL")


def engine() -> Engine[Any]:
    """The engine Piccolo chose from `DATABASE_URL` (see `tandem.piccolo_conf`)."""
    from tandem.core.tables import AuditEvent

    return AuditEvent._meta.db


def unit_of_work() -> Any:
    """Lend one SQLite connection to everything run inside (reentrant); nothing on PostgreSQL,
    whose pool hands out a connection per query at no real cost."""
    current = engine()
    if isinstance(current, PooledSQLiteEngine):
        return current.unit_of_work()
    return _nothing()


@asynccontextmanager
async def _nothing() -> AsyncIterator[None]:
    yield


def connection_per_request(app: ASGIApp) -> ASGIApp:
    """ASGI middleware (outermost, so the session store shares it): one unit of work per request."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        async with unit_of_work():
            await app(scope, receive, send)

    return middleware


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


def for_update(query: _T) -> _T:
    """Lock the rows a select returns until the surrounding transaction ends.

    Use it where a service reads a row to decide a write (a mentor's capacity before approving
    a match, a concern's state before escalating), so two requests cannot both decide on the
    same old value. PostgreSQL takes `SELECT ... FOR UPDATE`; on SQLite the IMMEDIATE
    transaction of `transaction()` already holds the database's write lock, which serves the
    same purpose. Outside a transaction a lock would end with the statement, so that is refused.
    """
    current = engine()
    if current.current_transaction.get() is None:
        raise RuntimeError("for_update() only makes sense inside `async with transaction():`")
    if isinstance(current, SQLiteEngine):
        return query
    return query.lock_rows("UPDATE")
