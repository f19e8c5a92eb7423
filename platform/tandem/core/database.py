"""How Tandem talks to its database: the engine, transactions, one writer at a time, row locks.

On SQLite, Piccolo's `SQLiteEngine` opens a new connection (a thread, a file open, a pragma) for
every query, and a thread hop per statement cost more than the small indexed reads of a page.
`PooledSQLiteEngine` keeps two connections while the app runs, each set up once:

- **a reader**, used straight from the event loop: in WAL mode a read never waits for a writer,
  so a short SELECT is cheaper run in place than handed to a thread and back. It is opened
  `query_only`, so a write sent to it by mistake fails loudly instead of skipping the queue.
- **a writer**, with a queue in front of it: every transaction and every write outside one waits
  its turn (first come, first served) for the one writer connection, and runs there in its
  thread. SQLite allows one writer anyway; queueing here instead of in SQLite's busy handler
  (which sleeps and retries) keeps a burst of writes from turning into seconds of p99. Other
  processes on the same file still meet at SQLite's lock, with the busy timeout.

Nothing here ever opens a connection per request, so concurrency no longer means connections.
Outside the app (the CLI, migrations, scripts) and on a file not in WAL mode, each query opens
its own connection, as Piccolo does.

PostgreSQL keeps Piccolo's asyncpg pool (sized in settings), with two changes (`_FairPool`):
connections go to whoever has waited longest, and within a request every query and transaction
runs on the one connection the request took at its first query (`connection_per_request`).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import aiosqlite
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory
from piccolo.query.base import Query
from piccolo.query.methods.select import First, Select
from piccolo.querystring import QueryString
from piccolo.table import Table

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send

# WAL lets readers go on while one writer writes (the rollback journal blocked every reader);
# NORMAL is durable across application crashes in WAL mode and only a power loss can drop the
# last commits, never corrupt the file. Set per connection, once, when it opens.
CONNECTION_PRAGMAS = "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;"

_T = TypeVar("_T", bound=Select[Any])
_Q = TypeVar("_Q", bound=Query[Any, Any])


def _is_read(query: str) -> bool:
    """A plain SELECT (Piccolo's select, count, exists, objects): safe on the reader."""
    return query.lstrip()[:6].upper() == "SELECT"


class _Turn:
    """The writer connection lent to one transaction, which closes its connection when it
    ends: closing this one only hands the writer to the next in the queue."""

    __slots__ = ("_connection", "_lock", "_returned")

    def __init__(self, connection: aiosqlite.Connection, lock: asyncio.Lock) -> None:
        object.__setattr__(self, "_connection", connection)
        object.__setattr__(self, "_lock", lock)
        object.__setattr__(self, "_returned", False)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._connection, name, value)

    async def close(self) -> None:
        if self._returned:
            return
        object.__setattr__(self, "_returned", True)
        try:
            if self._connection.in_transaction:  # never hand on a half-done transaction
                await self._connection.rollback()
        finally:
            self._lock.release()


class _QueuedTransaction(SQLiteTransaction):
    """Piccolo's transaction, which gives its turn back even when BEGIN or COMMIT fails
    (Piccolo then never closes its connection, and the queue would stop there)."""

    __slots__ = ()

    async def begin(self) -> None:
        try:
            await super().begin()
        except BaseException:
            await self.connection.close()
            raise

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent is not None:
            return await super().__aexit__(exception_type, exception, traceback)
        try:
            return await super().__aexit__(exception_type, exception, traceback)
        finally:
            if self.engine.current_transaction.get() is self:  # Piccolo stopped before it
                self.engine.current_transaction.reset(self.context)
            await self.connection.close()  # a no-op when Piccolo already closed it


class PooledSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine with a kept reader and a queued writer (see the module text).

    `start_connection_pool()` (the app's lifespan) keeps them until the last user closes it.
    """

    def __init__(self, path: str, *, busy_timeout_seconds: float) -> None:
        if sqlite3.sqlite_version_info < (3, 35):
            raise RuntimeError("Tandem needs SQLite 3.35 or newer (for RETURNING).")
        super().__init__(path=path, timeout=busy_timeout_seconds)
        self._pool_users = 0
        self._reader: sqlite3.Connection | None = None
        self._writer: aiosqlite.Connection | None = None
        self._queue: asyncio.Lock | None = None  # FIFO: waiters are served in arrival order
        self.opened = 0  # connections opened so far (tests check that none open per request)

    # Connections -------------------------------------------------------------------------------

    async def _open(self) -> aiosqlite.Connection:
        self.opened += 1
        connection = await aiosqlite.connect(**self.connection_kwargs)
        connection.row_factory = dict_factory  # type: ignore[assignment]
        await connection.executescript(CONNECTION_PRAGMAS)
        return connection

    def _open_reader(self) -> sqlite3.Connection | None:
        """The kept reader, or None when the file is not in WAL mode (there a read can wait
        for a writer, which must never happen on the event loop)."""
        self.opened += 1
        reader = sqlite3.connect(**self.connection_kwargs, check_same_thread=False)
        reader.row_factory = dict_factory
        reader.executescript(CONNECTION_PRAGMAS + "PRAGMA query_only = ON;")
        if reader.execute("PRAGMA journal_mode").fetchone()["journal_mode"] != "wal":
            reader.close()
            return None
        return reader

    async def start_connection_pool(self, **_: Any) -> None:
        """Keep the reader and the writer until the last user closes the pool."""
        self._pool_users += 1
        if self._pool_users == 1:
            self._queue = asyncio.Lock()
            self._reader = self._open_reader()

    async def close_connection_pool(self) -> None:
        self._pool_users = max(0, self._pool_users - 1)
        if self._pool_users:
            return
        reader, writer, self._reader, self._writer, self._queue = (
            self._reader,
            self._writer,
            None,
            None,
            None,
        )
        if reader is not None:
            reader.close()
        if writer is not None:
            await writer.close()

    async def _take_turn(self) -> _Turn | None:
        """Wait for the writer (None outside the app: no queue, a connection of one's own)."""
        queue = self._queue
        if queue is None:
            return None
        await queue.acquire()
        try:
            if self._writer is None:
                self._writer = await self._open()
            return _Turn(self._writer, queue)
        except BaseException:
            queue.release()
            raise

    # What Piccolo calls ------------------------------------------------------------------------

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.deferred,
        allow_nested: bool = True,
    ) -> SQLiteTransaction:
        return _QueuedTransaction(
            engine=self, transaction_type=transaction_type, allow_nested=allow_nested
        )

    async def get_connection(self) -> Any:
        """The connection a transaction runs on: the writer, once it is this one's turn."""
        return await self._take_turn() or await self._open()

    async def _run_in_existing_connection(
        self,
        connection: Any,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        # The pragmas were set when the connection opened (Piccolo repeats one per query), and
        # RETURNING is always there (checked in __init__), so a query is one statement. Run,
        # fetched and closed in one trip to the connection's thread: each trip is a hand-off
        # and a wake-up of the event loop, and execute, fetch and close were three.
        return await connection.execute_fetchall(query, args or [])

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        if self._reader is not None and _is_read(query):
            cursor = self._reader.execute(query, args or [])
            try:
                return cursor.fetchall()
            finally:
                cursor.close()
        turn = await self._take_turn()
        if turn is not None:
            # Autocommit (isolation_level None): the statement commits by itself.
            try:
                return await self._run_in_existing_connection(turn, query, args)
            finally:
                await turn.close()
        connection = await self._open()
        try:
            return await self._run_in_existing_connection(connection, query, args)
        finally:
            await connection.close()

    async def enable_wal(self) -> None:
        """Switch the file to write-ahead logging. The mode is stored in the file, so this runs
        when the database is created or migrated; it is a no-op when already on."""
        await self._run_in_new_connection("PRAGMA journal_mode = WAL")


async def _keep_session_state(_: Any) -> None:
    """What the PostgreSQL pool does to a connection given back, beyond what asyncpg always
    does (roll back a transaction left open, drop listeners): nothing.

    asyncpg's default sends `pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL` after
    every query Piccolo runs outside a transaction, a second round trip to the server for each
    one. Tandem never leaves session state on a connection: its advisory locks are transaction
    locks (`pg_advisory_xact_lock`), it opens no cursors, listens to nothing and sets nothing
    beyond a transaction (`tests/integration/test_database_session_state.py` holds this).
    """


class _Held:
    """The connection one request took from the pool, kept to the request's end."""

    __slots__ = ("connection",)

    def __init__(self) -> None:
        self.connection: Any = None


# The request's own connection while a request runs on PostgreSQL; None elsewhere (the CLI,
# the app's background loops, a test calling a service directly).
_held_by_request: ContextVar[_Held | None] = ContextVar("tandem_request_connection", default=None)


class _FairPool:
    """asyncpg's pool, handing its connections out in the order they were asked for, and one
    connection per request.

    asyncpg waits for a free connection on an `asyncio.Queue`, and a connection given back
    goes to whoever asks next, not to whoever has waited longest: the woken waiter finds the
    queue empty again and goes back to the end of the line (asyncpg issue 1247). With 50
    requests sharing 10 connections, one query each at a time, some requests lost that race
    over and over: at 50 concurrent the median page took 35 ms and the slowest 1% 300 ms.
    A semaphore as wide as the pool stands in front of it (asyncio's is first come, first
    served), so asyncpg's queue always has a connection when asked and nobody can jump it.

    Inside a request (`connection_per_request`), the first query takes a connection and every
    later query and transaction of the request runs on it: a page of eight queries waits for
    the pool once, not eight times, and pays asyncpg's acquire and release once. Piccolo
    takes connections with `acquire()` (awaited, or as a context) and gives transactions'
    back with `release()`; everything else goes to asyncpg's pool as is.
    """

    def __init__(self, pool: Any, size: int) -> None:
        self._pool = pool
        self._turns = asyncio.Semaphore(size)

    def acquire(self) -> _FairAcquire:
        return _FairAcquire(self, _held_by_request.get())

    async def take(self) -> Any:
        await self._turns.acquire()
        try:
            return await self._pool.acquire()
        except BaseException:
            self._turns.release()
            raise

    async def release(self, connection: Any) -> None:
        held = _held_by_request.get()
        if held is not None and held.connection is connection:
            return  # the request's own: given back when the request ends
        try:
            await self._pool.release(connection)
        finally:
            self._turns.release()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)


class _FairAcquire:
    """`pool.acquire()` as asyncpg's is used: awaited, or `async with` to give it back."""

    __slots__ = ("_connection", "_held", "_pool")

    def __init__(self, pool: _FairPool, held: _Held | None) -> None:
        self._pool = pool
        self._held = held
        self._connection: Any = None

    async def _take(self) -> Any:
        if self._held is None:
            return await self._pool.take()
        if self._held.connection is None:
            self._held.connection = await self._pool.take()
        return self._held.connection

    def __await__(self) -> Any:
        return self._take().__await__()

    async def __aenter__(self) -> Any:
        self._connection = await self._take()
        return self._connection

    async def __aexit__(self, *_: object) -> None:
        await self._pool.release(self._connection)


def connection_per_request(app: ASGIApp) -> ASGIApp:
    """Middleware, outermost: on PostgreSQL each HTTP request runs its queries on one pooled
    connection, taken at its first query (a request that reads nothing takes none) and given
    back when the response is sent. Nothing in a request runs two queries at once, so one
    connection serves it; the app's background loops are not requests and use the pool."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        pool = getattr(engine(), "pool", None)
        if scope["type"] != "http" or not isinstance(pool, _FairPool):
            await app(scope, receive, send)
            return
        held = _Held()
        token = _held_by_request.set(held)
        try:
            await app(scope, receive, send)
        finally:
            _held_by_request.reset(token)
            if held.connection is not None:
                await pool.release(held.connection)

    return middleware


async def start_pool(database: Engine[Any], size: int | None = None) -> None:
    """Open this process's connections: PostgreSQL's pool (`size` connections, or asyncpg's
    default of 10), handed out fairly and without the per-query reset; SQLite's kept reader
    and writer.

    The pool is fixed in size, so asyncpg's timer for closing an idle connection (armed at
    every release, one per query) is off."""
    if isinstance(database, PostgresEngine):
        size = size or 10
        await database.start_connection_pool(
            reset=_keep_session_state,
            min_size=size,
            max_size=size,
            max_inactive_connection_lifetime=0,
        )
        database.pool = _FairPool(database.pool, size)  # type: ignore[assignment]
    else:
        await database.start_connection_pool()


def engine() -> Engine[Any]:
    """The engine Piccolo chose from `DATABASE_URL` (see `tandem.piccolo_conf`)."""
    from tandem.core.tables import AuditEvent

    return AuditEvent._meta.db


def transaction() -> Any:
    """A transaction on the configured engine.

    On SQLite it starts IMMEDIATE: services read, then write, inside one transaction, and a
    deferred transaction that later tries to write fails with "database is locked" when another
    process's writer got there first. Taking the write lock up front makes writers of other
    processes queue (up to the busy timeout); within the app, transactions already wait their
    turn for the writer. PostgreSQL needs nothing special.
    """
    current = engine()
    if isinstance(current, SQLiteEngine):
        return current.transaction(transaction_type=TransactionType.immediate)
    return current.transaction()


class _Parameter:
    """Stands in for a value while a prepared query is built once; where it lands in the
    compiled arguments is where each run's value goes (`item`: the place in a list value)."""

    __slots__ = ("index", "item")

    def __init__(self, index: int, item: int | None = None) -> None:
        self.index = index
        self.item = item

    def value(self, values: tuple[Any, ...]) -> Any:
        return values[self.index] if self.item is None else values[self.index][self.item]


