"""PostgreSQL's pool gives a connection back without asyncpg's reset query, and that is safe.

asyncpg resets every connection given back to its pool (`pg_advisory_unlock_all(); CLOSE ALL;
UNLISTEN *; RESET ALL`), a second round trip for each query Piccolo runs outside a transaction.
`core.database.start_pool` turns that off. It is safe only while nothing in Tandem leaves
session state on a connection, which the first test reads from the source; the others check,
on a real PostgreSQL pool, that the reset is gone and that a transaction left open is still
rolled back when its connection goes back.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

from tandem.core.database import start_pool

pytestmark = pytest.mark.anyio

PLATFORM = Path(__file__).resolve().parents[2] / "platform"
# Session state a connection would carry to its next user: session-level advisory locks,
# LISTEN, SET / RESET / DECLARE statements and set_config() (transaction-level forms are fine).
SESSION_STATE = re.compile(
    r"pg_(try_)?advisory_lock(_shared)?\s*\("
    r"|\bset_config\s*\("
    r"|\.add_listener\s*\("
    r"|[\"']\s*(SET|RESET|LISTEN|DECLARE)\s",
    re.IGNORECASE,
)
ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")


def test_nothing_in_tandem_leaves_session_state_on_a_connection() -> None:
    found = [
        f"{path.relative_to(PLATFORM)}:{number}: {line.strip()}"
        for path in PLATFORM.rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if SESSION_STATE.search(line)
    ]
    assert found == [], "session state outlives the query; the pool no longer resets it:\n" + (
        "\n".join(found)
    )


@pytest.fixture
async def pool_of_one():
    """A pool of one connection, opened as the app opens its own (`start_pool`)."""
    engine = PostgresEngine(config={"dsn": os.environ["DATABASE_URL"]})
    await start_pool(engine, size=1)
    try:
        yield engine
    finally:
        await engine.close_connection_pool()


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL's pool (make test-postgres)")
async def test_a_query_outside_a_transaction_is_one_round_trip(pool_of_one) -> None:
    sent: list[str] = []
    async with pool_of_one.pool.acquire() as connection:
        connection.add_query_logger(lambda record: sent.append(record.query))
    await pool_of_one.run_querystring(QueryString("SELECT 1 AS one"))
    await pool_of_one.run_querystring(QueryString("SELECT 2 AS two"))
    assert sent == ["SELECT 1 AS one", "SELECT 2 AS two"]


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL's pool (make test-postgres)")
async def test_a_transaction_left_open_is_still_rolled_back_on_release(pool_of_one) -> None:
    async with pool_of_one.pool.acquire() as connection:
        await connection.execute("CREATE TEMPORARY TABLE IF NOT EXISTS left_open (n int)")
        await connection.execute("BEGIN")
        await connection.execute("INSERT INTO left_open VALUES (1)")
    rows = await pool_of_one.run_querystring(QueryString("SELECT count(*) AS n FROM left_open"))
    assert [row["n"] for row in rows] == [0]
