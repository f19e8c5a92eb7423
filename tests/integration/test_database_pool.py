"""PostgreSQL's pool hands out connections first come, first served, and one per request.

`core.database.start_pool` puts a first-come-first-served gate in front of asyncpg's pool
(whose own queue lets a task that just gave a connection back take it again ahead of those
waiting, asyncpg issue 1247), and `connection_per_request` gives each HTTP request one
connection for all its queries and transactions. These run on a real PostgreSQL pool
(`make test-postgres`); on SQLite there is no pool and they are skipped.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from litestar import Litestar
from piccolo.engine.postgres import PostgresEngine
from piccolo.querystring import QueryString

from tandem.core import database
from tandem.core.auth import Role
from tandem.settings import Settings

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="PostgreSQL's pool (make test-postgres)",
    ),
]

POOL_SIZE = 2


@pytest.fixture
async def pool_of_two() -> AsyncIterator[PostgresEngine]:
    engine = PostgresEngine(config={"dsn": os.environ["DATABASE_URL"]})
    await database.start_pool(engine, size=2)
    try:
        yield engine
    finally:
        await engine.close_connection_pool()


async def test_nobody_waiting_for_a_connection_is_overtaken(pool_of_two) -> None:
    """Twenty tasks share two connections, each asking again a moment after it gave one back,
    as requests do between queries. First come, first served, a task waits while at most the
    nineteen others are served once each; asyncpg's own queue let some wait through 60 to 85
    grants to others (asyncpg issue 1247), the slow tail of a busy page."""
    workers, granted = 20, 0
    worst: dict[int, int] = {}

    async def worker(number: int) -> None:
        nonlocal granted
        for _ in range(30):
            asked = granted
            async with pool_of_two.pool.acquire() as connection:
                worst[number] = max(worst.get(number, 0), granted - asked)
                granted += 1
                await connection.fetchval("SELECT 1")
            for _ in range(number % 3):  # other work before the next query
                await anyio.lowlevel.checkpoint()

    async with anyio.create_task_group() as group:
        for number in range(workers):
            group.start_soon(worker, number)
    assert granted == workers * 30
    assert max(worst.values()) <= workers - 1


async def test_a_transaction_takes_and_gives_back_a_connection_outside_a_request(
    pool_of_two,
) -> None:
    """Outside a request (the CLI, background loops), a transaction holds its own connection
    until it ends, and then gives it back."""
    async with pool_of_two.transaction():
        assert pool_of_two.pool._turns._value == 1
        rows = await pool_of_two.run_querystring(QueryString("SELECT 1 AS one"))
    assert [row["one"] for row in rows] == [1]
    assert pool_of_two.pool._turns._value == 2


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A pool smaller than the number of requests below, so they have to share."""
    return dataclasses.replace(settings, database_pool_size=POOL_SIZE)


@pytest.fixture
def takes(app: Litestar, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many connections have been taken from the app's pool so far (one entry each)."""
    from tandem.piccolo_conf import DB

    taken: list[int] = []
    pool = DB.pool
    assert isinstance(pool, database._FairPool)
    original = pool.take

    async def counted() -> Any:
        taken.append(1)
        return await original()

    monkeypatch.setattr(pool, "take", counted)
    return taken


def _free_connections() -> int:
    from tandem.piccolo_conf import DB

    return DB.pool._turns._value


async def test_a_request_runs_all_its_queries_on_one_connection(make_client, people, takes) -> None:
    mentor = await make_client()
    await mentor.login(people.a[Role.MENTOR].username)
    before = len(takes)
    response = await mentor.get("/home")  # six queries
    assert response.status_code == 200
    assert len(takes) - before == 1
    assert _free_connections() == POOL_SIZE  # given back with the response


async def test_a_request_that_writes_uses_its_one_connection_for_the_transaction(
    make_client, people, takes
) -> None:
    newcomer = await make_client()
    await newcomer.login(people.a[Role.NEWCOMER].username)
    before = len(takes)
    response = await newcomer.put("/api/v1/intake", json=_intake())
    assert response.status_code == 200, response.text
    assert len(takes) - before == 1  # the session, the transaction and its reads
    assert _free_connections() == POOL_SIZE
    assert (await newcomer.get("/api/v1/intake")).json()["pathways"] == ["harm_reduction"]


async def test_a_request_that_fails_gives_its_connection_back(make_client, people) -> None:
    newcomer = await make_client()
    await newcomer.login(people.a[Role.NEWCOMER].username)
    response = await newcomer.put("/api/v1/intake", json={**_intake(), "pathways": ["nope"]})
    assert response.status_code == 400, response.text
    assert _free_connections() == POOL_SIZE


async def test_more_requests_than_connections_all_complete(make_client, people) -> None:
    """Twenty people at once on two connections, reading and writing: nobody waits forever
    (a request never holds one connection while waiting for a second)."""
    clients = []
    for role in (Role.MENTOR, Role.NEWCOMER, Role.SUPERVISOR):
        client = await make_client()
        await client.login(people.a[role].username)
        clients.append((role, client))
    statuses: list[int] = []

    async def visit(role: Role, client: Any) -> None:
        if role is Role.NEWCOMER:
            response = await client.put("/api/v1/intake", json=_intake())
        else:
            response = await client.get("/home" if role is Role.MENTOR else "/staff/matches")
        statuses.append(response.status_code)

    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            for index in range(20):
                group.start_soon(visit, *clients[index % 3])
    assert statuses == [200] * 20
    assert _free_connections() == POOL_SIZE


def _intake() -> dict[str, Any]:
    from tests.support.journey import INTAKE

    return {**INTAKE, "pathways": ["harm_reduction"]}
