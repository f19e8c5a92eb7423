"""The database layer: SQLite's kept reader and queued writer, transactions, WAL, and
`for_update()` row locks, on whichever database the suite runs against."""

from __future__ import annotations

import sqlite3
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
    """An engine on its own file (whatever database the suite uses), opened like the app opens
    it: WAL switched on as migrations do, the kept connections started as the lifespan does."""
    engine = PooledSQLiteEngine(path=str(tmp_path / "pool.sqlite"), busy_timeout_seconds=5)
    await engine.enable_wal()
    await engine.run_ddl("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)")
    await engine.run_ddl("INSERT INTO counter (id, n) VALUES (1, 0)")
    await engine.start_connection_pool()
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


async def test_reads_writes_and_transactions_open_no_connection_of_their_own(sqlite) -> None:
    opened = sqlite.opened
    for _ in range(5):
        await _count(sqlite)
    await _increment(sqlite)
    await sqlite.run_querystring(QueryString("UPDATE counter SET n = n + 1 WHERE id = 1"))
    async with sqlite.transaction(), sqlite.transaction():  # nested: the same one
        await _count(sqlite)
    assert await _count(sqlite) == 2
    assert sqlite.opened == opened + 1, "only the writer opened, once, and was kept"


async def test_connections_open_with_wal_and_their_pragmas_set_once(sqlite) -> None:
    async with sqlite.transaction():  # on the writer
        pragmas = {
            name: (await sqlite.run_querystring(QueryString(f"PRAGMA {name}")))[0]
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    assert pragmas["journal_mode"] == {"journal_mode": "wal"}
    assert pragmas["synchronous"] == {"synchronous": 1}  # NORMAL
    assert pragmas["foreign_keys"] == {"foreign_keys": 1}
    assert pragmas["busy_timeout"] == {"timeout": 5000}


async def test_the_reader_refuses_a_write_that_skipped_the_queue(sqlite) -> None:
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        sqlite._reader.execute("UPDATE counter SET n = 7")
    assert await _count(sqlite) == 0


async def test_a_reader_sees_only_committed_rows_while_a_transaction_is_open(sqlite) -> None:
    inside = anyio.Event()
    seen: list[int] = []

    async def write() -> None:
        async with sqlite.transaction(transaction_type=TransactionType.immediate):
            await sqlite.run_querystring(QueryString("UPDATE counter SET n = 5"))
            assert await _count(sqlite) == 5, "the transaction reads its own write"
            inside.set()
            await anyio.sleep(0.05)

    async def read() -> None:
        await inside.wait()
        seen.append(await _count(sqlite))

    async with anyio.create_task_group() as group:
        group.start_soon(write)
        group.start_soon(read)
    assert seen == [0]
    assert await _count(sqlite) == 5


async def _fail_halfway(engine: PooledSQLiteEngine) -> None:
    async with engine.transaction(transaction_type=TransactionType.immediate):
        await engine.run_querystring(QueryString("UPDATE counter SET n = 41"))
        raise RuntimeError("the rule said no")


async def test_a_failed_transaction_rolls_back_and_hands_the_writer_on(sqlite) -> None:
    with pytest.raises(RuntimeError):
        await _fail_halfway(sqlite)
    assert await _count(sqlite) == 0
    await _increment(sqlite)
    assert await _count(sqlite) == 1


async def test_a_failed_commit_hands_the_writer_on(sqlite) -> None:
    await sqlite.run_ddl(
        "CREATE TABLE child (id INTEGER PRIMARY KEY,"
        " counter INTEGER REFERENCES counter (id) DEFERRABLE INITIALLY DEFERRED)"
    )
    with pytest.raises(sqlite3.IntegrityError):
        async with sqlite.transaction(transaction_type=TransactionType.immediate):
            await sqlite.run_querystring(QueryString("INSERT INTO child (counter) VALUES (99)"))
    assert sqlite.current_transaction.get() is None, "the failed one is no longer current"
    await _increment(sqlite)  # would wait forever if the failed commit kept the writer
    assert await _count(sqlite) == 1


async def test_concurrent_writers_and_sibling_tasks_queue_for_the_writer(sqlite) -> None:
    async def request() -> None:
        # Two services of one request, running side by side, and a write outside a transaction.
        async with anyio.create_task_group() as siblings:
            siblings.start_soon(_increment, sqlite)
            siblings.start_soon(_increment, sqlite)
            siblings.start_soon(
                sqlite.run_querystring, QueryString("UPDATE counter SET n = n + 1 WHERE id = 1")
            )

    async with anyio.create_task_group() as requests:
        for _ in range(5):
            requests.start_soon(request)
    assert await _count(sqlite) == 15


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


# The reads every page makes, with the index over both of their columns they must use (SQLite,
# without statistics, otherwise picks the first one-column index: every notice of the program).
PAGE_READS = [
    (
        "SELECT COUNT(*) FROM notice WHERE recipient = 1 AND program = 1 AND read_at IS NULL",
        "notice_unread",
    ),
    (
        "SELECT id FROM mentor_match WHERE program = 1 AND status = 'active'",
        "mentor_match_program_status",
    ),
    (
        "SELECT id FROM match_request WHERE program = 1 AND status = 'waiting'",
        "match_request_program_status",
    ),
    (
        "SELECT id FROM match_proposal WHERE program = 1 AND status = 'pending'",
        "match_proposal_program_status",
    ),
    (
        "SELECT id FROM safety_concern WHERE program = 1 AND status = 'open'",
        "safety_concern_program_status",
    ),
]


@pytest.mark.parametrize(("query", "index"), PAGE_READS)
async def test_the_migrations_index_what_every_page_reads_on_two_columns(app, query, index) -> None:
    from tandem.piccolo_conf import DB

    if DB.engine_type == "sqlite":
        plan = await DB.run_querystring(QueryString(f"EXPLAIN QUERY PLAN {query}"))
        assert index in " ".join(str(row["detail"]) for row in plan)
    else:
        rows = await DB.run_querystring(
            QueryString("SELECT indexname FROM pg_indexes WHERE indexname = {}", index)
        )
        assert [row["indexname"] for row in rows] == [index]