_Shape = tuple[str, tuple[int | None, ...]]


class Prepared(Generic[_Q]):
    """A Piccolo query built and compiled once per process, then run with new values.

    Building a select with joins and compiling it costs Piccolo about 0.6 ms, more than ten
    times what SQLite takes to run it; the caller and the session are loaded on every request.
    `build` receives one stand-in per value and must put each one, as is, where a value goes
    (a comparison, a limit; a list value, for `is_in`, comes as a list of stand-ins): the SQL
    text is then the same for every value, and only the arguments change. A list gets one
    compiled form per length. Values go to the database as given (pass `enum.value`, not the
    enum). The run goes through the engine's `run_querystring` like any query (so transactions
    and the query budget tests see it) and Piccolo's own result handling (`first()`, JSON).
    """

    def __init__(self, build: Callable[..., _Q | First], parameters: int) -> None:
        self._build = build
        self._parameters = parameters
        self._compiled: dict[_Shape, tuple[Any, str, list[Any]]] = {}

    def _prepare(self, shape: _Shape) -> tuple[Any, str, list[Any]]:
        engine_type, lengths = shape
        query: Any = self._build(
            *(
                _Parameter(i) if n is None else [_Parameter(i, k) for k in range(n)]
                for i, n in enumerate(lengths)
            )
        )
        (querystring,) = (query.query if isinstance(query, First) else query).querystrings
        sql, args = querystring.compile_string(engine_type=engine_type)
        placed = sorted((a.index, a.item or 0) for a in args if isinstance(a, _Parameter))
        wanted = sorted((i, k) for i, n in enumerate(lengths) for k in range(1 if n is None else n))
        if placed != wanted:
            raise ValueError("every value of a prepared query must appear once, as given")
        self._compiled[shape] = (query, sql, args)
        return query, sql, args

    async def run(self, *values: Any) -> Any:
        if len(values) != self._parameters:
            raise TypeError(f"this query takes {self._parameters} values, not {len(values)}")
        current = engine()
        shape = (
            current.engine_type,
            tuple(len(v) if isinstance(v, list) else None for v in values),
        )
        query, sql, args = self._compiled.get(shape) or self._prepare(shape)
        querystring = QueryString(sql, query_type="select", table=query.table)
        querystring._frozen_compiled_strings = (
            sql,
            [arg.value(values) if isinstance(arg, _Parameter) else arg for arg in args],
        )
        inner = query.query if isinstance(query, First) else query
        rows = await inner._process_results(await current.run_querystring(querystring))
        if isinstance(query, First):
            return rows[0] if rows else None
        return rows


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
