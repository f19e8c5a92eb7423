"""The database layer: one SQLite connection per unit of work, transactions on it, WAL, and
`for_update()` row locks, on whichever database the suite runs against."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from piccolo.engine.sqlite import TransactionType
from piccolo.querystring import QueryString

from tandem.accounts.tables import Program
from tandem.core.clock import clock
from tandem.core.database import PooledSQLiteEngine, for_update, transaction

pytestmark = pytest.mark.anyio


@pytest.fixture
async def sqlite(tmp_path: Path):
    """A pooled engine on its own file (whatever database the suite uses), opened like the app
    opens it: WAL switched on as migrations do, the pool started as the lifespan does."""
    engine = PooledSQLiteEngine(
        path=str(tmp_path / "pool.sqlite"), pool_size=2, busy_timeout_seconds=5
    )
    await engine.enable_wal()
    await engine.run_ddl("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)")
    await engine.run_ddl("INSERT INTO counter (id, n) VALUES (1, 0)")
    await engine.start_connection_pool()
    opened: list[object] = []
    open_connection = engine._open

    async def counting_open():
        connection = await open_connection()
        opened.append(connection)
        return connection

    engine._open = counting_open  # type: ignore[method-assign]
    engine.opened = opened  # type: ignore[attr-defined]
    yield engine
    await engine.close_connection_pool()


async def _count(engine: PooledSQLiteEngine) -> int:
    rows = await engine.run_querystring(QueryString("SELECT n FROM counter WHERE id = 1"))
    return rows[0]["n"]


async def _increment(engine: PooledSQLiteEngine) -> None:
    async with engine.transaction(transaction_type=TransactionType.immediate):
        n = await _count(engine)
        await anyio.sleep(0.01)  # let another writer try to get in between
        await engine.run_querystring(QueryString("UPDATE counter SET n = {} WHERE id = 1", n + 1))


async def test_a_unit_of_work_runs_every_query_on_one_connection_kept_for_the_next(
    sqlite,
) -> None:
    async with sqlite.unit_of_work():
        for _ in range(5):
            await _count(sqlite)
        await _increment(sqlite)  # a transaction, and a nested one, on the same connection
        async with sqlite.transaction(), sqlite.transaction():
            await _count(sqlite)
    assert len(sqlite.opened) == 1
    # Reentrant: a nested unit shares the connection.
    async with sqlite.unit_of_work(), sqlite.unit_of_work():
        assert await _count(sqlite) == 1
    assert len(sqlite.opened) == 1, "the second unit reused the kept connection"


async def test_connections_open_with_wal_and_their_pragmas_set_once(sqlite) -> None:
    async with sqlite.unit_of_work():
        pragmas = {
            name: (await sqlite.run_querystring(QueryString(f"PRAGMA {name}")))[0]
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    assert pragmas["journal_mode"] == {"journal_mode": "wal"}
    assert pragmas["synchronous"] == {"synchronous": 1}  # NORMAL
    assert pragmas["foreign_keys"] == {"foreign_keys": 1}
    assert pragmas["busy_timeout"] == {"timeout": 5000}


async def _fail_halfway(engine: PooledSQLiteEngine) -> None:
    async with engine.transaction(transaction_type=TransactionType.immediate):
        await engine.run_querystring(QueryString("UPDATE counter SET n = 41"))
        raise RuntimeError("the rule said no")


async def test_a_failed_transaction_rolls_back_and_leaves_the_connection_clean(sqlite) -> None:
    async with sqlite.unit_of_work():
        with pytest.raises(RuntimeError):
            await _fail_halfway(sqlite)
        assert await _count(sqlite) == 0
        await _increment(sqlite)
    assert await _count(sqlite) == 1


async def test_concurrent_units_and_sibling_tasks_queue_for_the_write_lock(sqlite) -> None:
    async def request() -> None:
        # Two services of one request, running side by side.
        async with sqlite.unit_of_work(), anyio.create_task_group() as siblings:
            siblings.start_soon(_increment, sqlite)
            siblings.start_soon(_increment, sqlite)

    async with anyio.create_task_group() as requests:
        for _ in range(5):
            requests.start_soon(request)
    assert await _count(sqlite) == 10


async def test_a_task_that_outlives_its_unit_never_shares_a_returned_connection(sqlite) -> None:
    outlived = anyio.Event()
    done = anyio.Event()

    async def late_query() -> None:
        await outlived.wait()
        assert sqlite.leased() is None
        await _count(sqlite)
        done.set()

    async with anyio.create_task_group() as group:
        async with sqlite.unit_of_work():
            group.start_soon(late_query)  # copies the unit's context
        outlived.set()
        await done.wait()


async def test_for_update_is_refused_outside_a_transaction(app) -> None:
    with pytest.raises(RuntimeError, match="inside"):
        for_update(Program.select())


async def test_for_update_keeps_two_read_then_write_transactions_from_losing_an_update(
    app,
) -> None:
    await Program.insert(Program(slug="p", name="", settings="{}", created_at=clock.now()))

    async def append(mark: str) -> None:
        async with transaction():
            row = await for_update(Program.select(Program.name).where(Program.slug == "p")).first()
            await anyio.sleep(0.05)  # the other transaction reads now, unless it is held back
            await Program.update({Program.name: row["name"] + mark}).where(Program.slug == "p")

    async with anyio.create_task_group() as group:
        group.start_soon(append, "a")
        group.start_soon(append, "b")
    row = await Program.select(Program.name).where(Program.slug == "p").first()
    assert sorted(row["name"]) == ["a", "b"]
